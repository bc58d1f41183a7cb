import GantryAPI
import KubeCore
import KubeRuntime

/// The platform's levels at one moment, computed from the operator's caches: what the gauges of
/// `PlatformMetrics` show. A pure value (tested without a cluster); labels are only kind, namespace and phase,
/// never object names, so the number of series is bounded by namespaces, not by workloads.
public struct PlatformSnapshot: Sendable, Equatable {
    public struct KindInNamespace: Hashable, Sendable, Comparable {
        public var namespace: String
        public var kind: String
        public init(_ namespace: String, _ kind: String) {
            self.namespace = namespace
            self.kind = kind
        }
        public static func < (a: Self, b: Self) -> Bool { (a.namespace, a.kind) < (b.namespace, b.kind) }
    }
    public struct Phase: Hashable, Sendable {
        public var place: KindInNamespace
        public var phase: String
        public init(_ place: KindInNamespace, _ phase: String) {
            self.place = place
            self.phase = phase
        }
    }

    /// Objects of each Gantry kind by namespace and phase.
    public var workloads: [Phase: Int] = [:]
    /// GPUs the workloads ask for now (see `requestedGPUs(…)`), for every kind present in a namespace.
    public var requestedGPUs: [KindInNamespace: Int] = [:]
    /// GPUs held by Gantry's pods bound to a node and not finished, for every kind present in a namespace.
    public var allocatedGPUs: [KindInNamespace: Int] = [:]
    /// TrainingJobs in phase Queued, for every namespace with TrainingJobs.
    public var queuedTrainingJobs: [String: Int] = [:]

    /// The Kubernetes kind of each value of a child's `gantry.dev/kind` label.
    static let kindOfLabel = ["trainingjob": "TrainingJob", "inferenceservice": "InferenceService", "notebook": "Notebook"]

    public init() {}

    public init(trainingJobs: [JSONValue], inferenceServices: [JSONValue], notebooks: [JSONValue], experiments: [JSONValue] = [],
                pods: [JSONValue], gpu: GPUSettings) {
        let workloads = trainingJobs.map(Contribution.init(trainingJob:)) + inferenceServices.map(Contribution.init(inferenceService:))
            + notebooks.map(Contribution.init(notebook:)) + experiments.map(Contribution.init(experiment:))
        self.init(contributions: workloads + pods.compactMap { Contribution(pod: $0, gpu: gpu) })
    }

    /// The levels that these objects' contributions add up to (in any order).
    public init(contributions: some Sequence<Contribution>) {
        for c in contributions {
            if let phase = c.phase {
                workloads[Phase(c.place, phase), default: 0] += 1
                if c.asksForGPUs { requestedGPUs[c.place, default: 0] += c.gpus }
                if c.place.kind == "TrainingJob" { queuedTrainingJobs[c.place.namespace, default: 0] += phase == "Queued" ? 1 : 0 }
            } else {
                allocatedGPUs[c.place, default: 0] += c.gpus
                if requestedGPUs[c.place] == nil { requestedGPUs[c.place] = 0 }  // pods whose owner is gone: both series
            }
        }
        for place in requestedGPUs.keys where allocatedGPUs[place] == nil { allocatedGPUs[place] = 0 }
    }

    /// What one object adds to the levels, read from it once (PlatformMetrics keeps one per cached object and
    /// re-reads only the objects that changed): a workload counts in its phase and asks for `gpus`; a pod
    /// (`phase` nil) holds `gpus`.
    public struct Contribution: Sendable, Equatable {
        public var place: KindInNamespace
        public var phase: String?
        public var gpus: Int
        /// False for Experiments: they have no GPU series of their own.
        public var asksForGPUs = true

        public init(trainingJob job: JSONValue) {
            place = KindInNamespace(job.namespace ?? "default", "TrainingJob")
            phase = job[path: "status", "phase"]?.stringValue ?? "Pending"
            gpus = PlatformSnapshot.requestedGPUs(trainingJob: job)
        }
        public init(inferenceService service: JSONValue) {
            place = KindInNamespace(service.namespace ?? "default", "InferenceService")
            phase = PlatformSnapshot.phase(inferenceService: service)
            gpus = PlatformSnapshot.requestedGPUs(inferenceService: service)
        }
        public init(notebook: JSONValue) {
            place = KindInNamespace(notebook.namespace ?? "default", "Notebook")
            phase = notebook[path: "status", "phase"]?.stringValue ?? "Pending"
            gpus = PlatformSnapshot.requestedGPUs(notebook: notebook)
        }
        /// Experiments hold no GPUs themselves (their trials are TrainingJobs): counted by phase only.
        public init(experiment: JSONValue) {
            place = KindInNamespace(experiment.namespace ?? "default", "Experiment")
            phase = experiment[path: "status", "phase"]?.stringValue ?? "Pending"
            gpus = 0
            asksForGPUs = false
        }
        /// Nil for a pod that is not a Gantry kind's child.
        public init?(pod: JSONValue, gpu: GPUSettings) {
            guard let label = pod.labels[GantryLabels.kind], let kind = PlatformSnapshot.kindOfLabel[label] else { return nil }
            place = KindInNamespace(pod.namespace ?? "default", kind)
            phase = nil
            gpus = PlatformSnapshot.allocatedGPUs(pod: pod, gpu: gpu)
        }
    }

    /// A TrainingJob asks for its whole gang (`status.requestedGPUs`) while Queued, Admitted or Running; nothing
    /// before its first reconcile, or while suspended, invalid or finished.
    static func requestedGPUs(trainingJob job: JSONValue) -> Int {
        guard let phase = job[path: "status", "phase"]?.stringValue, ["Queued", "Admitted", "Running"].contains(phase) else { return 0 }
        return Int(job[path: "status", "requestedGPUs"]?.intValue ?? 0)
    }

    /// An InferenceService asks for its replicas' GPUs in the serving colour, and as many again for a candidate
    /// rolling out (blue/green holds both). A warm previous revision asks for nothing: its pods are leftovers
    /// kept for a rollback, so allocated can exceed requested for `scaleDownDelaySeconds`.
    static func requestedGPUs(inferenceService service: JSONValue) -> Int {
        let perPod = Int(service[path: "spec", "gpu", "count"]?.intValue ?? 0)
        let replicas = Int(service[path: "spec", "replicas"]?.intValue ?? 1)
        guard perPod > 0, service[path: "status", "activeRevision"] != nil else { return 0 }
        let candidate = service[path: "status", "candidate"]
        let rollingOut = candidate != nil && candidate?["phase"] != "Failed"
        return perPod * replicas * (rollingOut ? 2 : 1)
    }

    /// A Notebook asks for `status.gpus`: its request while it serves or starts, 0 while stopped or culled.
    static func requestedGPUs(notebook: JSONValue) -> Int {
        Int(notebook[path: "status", "gpus"]?.intValue ?? 0)
    }

    /// The GPU units a pod holds: its GPU extended resources (whole, time-sliced and MIG, each unit counted
    /// once) while it is bound to a node and not finished. A pod being deleted still holds them until it is gone.
    static func allocatedGPUs(pod object: JSONValue, gpu: GPUSettings) -> Int {
        let pod = Pod(json: object)
        guard pod.spec.nodeName != nil, pod.status.phase != "Succeeded", pod.status.phase != "Failed" else { return 0 }
        return SchedulingRules.extendedRequests(of: pod).filter { resource, _ in
            resource == gpu.effectiveResourceName || resource == gpu.effectiveSharedResourceName
                || resource.hasPrefix(gpu.effectiveMIGResourcePrefix)
        }.values.reduce(0, +)
    }

    /// The phase an InferenceService is counted in (it has no phase field): `RollingOut` or `RolloutFailed`
    /// while a candidate exists, else `Serving` (Ready), `Stalled`, `Degraded`, `Pending` (no revision yet) or
    /// `Starting`.
    static func phase(inferenceService service: JSONValue) -> String {
        let status = service["status"]
        if let candidate = status?["candidate"] { return candidate["phase"] == "Failed" ? "RolloutFailed" : "RollingOut" }
        func isTrue(_ type: String) -> Bool {
            status?["conditions"]?.arrayValue?.contains { $0["type"]?.stringValue == type && $0["status"] == "True" } ?? false
        }
        if isTrue(ConditionType.ready) { return "Serving" }
        if isTrue(ConditionType.stalled) { return "Stalled" }
        if isTrue("Degraded") { return "Degraded" }
        return status?["activeRevision"] == nil ? "Pending" : "Starting"
    }
}
