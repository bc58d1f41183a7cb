import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// Blue/green as a pure function. The status is the controller's memory: which revision serves in which colour
/// (`activeRevision`), which one is kept warm after a swap (`previousRevision` until `warmUntil`), and which one
/// is being rolled out (`candidate`). From it follow the children: the pods of each live revision, the alias
/// Service on the active colour, the preview Service on the candidate's, and the PodDisruptionBudget.
public struct InferenceServicePlanner: KindPlanner {
    public typealias Kind = InferenceServiceKind

    /// What a reconcile reads beyond the object and its pods: the platform's settings, the answers of a
    /// candidate being validated (sent once per revision; the outcome is then kept in status), the model's source
    /// run while the desired revision has none on record, and the cluster's GPUs while a blue/green candidate
    /// needs some.
    public struct Inputs: Sendable {
        public var platform: PlatformConfigSpec
        public var validation: InferenceServiceStatus.ValidationOutcome?
        public var source: ModelSourceResolution?
        public var gpu: GPUUsage?
        /// The analysed colour's metrics, read every analysis.intervalSeconds while an analysis runs.
        public var analysis: Result<AnalysisStatus.Reading, RolloutAnalysis.ReadFailure>?
        /// The autoscaler's metric, read every autoscaling.intervalSeconds.
        public var autoscaling: Result<AutoscalingReading, MetricsReadFailure>?
        /// The last lines of the validation job's log, once its pod has ended.
        public var validationLog: [String]?
        /// The pods of its DaemonSets (perNode colours, prepull): their owner is the DaemonSet, not the service.
        public var daemonPods: [JSONValue]
        /// The nodes, for a service asking for GPUs with a revision to make (whether any node can hold a replica)
        /// or `placement: perNode` (which of its DaemonSets' nodes can never hold one).
        public var nodes: [JSONValue]?
        public init(platform: PlatformConfigSpec, validation: InferenceServiceStatus.ValidationOutcome? = nil,
                    source: ModelSourceResolution? = nil, gpu: GPUUsage? = nil,
                    analysis: Result<AnalysisStatus.Reading, RolloutAnalysis.ReadFailure>? = nil,
                    autoscaling: Result<AutoscalingReading, MetricsReadFailure>? = nil, validationLog: [String]? = nil,
                    daemonPods: [JSONValue] = [], nodes: [JSONValue]? = nil) {
            self.nodes = nodes
            self.daemonPods = daemonPods
            self.validationLog = validationLog
            self.analysis = analysis
            self.autoscaling = autoscaling
            self.platform = platform
            self.validation = validation
            self.source = source
            self.gpu = gpu
        }
    }
    /// Written by `gantry promote`: the candidate revision hash to swap to when autoPromote is false.
    public static let promoteAnnotation = "gantry.dev/promote"
    /// Written by `gantry rollback`: the warm revision hash to swap back to while the spec still names the newer one.
    public static let rollbackAnnotation = "gantry.dev/rollback"

    let platform: @Sendable () async -> PlatformConfigSpec
    let validate: @Sendable (InferenceService, String, [ValidationRequest]) async -> InferenceServiceStatus.ValidationOutcome?
    let source: @Sendable (_ namespace: String, _ job: String) async -> ModelSourceResolution
    let gpuUsage: @Sendable () async -> GPUUsage
    let readAnalysis: @Sendable (InferenceService, InferenceServiceStatus.Revision) async -> Result<AnalysisStatus.Reading, RolloutAnalysis.ReadFailure>
    let readAutoscaling: @Sendable (InferenceService, InferenceServiceStatus.Revision?, _ replicas: Int) async -> Result<AutoscalingReading, MetricsReadFailure>
    let validationLog: @Sendable (InferenceService, _ pod: String) async -> [String]?
    let daemonPods: @Sendable (InferenceService) async -> [JSONValue]
    let nodes: @Sendable () async -> [JSONValue]

    /// `source`: judges a `model.fromTrainingJob` run (ModelSourceResolution.judge over its record and the job);
    /// `gpuUsage`: the nodes and what Gantry's pods hold on them.
    public init(platform: @escaping @Sendable () async -> PlatformConfigSpec,
                validate: @escaping @Sendable (InferenceService, String, [ValidationRequest]) async -> InferenceServiceStatus.ValidationOutcome? = { _, _, _ in nil },
                source: @escaping @Sendable (_ namespace: String, _ job: String) async -> ModelSourceResolution = { namespace, job in
                    ModelSourceResolution.judge(job: job, namespace: namespace, record: nil, job: nil)
                },
                gpuUsage: @escaping @Sendable () async -> GPUUsage = { GPUUsage() },
                readAnalysis: @escaping @Sendable (InferenceService, InferenceServiceStatus.Revision) async -> Result<AnalysisStatus.Reading, RolloutAnalysis.ReadFailure> = { _, _ in
                    .failure(.init(message: "no metrics reader"))
                },
                readAutoscaling: @escaping @Sendable (InferenceService, InferenceServiceStatus.Revision?, _ replicas: Int) async -> Result<AutoscalingReading, MetricsReadFailure> = { _, _, _ in
                    .failure(.init(message: "no metrics reader"))
                },
                validationLog: @escaping @Sendable (InferenceService, _ pod: String) async -> [String]? = { _, _ in nil },
                daemonPods: @escaping @Sendable (InferenceService) async -> [JSONValue] = { _ in [] },
                nodes: @escaping @Sendable () async -> [JSONValue] = { [] }) {
        self.nodes = nodes
        self.daemonPods = daemonPods
        self.validationLog = validationLog
        self.readAnalysis = readAnalysis
        self.readAutoscaling = readAutoscaling
        self.platform = platform
        self.validate = validate
        self.source = source
        self.gpuUsage = gpuUsage
    }

    /// Pods: identity, labels, owner, phase, and the Ready condition with its transition time (minReadySeconds
    /// counts from it), the scheduling condition and why containers wait (a failed rollout names the cause).
    /// The node and the containers' resources count the GPUs each node's pods hold (InsufficientGPUForSurge); a
    /// daemon pod's node affinity names its node before it is bound.
    public static let podFields: FieldMask = .object(keys: [
        "metadata": .object(keys: ["name": .all, "namespace": .all, "uid": .all, "resourceVersion": .all, "labels": .all,
                                   "ownerReferences": .all, "deletionTimestamp": .all]),
        "spec": .object(keys: ["nodeName": .all, "containers": .elements(.object(keys: ["name": .all, "resources": .keys("requests", "limits")])),
                               // A daemon pod's node before it is bound (ServingPod.targetNode).
                               "affinity": .path(["nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"])]),
        "status": .object(keys: [
            "phase": .all, "reason": .all, "message": .all, "startTime": .all,
            "conditions": .elements(.keys("type", "status", "reason", "message", "lastTransitionTime"), filterKey: "type",
                                    values: ["Ready", "PodScheduled"]),
            "containerStatuses": .elements(.object(keys: ["name": .all, "state": .object(keys: [
                "waiting": .keys("reason", "message"), "terminated": .keys("exitCode", "reason", "finishedAt"),
            ])])),
            "initContainerStatuses": .elements(.object(keys: ["name": .all, "state": .object(keys: ["waiting": .keys("reason", "message")])])),
        ]),
    ])

    /// DaemonSets: each colour's with `placement: perNode`, and the prepull one (`prepull: true`); read whole. Their
    /// pods are read (and enqueue the service) through them: the planner names a failing daemon pod.
    public static let childFields: [ResourceType: FieldMask?] = [.pods: podFields, .services: nil, .podDisruptionBudgets: nil, .daemonSets: nil]
    public var childTypes: [ResourceType: FieldMask?] { Self.childFields }
    /// Caches read beyond the children: nodes (what admission reads of them) for the GPUs a candidate may use,
    /// and TrainingJobs (their phase) for a `model.fromTrainingJob` run without a record yet.
    public static let reads: [ResourceType: FieldMask?] = [
        .nodes: TrainingJobWatches.nodeFields,
        .trainingJobs: .object(keys: ["metadata": .keys("name", "namespace", "uid"), "status": .keys("phase")]),
    ]

    /// Registered with the operator: its platform settings come from the shared PlatformConfig cache, nodes,
    /// pods and TrainingJobs from the shared caches; a source run's record is read with a GET (records are cached
    /// without their data), only while the desired revision has no source on record.
    public static func registration(platformConfigs key: SharedInformers.Key) -> KindRegistration {
        KindRegistration(childTypes: childFields, reads: reads, grandchildren: [.pods: .daemonSets]) { context, stores in
            guard let store = context.informers[key]?.store else { throw InformerError.undeclared(key.description) }
            guard let nodes = stores[.nodes], let pods = stores[.pods], let jobs = stores[.trainingJobs], let daemonSets = stores[.daemonSets] else {
                throw InformerError.undeclared("nodes, pods, daemonsets or trainingjobs for the InferenceService planner")
            }
            let client = context.client
            let rates = CounterRates()
            let prometheus = PrometheusMetrics()
            return InferenceServicePlanner(platform: { await OperatorCaches.platform(from: store) }, validate: { service, revision, requests in
                await CandidateValidation.run(requests, service: service, revision: revision, client: client)
            }, source: { namespace, job in
                let record: JSONValue?
                do {
                    record = try await client.get(.configMaps, namespace: namespace, name: TrainingRecord.name(job: job))
                } catch let error as APIError where error.isNotFound {
                    record = nil
                } catch {
                    return .unavailable(job: job, error)
                }
                return .judge(job: job, namespace: namespace, record: record, job: await jobs.get(ObjectKey(namespace: namespace, name: job)))
            }, gpuUsage: {
                GPUUsage(nodes: await nodes.list(), pods: await pods.list())
            }, readAnalysis: { service, revision in
                await RolloutAnalysis.read(service, revision, client: client, prometheus: prometheus, platform: await OperatorCaches.platform(from: store))
            }, readAutoscaling: { service, revision, replicas in
                await AutoscalingMetrics.read(service, revision, replicas: replicas, rates: rates, client: client, prometheus: prometheus,
                                              platform: await OperatorCaches.platform(from: store))
            }, validationLog: { service, name in
                // Only once the job's pod has ended (its log is then complete), read before the pod is removed.
                guard let pod = await pods.get(ObjectKey(namespace: service.namespace, name: name)), ServingPod(pod).failed else { return nil }
                let container = Pod(json: pod).spec.containers.first?.name  // the first container's log (the template's check)
                var lines: [String] = []
                do {
                    for try await line in client.logs(namespace: service.namespace, pod: name, container: container, tailLines: 20) { lines.append(line) }
                } catch {
                    lines.append("(the log could not be read: \(error))")
                }
                return lines
            }, daemonPods: { service in
                var owned: [JSONValue] = []
                for ds in await daemonSets.owned(by: service.uid) { owned += await pods.owned(by: ds.uid ?? "") }
                return owned
            }, nodes: {
                await nodes.list()
            })
        }
    }

    public func inputs(for object: InferenceService) async -> Inputs {
        var inputs = Inputs(platform: await platform(), daemonPods: await daemonPods(object))
        let desired = InferenceChildren.revisionHash(object.spec)
        // Validation runs when the planner said so (phase Validating) and not yet for this revision.
        if let candidate = object.status.candidate, candidate.phase == .validating, candidate.validation?.revision != candidate.revision.hash,
           let requests = object.spec.rollout?.validation?.requests, !requests.isEmpty, candidate.revision.hash == desired {
            inputs.validation = await validate(object, candidate.revision.hash, requests)
        }
        // The source run is judged once per revision: afterwards its provenance is in status.
        if let job = object.spec.model?.fromTrainingJob, InferencePlanning.recordedSource(object.status, revision: desired) == nil {
            inputs.source = await source(object.namespace, job)
        }
        if InferencePlanning.surges(object, desired: desired) { inputs.gpu = await gpuUsage() }
        if (object.spec.gpu?.count ?? 0) > 0, object.spec.perNode || object.status.activeRevision?.hash != desired { inputs.nodes = await nodes() }
        // While an analysis runs on the serving revision: its metrics, every intervalSeconds.
        if let record = object.status.analysis, record.phase == .running, let analysis = object.spec.effectiveRollout.analysis,
           let active = object.status.activeRevision, active.hash == record.revision {
            let due = record.lastCheck.flatMap(Timestamp.parse).map { Date().timeIntervalSince($0) >= Double(analysis.effectiveIntervalSeconds) - 0.05 } ?? true
            if due { inputs.analysis = await readAnalysis(object, active) }
        }
        // The validation job's log, once its pod ended and before its outcome is on record.
        if let candidate = object.status.candidate, candidate.phase == .validating, candidate.revision.hash == desired,
           object.spec.rollout?.validation?.job != nil, let job = candidate.validation?.job, job.passed == nil {
            inputs.validationLog = await validationLog(object, InferenceChildren.validationPodName(object, candidate.revision))
        }
        // The autoscaler's metric, every autoscaling.intervalSeconds: the serving colour's pods once one is ready
        // (before, there is nothing to read), or metricsFrom, or the Prometheus query.
        let readable = object.spec.autoscaling?.metricsFrom != nil || object.spec.autoscaling?.query != nil || (object.status.readyReplicas ?? 0) > 0
        if readable, InferencePlanning.autoscalingDue(object, now: Date()) {
            inputs.autoscaling = await readAutoscaling(object, object.status.activeRevision, InferencePlanning.servingReplicas(object))
        }
        return inputs
    }

    public func plan(_ o: Observation) -> KindPlan<InferenceServiceStatus> {
        var planning = InferencePlanning(o)
        planning.run()
        return planning.finished()
    }
}

/// One reconcile's working state (see InferenceServicePlanner).
struct InferencePlanning: StatusPlanning {
    typealias Revision = InferenceServiceStatus.Revision
    let service: InferenceService
    let now: Date
    /// Its pods, and its DaemonSets' (a perNode colour's replicas, prepull pods).
    let pods: [ServingPod]
    let rollout: Rollout
    /// The serving size: spec.replicas, or what the autoscaler decides (status.autoscaling).
    var replicas: Int
    let placement: GPUPlacement
    /// The node label every GPU node carries (perNode and prepull DaemonSets of a GPU service need one).
    let productLabel: String
    let security: PodPolicy.SecurityProfile
    /// The owned DaemonSets: a perNode colour's, or a prepull.
    let daemonSets: [JSONValue]
    /// The nodes by name, when read (a service asking for GPUs; see `Inputs.nodes`), else empty.
    let nodes: [String: JSONValue]
    /// The platform's Prometheus, for a spec that reads it.
    let prometheus: PrometheusEndpoint?
    /// Answers of the candidate to the validation requests, when this reconcile sent them.
    let validation: InferenceServiceStatus.ValidationOutcome?
    /// The cluster's GPUs, when a blue/green candidate asks for some.
    let gpu: GPUUsage?
    /// The run the spec's model comes from (`model.fromTrainingJob`), on record or judged by this reconcile.
    let source: InferenceServiceStatus.ModelProvenance?
    /// Why the spec's source run cannot be served (nil when it can, or when the spec names none).
    let sourceRefusal: ModelSourceResolution.Refusal?
    /// Why the spec's GPU request cannot be served: no node can hold one replica (nil when one can, or unknown).
    let gpuRefusal: ModelSourceResolution.Refusal?
    /// Set when this reconcile did not make a revision because of `sourceRefusal` or `gpuRefusal`.
    var refused: ModelSourceResolution.Refusal?
    /// The analysed colour's metrics, when this reconcile read them.
    let analysisReading: Result<AnalysisStatus.Reading, RolloutAnalysis.ReadFailure>?
    /// The autoscaler's metric, when this reconcile read it.
    let autoscalingReading: Result<AutoscalingReading, MetricsReadFailure>?
    /// The validation job's log tail, when its pod ended.
    let validationLog: [String]?
    /// Set when the spec names a revision that breached its analysis (it is held back).
    var heldByAnalysis: AnalysisStatus?
    var status: InferenceServiceStatus
    var conditions: StatusConditions
    var plan: KindPlan<InferenceServiceStatus>

    init(_ o: InferenceServicePlanner.Observation) {
        service = o.object
        now = o.now
        pods = (o.children(.pods) + o.inputs.daemonPods).map(ServingPod.init)
        rollout = service.spec.effectiveRollout
        replicas = Self.servingReplicas(service)
        autoscalingReading = o.inputs.autoscaling
        validationLog = o.inputs.validationLog
        placement = GPUPlacement(request: service.spec.gpu, settings: o.inputs.platform.effectiveGPU)
        productLabel = o.inputs.platform.effectiveGPU.effectiveProductLabel
        daemonSets = o.children(.daemonSets)
        nodes = Dictionary((o.inputs.nodes ?? []).compactMap { node in node.name.map { ($0, node) } }) { first, _ in first }
        // Looked at again every 30 s: a node that can hold it may join.
        let placement = self.placement
        gpuRefusal = o.inputs.nodes.flatMap { NodeCheck.noNodeCanHold(placement, nodes: $0) }.map {
            .init(reason: $0.reason, message: $0.message, waiting: false, retryAfter: 30, stalledUntil: "waiting for a spec.gpu a node can hold")
        }
        security = o.inputs.platform.effectivePodPolicy.effectiveSecurityContext
        prometheus = o.inputs.platform.prometheus
        validation = o.inputs.validation
        gpu = o.inputs.gpu
        analysisReading = o.inputs.analysis
        status = service.status
        let desired = InferenceChildren.revisionHash(service.spec)
        if let job = service.spec.model?.fromTrainingJob {
            switch Self.recordedSource(service.status, revision: desired).map(ModelSourceResolution.resolved) ?? o.inputs.source {
            case .resolved(let provenance)?:
                source = provenance
                sourceRefusal = nil
            case .refused(let refusal)?:
                source = nil
                sourceRefusal = refusal
            case nil:
                source = nil
                sourceRefusal = .init(reason: "SourceNotFinished", message: "\(ModelSourceResolution.field): TrainingJob \"\(job)\" not looked up yet",
                                      waiting: true, retryAfter: 1)
            }
        } else {
            source = nil
            sourceRefusal = nil
        }
        conditions = StatusConditions(status.conditions, generation: service.generation, now: Timestamp.format(o.now))
        plan = KindPlan(status: status)
    }

    var nowText: String { Timestamp.format(now) }

    /// The provenance on record for a revision (the active, warm or candidate one), if any.
    static func recordedSource(_ status: InferenceServiceStatus, revision hash: String) -> InferenceServiceStatus.ModelProvenance? {
        [status.activeRevision, status.previousRevision, status.candidate?.revision].compactMap { $0 }
            .first { $0.hash == hash && $0.source != nil }?.source
    }

    /// Whether the cluster's GPUs matter to this reconcile: a blue/green candidate asking for GPUs rolls out, or
    /// is about to start.
    static func surges(_ service: InferenceService, desired: String) -> Bool {
        guard (service.spec.gpu?.count ?? 0) > 0, service.spec.effectiveRollout.effectiveStrategy == .blueGreen,
              let active = service.status.activeRevision, active.hash != desired else { return false }
        if let candidate = service.status.candidate, candidate.revision.hash == desired { return candidate.phase == .progressing }
        return service.status.previousRevision?.hash != desired
    }

    mutating func run() {
        status.observedGeneration = service.generation
        let desired = InferenceChildren.revisionHash(service.spec)
        autoscale()
        expireWarmRevision()
        analyze()
        if let active = status.activeRevision {
            let pin = service.annotations[InferenceServicePlanner.rollbackAnnotation]
            if let held = analysisHold(desired: desired) {
                // Swapped away from after a breach: not rolled out again until the spec names another revision.
                heldByAnalysis = held
                if status.candidate != nil { status.candidate = nil }
            } else if let warm = status.previousRevision, pin == warm.hash, active.hash == desired {
                // `gantry rollback`: back to the warm revision, though the spec still names this one.
                swap(to: warm, reason: "RolledBack", note: "rolled back to \(warm.hash) by \(InferenceServicePlanner.rollbackAnnotation); spec still names \(desired): revert it (in Git) or remove the annotation to roll forward")
            } else if pin == active.hash, status.lastSwap?.reason == "RolledBack", status.lastSwap?.from == desired {
                // Held back on purpose: the spec still names the revision rolled back from.
                if status.candidate != nil { status.candidate = nil }
            } else if active.hash == desired {
                if let candidate = status.candidate {
                    plan.events.append(PlannedEvent(.normal, "RolloutAborted", "the spec is back at the serving revision \(active.hash); candidate \(candidate.revision.hash) removed"))
                    status.candidate = nil
                }
            } else if let refusal = sourceRefusal ?? (status.previousRevision?.hash == desired ? nil : gpuRefusal) {
                // The spec's model comes from a run that cannot be served, or asks for more GPUs than any node has:
                // no new revision; the serving one stays.
                refuse(refusal)
            } else if rollout.effectiveStrategy == .recreate {
                // No surge: the new revision takes the serving colour; its pods start once the old ones are gone.
                let next = InferenceChildren.revision(service, color: active.color, source: source)
                status.candidate = nil
                status.previousRevision = nil
                status.warmUntil = nil
                status.activeRevision = next
                status.lastSwap = .init(from: active.hash, to: next.hash, at: nowText, reason: "Recreated")
                plan.events.append(PlannedEvent(.normal, "Recreating", "revision \(active.hash) stops before \(next.hash) starts (spec.rollout.strategy Recreate)"))
            } else if let warm = status.previousRevision, warm.hash == desired {
                swap(to: warm, reason: "RolledBack", note: "the spec is back at revision \(warm.hash), still warm: the alias moved back to \(warm.color.rawValue) without a new pod")
            } else {
                progress(toward: desired, from: active)
            }
        } else if let refusal = sourceRefusal ?? gpuRefusal {
            refuse(refusal)
        } else {
            // First deploy: the revision serves in blue as soon as it exists (there is nothing else to serve).
            let first = InferenceChildren.revision(service, color: .blue, source: source)
            status.activeRevision = first
            status.activeColor = .blue
            plan.events.append(PlannedEvent(.normal, "Deploying", "first revision \(first.hash) in blue"))
        }
        planChildren()
        reportConditions()
        reportMetricsSource()
    }

    /// Makes no revision from a spec whose source run (or GPU request) is refused: a candidate of an earlier spec is
    /// superseded (its pods go), the serving revision is untouched, and the spec is looked at again later.
    mutating func refuse(_ refusal: ModelSourceResolution.Refusal) {
        refused = refusal
        if let stale = status.candidate {
            plan.events.append(PlannedEvent(.normal, "RolloutSuperseded", "candidate \(stale.revision.hash) replaced by a spec that is refused (\(refusal.reason))"))
            status.candidate = nil
        }
        let before = service.status.conditions?[type: "Progressing"]
        if before?.reason != refusal.reason || before?.message.hasPrefix(refusal.message) != true {
            plan.events.append(PlannedEvent(.warning, refusal.reason, refusal.message))
        }
        if let retry = refusal.retryAfter { plan.requeueAfter = min(plan.requeueAfter ?? .seconds(retry), .seconds(retry)) }
    }

    /// After `scaleDownDelaySeconds` the previous revision's pods go (a rollback is then a new rollout).
    mutating func expireWarmRevision() {
        guard status.previousRevision != nil else { return }
        guard let until = status.warmUntil.flatMap(Timestamp.parse), now < until else {
            status.previousRevision = nil
            status.warmUntil = nil
            return
        }
        plan.requeueAfter = .seconds(until.timeIntervalSince(now) + 0.1)
    }

    /// The desired revision is neither serving nor warm: it is the candidate, in the idle colour.
    mutating func progress(toward hash: String, from active: Revision) {
        let color = active.color.other
        if status.candidate?.revision.hash != hash {
            if let superseded = status.candidate {
                plan.events.append(PlannedEvent(.normal, "RolloutSuperseded", "candidate \(superseded.revision.hash) replaced by \(hash) before it served"))
            }
            // The idle colour is the candidate's now: a warm previous revision there gives way.
            if status.previousRevision?.color == color {
                status.previousRevision = nil
                status.warmUntil = nil
            }
            let revision = InferenceChildren.revision(service, color: color, source: source)
            status.candidate = .init(revision: revision, phase: .progressing, ready: 0, desired: replicas, startedAt: nowText)
            plan.events.append(PlannedEvent(.normal, "RolloutStarted", "candidate \(hash) starting in \(color.rawValue) beside \(active.hash) in \(active.color.rawValue)"))
        }
        guard var candidate = status.candidate, candidate.phase != .failed else { return }
        // spec.prepull: no candidate pod before its image is on the nodes (or the wait for it ran out).
        guard prepulled(&candidate) else { return }
        let reported = candidate.reason
        candidate.reason = nil
        let mine = livePods(candidate.revision)
        let readiness = self.readiness(of: candidate.revision)
        let ready = readiness.ready
        candidate.ready = ready
        candidate.desired = readiness.desired
        if !readiness.complete { candidate.phase = .progressing }  // a replica lost while validating or waiting
        if readiness.complete {
            if let requests = rollout.validation?.requests, !requests.isEmpty {
                guard let outcome = [validation, candidate.validation].compactMap({ $0 }).first(where: { $0.revision == candidate.revision.hash }) else {
                    candidate.phase = .validating
                    candidate.message = "ready; sending \(requests.count) validation request(s) to \(InferenceChildren.previewName(service))"
                    status.candidate = candidate
                    return
                }
                if candidate.validation != outcome {
                    candidate.validation = outcome
                    let summary = outcome.results.map { "\($0.request): \($0.message)" }.joined(separator: "; ")
                    plan.events.append(PlannedEvent(outcome.passed ? .normal : .warning, outcome.passed ? "ValidationPassed" : "ValidationFailed", summary))
                }
                if !outcome.passed {
                    let failed = outcome.results.first { !$0.passed }.map { "\($0.request): \($0.message)" } ?? "a request failed"
                    candidate.phase = .failed
                    candidate.reason = "ValidationFailed"
                    candidate.message = "validation failed: \(failed); \(active.color.rawValue) keeps serving"
                    status.candidate = candidate
                    return
                }
            }
            if let job = rollout.validation?.job, !validateWithJob(&candidate, job, active: active) { return }
            let promoted = rollout.effectiveAutoPromote || service.annotations[InferenceServicePlanner.promoteAnnotation] == candidate.revision.hash
            if promoted {
                swap(to: candidate.revision, reason: "Swapped", note: "candidate \(candidate.revision.hash) ready (\(ready)/\(readiness.desired)): alias moved from \(active.color.rawValue) to \(candidate.revision.color.rawValue)")
                return
            }
            candidate.phase = .awaitingPromotion
            candidate.message = "ready; waiting for `gantry promote \(service.name)` (spec.rollout.autoPromote is false)"
            status.candidate = candidate
            return
        }
        let started = Timestamp.parse(candidate.startedAt) ?? now
        let deadline = started.addingTimeInterval(Double(rollout.effectiveProgressDeadlineSeconds))
        let shortage = gpuShortage(mine, candidate.revision, active: active)
        if now >= deadline {
            let cause = shortage?.message ?? Self.problem(mine, unfit: readiness.unfit) ?? readiness.summary
            candidate.phase = .failed
            candidate.reason = shortage?.reason ?? "ProgressDeadlineExceeded"
            candidate.message = "not ready within spec.rollout.progressDeadlineSeconds (\(rollout.effectiveProgressDeadlineSeconds)s): \(cause); \(active.color.rawValue) keeps serving"
            plan.events.append(PlannedEvent(.warning, "RolloutFailed", candidate.message ?? "", notify: true))
            status.candidate = candidate
            return
        }
        if let shortage {
            // Reported at once, not at the deadline; the pods stay Pending (a freed GPU or a new node lets them
            // through) until progressDeadlineSeconds, and the serving colour keeps its GPUs.
            if reported != shortage.reason { plan.events.append(PlannedEvent(.warning, shortage.reason, shortage.message)) }
            candidate.reason = shortage.reason
            candidate.message = shortage.message
        } else {
            candidate.message = Self.problem(mine, unfit: readiness.unfit) ?? (service.spec.perNode ? readiness.summary : nil)
        }
        status.candidate = candidate
        // Look again when the deadline passes or minReadySeconds elapse, whichever comes first.
        let readyAt = mine.compactMap(\.readySince).map { $0.addingTimeInterval(Double(rollout.effectiveMinReadySeconds)) }.filter { $0 > now }.min()
        let next = min(deadline, readyAt ?? deadline).timeIntervalSince(now) + 0.1
        plan.requeueAfter = min(plan.requeueAfter ?? .seconds(next), .seconds(next))
    }

    /// Whether the candidate's pods are short of GPUs that blue/green cannot take from the serving colour: in
    /// total, or with `placement: perNode` on any node it runs on (each node holds one replica of both colours).
    func gpuShortage(_ mine: [ServingPod], _ revision: Revision, active: Revision) -> GPUShortage? {
        guard let gpu, rollout.effectiveStrategy == .blueGreen else { return nil }
        let kept = [active, revision] + [status.previousRevision].compactMap { $0 }
        let departing = pods.filter { pod in !kept.contains { $0.color == pod.color && $0.hash == pod.revision } }
        let constraints = placement.constraints(nodeSelector: service.spec.nodeSelector ?? [:],
                                                tolerations: placement.tolerations + (service.spec.tolerations ?? []))
        if service.spec.perNode {
            return GPUShortage.perNode(candidate: mine, revision: revision.hash, serving: livePods(active), servingColor: active.color,
                                       placement: placement, constraints: constraints, usage: gpu, departing: departing)
        }
        return GPUShortage.of(candidate: mine, revision: revision.hash, replicas: replicas, serving: livePods(active), servingColor: active.color,
                              placement: placement, constraints: constraints, usage: gpu, departing: departing)
    }

    /// Moves the alias to `revision` in one update: the serving revision stays warm for scaleDownDelaySeconds.
    mutating func swap(to revision: Revision, reason: String, note: String, notify: Bool = false) {
        let from = status.activeRevision
        status.previousRevision = from
        status.warmUntil = Timestamp.format(now.addingTimeInterval(Double(rollout.effectiveScaleDownDelaySeconds)))
        plan.requeueAfter = .seconds(Double(rollout.effectiveScaleDownDelaySeconds) + 0.1)
        status.activeRevision = revision
        status.activeColor = revision.color
        status.candidate = nil
        status.lastSwap = .init(from: from?.hash, to: revision.hash, at: nowText, reason: reason)
        plan.events.append(PlannedEvent(reason == "AnalysisFailed" ? .warning : .normal, reason, note, notify: notify))
        if reason == "Swapped" {
            startAnalysis(of: revision, from: from)
        } else if status.analysis?.phase == .running {
            status.analysis = nil  // the alias left the analysed revision
        }
    }

    /// Pods of a revision (its colour and hash) that are not being deleted.
    func livePods(_ revision: Revision) -> [ServingPod] {
        pods.filter { $0.color == revision.color && $0.revision == revision.hash && !$0.deleting }
    }

    /// Every live revision keeps `replicas` pods (the warm one keeps what it has); failed pods are replaced;
    /// every other pod is pruned. Services and the budget follow the active colour.
    mutating func planChildren() {
        guard let active = status.activeRevision else { return }
        status.url = InferenceChildren.url(service)
        var keep: [(Revision, Bool)] = [(active, true)]
        if let candidate = status.candidate, candidate.phase != .failed, candidate.phase != .prepulling { keep.append((candidate.revision, true)) }
        // rollout.keepFailedCandidate: the failed candidate's pods stay as they are (none made again) for debugging.
        if let candidate = status.candidate, candidate.phase == .failed, rollout.effectiveKeepFailedCandidate { keep.append((candidate.revision, false)) }
        if let candidate = status.candidate, candidate.phase == .prepulling {
            plan.children.add(InferenceDaemonSets.prepull(service, candidate.revision, placement: placement, productLabel: productLabel, security: security),
                              update: .createOnly)
        }
        if let warm = status.previousRevision { keep.append((warm, false)) }
        // The validation job's pod while its outcome is not on record; afterwards it is pruned with the rest.
        if let candidate = status.candidate, candidate.phase == .validating, let job = rollout.validation?.job,
           let running = candidate.validation?.job, running.passed == nil {
            plan.children.add(InferenceChildren.validationPod(service, candidate.revision, job, security: security), update: .createOnly)
        }
        for (revision, complete) in keep {
            if service.spec.perNode {
                if recreateWaits(revision) {
                    // The old pods' deletions reach the service through their DaemonSet, which may go first: look again.
                    plan.requeueAfter = min(plan.requeueAfter ?? .seconds(1), .seconds(1))
                } else {
                    addDaemonSet(revision)
                }
                continue
            }
            let live = livePods(revision)
            // Recreate: a colour's new pods wait until the previous revision's pods there are gone.
            if pods.contains(where: { $0.color == revision.color && $0.revision != revision.hash }) && live.isEmpty && rollout.effectiveStrategy == .recreate { continue }
            let indexes = complete ? Array(0..<replicas) : live.compactMap(\.index).filter { $0 < replicas }
            // A failed pod is not desired: pruned now, created again once it is gone (same name).
            for index in indexes where !live.contains(where: { $0.index == index && $0.failed }) {
                plan.children.add(InferenceChildren.pod(service, revision, index: index, placement: placement, security: security), update: .createOnly)
            }
        }
        plan.children.add(InferenceChildren.service(service, name: InferenceChildren.aliasName(service), color: active.color))
        let previewColor = status.candidate.map { $0.phase == .failed && !rollout.effectiveKeepFailedCandidate ? active.color : $0.revision.color } ?? active.color
        plan.children.add(InferenceChildren.service(service, name: InferenceChildren.previewName(service), color: previewColor))
        plan.children.prune = [.pods, .services, .podDisruptionBudgets, .daemonSets]
        // A DaemonSet goes only once its pods are gone: Recreate waits for that, and its removal requeues the service.
        plan.children.foreground = [.daemonSets]
        if service.spec.perNode {
            reportNodes(keep.map { $0.0 }, active: active)  // sets `replicas` to the nodes the active colour covers
        } else {
            status.perNode = nil
            status.replicas = replicas
            status.readyReplicas = livePods(active).filter { $0.readySince != nil }.count
        }
        plan.children.add(InferenceChildren.disruptionBudget(service, color: active.color, replicas: replicas))
        status.selector = InferenceChildren.colorLabels(service, active.color).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// Ready: the alias serves the desired revision with every replica ready. Progressing while a candidate
    /// rolls out; Stalled when it failed (a spec change is needed), while the serving colour stays Ready to serve.
    mutating func reportConditions() {
        let ready = status.readyReplicas ?? 0
        let serving = status.activeRevision?.hash ?? ""
        if let held = heldByAnalysis {
            let message = (held.message ?? "revision \(held.revision) breached its analysis") + "; it is not rolled out again until the spec changes"
            conditions.set("Progressing", .false, "AnalysisFailed", message)
            conditions.markStalled("AnalysisFailed", message, reconciling: "held at revision \(serving)")
            conditions.set("Degraded", .true, "AnalysisFailed", message)
            return
        }
        if let refused {
            let message = refused.message + (status.activeRevision.map { "; revision \($0.hash) keeps serving in \($0.color.rawValue)" } ?? "; nothing was created")
            conditions.set("Progressing", refused.waiting ? .true : .false, refused.reason, message)
            if refused.waiting {
                progressing(refused.reason, message)
            } else {
                conditions.markStalled(refused.reason, message, reconciling: refused.stalledUntil)
            }
        } else if let candidate = status.candidate {
            switch candidate.phase {
            case .failed:
                let reason = candidate.reason ?? (candidate.validation?.passed == false ? "ValidationFailed" : "ProgressDeadlineExceeded")
                conditions.set("Progressing", .false, reason, candidate.message ?? "")
                conditions.markStalled("RolloutFailed", candidate.message ?? "", reconciling: "waiting for a corrected spec")
            case .awaitingPromotion, .validating, .prepulling:
                let reason = candidate.phase == .validating ? "Validating" : candidate.phase == .prepulling ? "Prepulling" : "AwaitingPromotion"
                conditions.set("Progressing", .true, reason, candidate.message ?? "")
                progressing(reason, candidate.message ?? "")
            case .progressing:
                let message = "candidate \(candidate.revision.hash): \(candidate.ready)/\(candidate.desired) ready" + (candidate.message.map { "; \($0)" } ?? "")
                if let reason = candidate.reason {
                    // Short of GPUs: still progressing (until the deadline), but stuck without a change by someone.
                    conditions.set("Progressing", .true, reason, message)
                    conditions.markStalled(reason, message, reconciling: "the candidate's pods wait for GPUs until spec.rollout.progressDeadlineSeconds")
                } else {
                    conditions.set("Progressing", .true, "RollingOut", message)
                    progressing("RollingOut", message)
                }
            }
        } else if service.spec.perNode, replicas == 0, let active = status.activeRevision {
            // No node to serve on is not "serving": a node that gets the labels (or a new one) lets it through.
            let nodes = readiness(of: active)
            let reason = nodes.noMatchingNodes ? "NoMatchingNodes" : "Starting"
            conditions.set("Progressing", .true, reason, nodes.summary)
            progressing(reason, nodes.summary)
        } else if ready >= replicas, let pin = service.annotations[InferenceServicePlanner.rollbackAnnotation], pin == serving,
                  status.lastSwap?.reason == "RolledBack", let from = status.lastSwap?.from, from == InferenceChildren.revisionHash(service.spec) {
            // Serving, but not what the spec names: GitOps tools should see that it is not converged.
            let message = "rolled back to \(serving) by the \(InferenceServicePlanner.rollbackAnnotation) annotation; spec names \(from): revert the spec, or remove the annotation to roll forward"
            conditions.set("Progressing", .false, "RolledBack", message)
            conditions.markStalled("RolledBack", message, reconciling: "held at the rolled-back revision")
        } else if ready >= replicas {
            conditions.set("Progressing", .false, "Complete", "revision \(serving) serves in \(status.activeColor?.rawValue ?? "")")
            if replicas == 0 {
                conditions.markReady("ScaledToZero", "revision \(serving) is scaled to zero by spec.autoscaling (minReplicas 0); it scales up when \(status.autoscaling?.metric ?? "its metric") asks")
            } else {
                let skipped = status.perNode?.first { $0.revision == serving && $0.color == status.activeColor }?.unfit ?? []
                conditions.markReady("Serving", "\(ready)/\(replicas) replicas of revision \(serving) ready behind \(InferenceChildren.aliasName(service))"
                                     + Self.notCounted(skipped))
            }
        } else {
            let unfit = service.spec.perNode ? status.activeRevision.map { readiness(of: $0).unfit } ?? [] : []
            let problem = Self.problem(pods.filter { $0.revision == serving }, unfit: unfit)
            let reason = growing ? "ScalingUp" : "Starting"
            let message = "\(ready)/\(replicas) replicas of revision \(serving) ready" + (growing ? " (scaled up by spec.autoscaling)" : "") + (problem.map { "; \($0)" } ?? "")
            conditions.set("Progressing", .true, reason, message)
            progressing(reason, message)
        }
        // Degraded: it served with every replica ready once, and no longer does (replicas of a scale-up still
        // starting are not missing ones).
        let servedBefore = service.status.conditions?.isTrue("Ready") == true || service.status.conditions?.isTrue("Degraded") == true
        let expected = growing ? min(replicas, status.autoscaling?.lastScale?.from ?? replicas) : replicas
        let degraded = ready < expected && servedBefore
        conditions.set("Degraded", degraded ? .true : .false, degraded ? "ReplicasUnavailable" : "AsExpected",
                       "\(ready)/\(replicas) serving replicas ready")
    }

    /// The first pod problem worth naming: a pod on a node that can never hold it is reported as such instead.
    static func problem(_ pods: [ServingPod], unfit: [InferenceServiceStatus.UnfitNode]) -> String? {
        pods.lazy.filter { pod in !unfit.contains { $0.node == pod.targetNode } }.compactMap(\.problemReport).first
    }

    /// Working toward the spec: Reconciling, and no longer Stalled (a shortage or a refusal that cleared).
    mutating func progressing(_ reason: String, _ message: String) {
        conditions.remove(ConditionType.stalled)
        conditions.markReconciling(reason, message)
    }
}
