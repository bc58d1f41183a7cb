import Foundation
import GantryAPI
import KubeCore
import KubeRuntime
import MetricsTestKit
import Testing
@testable import GantryControllers

/// The platform series from cached objects (PlatformSnapshot), their publication and GPU-seconds
/// (PlatformGauges), and the transition counters (PlatformTransitions). docs/observability.md.
@Suite struct PlatformMetricsTests {
    static func object(_ kind: String, _ name: String, _ namespace: String, spec: JSONValue = .emptyObject, status: JSONValue = .emptyObject) -> JSONValue {
        var o: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": .string(kind), "spec": spec, "status": status]
        o.name = name
        o.namespace = namespace
        return o
    }

    static func pod(_ namespace: String, kind: String, node: String?, phase: String, resources: [String: String]) -> JSONValue {
        var limits = JSONValue.emptyObject
        for (name, count) in resources { limits[name] = .string(count) }
        var o: JSONValue = ["apiVersion": "v1", "kind": "Pod", "spec": ["containers": [["name": "c", "resources": ["limits": limits]]]],
                            "status": ["phase": .string(phase)]]
        o.name = "p-" + UUID().uuidString.prefix(6).lowercased()
        o.namespace = namespace
        o.labels = ["app.kubernetes.io/managed-by": "gantry", "gantry.dev/kind": kind]
        if let node { o[path: "spec", "nodeName"] = .string(node) }
        return o
    }

    /// PlatformMetrics' refreshes re-read only the objects a watch event named (PlatformTally): after changes,
    /// deletions and a PlatformConfig that renames the GPU resource, the tally equals a snapshot read afresh.
    @Test func aTallyKeptByChangesEqualsASnapshotReadAfresh() async throws {
        let stores = (0...PlatformTally.Kind.allCases.count).map { _ in Store() }
        let (jobs, pods, configs) = (stores[PlatformTally.Kind.trainingJobs.rawValue], stores[PlatformTally.Kind.pods.rawValue], stores[5])
        let running = Self.object("TrainingJob", "a", "research", status: ["phase": "Running", "requestedGPUs": 2])
        let whole = Self.pod("research", kind: "trainingjob", node: "n1", phase: "Running", resources: ["nvidia.com/gpu": "2"])
        let other = Self.pod("research", kind: "trainingjob", node: "n1", phase: "Running", resources: ["example.com/gpu": "1"])
        for (store, object) in [(jobs, running), (pods, whole), (pods, other)] { _ = await store.upsert(object) }
        var tally = PlatformTally(stores: stores)
        await tally.rebuild()
        let research = PlatformSnapshot.KindInNamespace("research", "TrainingJob")
        #expect(tally.snapshot().allocatedGPUs[research] == 2)

        var changed = Array(repeating: Set<ObjectKey>(), count: stores.count)
        func fresh() async -> PlatformSnapshot {
            PlatformSnapshot(trainingJobs: await jobs.list(), inferenceServices: [], notebooks: [], pods: await pods.list(),
                             gpu: await OperatorCaches.platform(from: configs).effectiveGPU)
        }
        // The job finishes and its first pod goes: only those two are re-read.
        let finished = Self.object("TrainingJob", "a", "research", status: ["phase": "Succeeded", "requestedGPUs": 2])
        _ = await jobs.upsert(finished)
        _ = await pods.remove(whole.objectKey)
        changed[PlatformTally.Kind.trainingJobs.rawValue] = [finished.objectKey]
        changed[PlatformTally.Kind.pods.rawValue] = [whole.objectKey]
        await tally.update(changed)
        #expect(tally.snapshot() == (await fresh()))
        #expect(tally.snapshot().workloads[.init(research, "Succeeded")] == 1 && tally.snapshot().allocatedGPUs[research] == 0)

        // A PlatformConfig naming another GPU resource: every pod is read again, though no pod changed.
        var config: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "PlatformConfig", "spec": ["gpu": ["resourceName": "example.com/gpu"]]]
        config.name = PlatformConfigSpec.singletonName
        _ = await configs.upsert(config)
        changed = Array(repeating: [], count: stores.count)
        changed[5] = [config.objectKey]
        await tally.update(changed)
        #expect(tally.snapshot().allocatedGPUs[research] == 1)
        #expect(tally.snapshot() == (await fresh()))
    }

    @Test func aSnapshotCountsWorkloadsAndGPUsByKindAndNamespaceNeverByName() {
        let jobs = [
            Self.object("TrainingJob", "a", "research", status: ["phase": "Running", "requestedGPUs": 4]),
            Self.object("TrainingJob", "b", "research", status: ["phase": "Queued", "requestedGPUs": 8]),
            Self.object("TrainingJob", "c", "research", status: ["phase": "Succeeded", "requestedGPUs": 2]),
            Self.object("TrainingJob", "d", "vision"),  // not reconciled yet
        ]
        let services = [
            // Serving with a candidate rolling out: both colours ask.
            Self.object("InferenceService", "api", "serving", spec: ["replicas": 2, "gpu": ["count": 1]],
                        status: ["activeRevision": ["hash": "h1"], "candidate": ["phase": "Progressing"]]),
            Self.object("InferenceService", "old", "serving", spec: ["gpu": ["count": 2]],
                        status: ["activeRevision": ["hash": "h1"], "candidate": ["phase": "Failed"]]),
            Self.object("InferenceService", "ok", "serving", spec: ["gpu": ["count": 1]],
                        status: ["activeRevision": ["hash": "h1"], "conditions": [["type": "Ready", "status": "True"]]]),
        ]
        let notebooks = [
            Self.object("Notebook", "nb", "research", status: ["phase": "Running", "gpus": 1]),
            Self.object("Notebook", "idle", "research", status: ["phase": "Culled", "gpus": 0]),
        ]
        let pods = [
            Self.pod("research", kind: "trainingjob", node: "n1", phase: "Running", resources: ["nvidia.com/gpu": "4", "cpu": "8"]),
            Self.pod("research", kind: "trainingjob", node: nil, phase: "Pending", resources: ["nvidia.com/gpu": "4"]),  // unscheduled
            Self.pod("research", kind: "trainingjob", node: "n1", phase: "Succeeded", resources: ["nvidia.com/gpu": "2"]),  // finished
            Self.pod("research", kind: "notebook", node: "n2", phase: "Running", resources: ["nvidia.com/gpu.shared": "1"]),
            Self.pod("serving", kind: "inferenceservice", node: "n2", phase: "Running", resources: ["nvidia.com/mig-1g.10gb": "2"]),
            Self.pod("serving", kind: "inferenceservice", node: "n2", phase: "Running", resources: ["example.com/fpga": "1"]),  // not a GPU
            Self.pod("serving", kind: "widget", node: "n2", phase: "Running", resources: ["nvidia.com/gpu": "1"]),  // not a Gantry kind
        ]
        let experiments = [Self.object("Experiment", "sweep", "research", status: ["phase": "Running"])]
        let s = PlatformSnapshot(trainingJobs: jobs, inferenceServices: services, notebooks: notebooks, experiments: experiments, pods: pods, gpu: GPUSettings())
        typealias P = PlatformSnapshot.KindInNamespace
        let training = P("research", "TrainingJob"), notebook = P("research", "Notebook"), serving = P("serving", "InferenceService")
        #expect(s.workloads == [
            .init(training, "Running"): 1, .init(training, "Queued"): 1, .init(training, "Succeeded"): 1,
            .init(P("vision", "TrainingJob"), "Pending"): 1,
            .init(serving, "RollingOut"): 1, .init(serving, "RolloutFailed"): 1, .init(serving, "Serving"): 1,
            .init(notebook, "Running"): 1, .init(notebook, "Culled"): 1,
            .init(P("research", "Experiment"), "Running"): 1,
        ])
        #expect(s.requestedGPUs == [training: 12, P("vision", "TrainingJob"): 0, serving: 2 * 1 * 2 + 2 + 1, notebook: 1])
        #expect(s.allocatedGPUs == [training: 4, P("vision", "TrainingJob"): 0, serving: 2, notebook: 1])
        #expect(s.queuedTrainingJobs == ["research": 1, "vision": 0])
    }

    @Test func anInferenceServiceIsCountedInAPhaseDerivedFromItsStatus() {
        func phase(_ status: JSONValue) -> String {
            PlatformSnapshot.phase(inferenceService: Self.object("InferenceService", "s", "ns", status: status))
        }
        #expect(phase(.emptyObject) == "Pending")
        #expect(phase(["activeRevision": ["hash": "h"]]) == "Starting")
        #expect(phase(["activeRevision": ["hash": "h"], "conditions": [["type": "Stalled", "status": "True"]]]) == "Stalled")
        #expect(phase(["activeRevision": ["hash": "h"], "conditions": [["type": "Degraded", "status": "True"]]]) == "Degraded")
        #expect(phase(["activeRevision": ["hash": "h"], "conditions": [["type": "Ready", "status": "True"]], "candidate": ["phase": "Validating"]]) == "RollingOut")
    }

    @Test func gaugesStayAtZeroWhenEmptiedAndGoWithLeadershipAndGPUSecondsIntegrateAllocation() throws {
        let metrics = TestMetrics()
        var gauges = PlatformGauges(factory: metrics)
        let running = [Self.object("TrainingJob", "a", "research", status: ["phase": "Running", "requestedGPUs": 2])]
        let pods = [Self.pod("research", kind: "trainingjob", node: "n1", phase: "Running", resources: ["nvidia.com/gpu": "2"])]
        let dims = [("namespace", "research"), ("kind", "TrainingJob")]
        gauges.publish(PlatformSnapshot(trainingJobs: running, inferenceServices: [], notebooks: [], pods: pods, gpu: GPUSettings()), at: .seconds(100))
        #expect(try metrics.expectGauge(PlatformMetricNames.gpusAllocated, dims).lastValue == 2)
        #expect(try metrics.expectGauge(PlatformMetricNames.workloads, dims + [("phase", "Running")]).lastValue == 1)
        #expect(try metrics.expectCounter(PlatformMetricNames.gpuSeconds, dims).totalValue == 0, "created at 0")
        #expect(try metrics.expectCounter(PlatformMetricNames.earlyStops, [("namespace", "research")]).totalValue == 0, "transition series created at 0")

        // Without a change (an idle tick) only the counter moves on, at the levels last published; the next
        // snapshot counts from there, not from the last publish.
        gauges.advance(to: .seconds(105))
        #expect(try metrics.expectCounter(PlatformMetricNames.gpuSeconds, dims).totalValue == 10)

        // 10 s later the job finished and its pod went: 2 GPUs × 10 s, and the emptied series read 0.
        var finished = running
        finished[0][path: "status", "phase"] = "Succeeded"
        gauges.publish(PlatformSnapshot(trainingJobs: finished, inferenceServices: [], notebooks: [], pods: [], gpu: GPUSettings()), at: .seconds(110))
        #expect(try metrics.expectCounter(PlatformMetricNames.gpuSeconds, dims).totalValue == 20)
        #expect(try metrics.expectGauge(PlatformMetricNames.workloads, dims + [("phase", "Running")]).lastValue == 0)
        #expect(try metrics.expectGauge(PlatformMetricNames.workloads, dims + [("phase", "Succeeded")]).lastValue == 1)
        #expect(try metrics.expectGauge(PlatformMetricNames.gpusAllocated, dims).lastValue == 0)

        gauges.clear(at: .seconds(200))
        #expect(throws: (any Error).self) { try metrics.expectGauge(PlatformMetricNames.gpusAllocated, dims) }
        #expect(metrics.recorders.isEmpty, "a replica that stopped leading shows no levels")
        #expect(try metrics.expectCounter(PlatformMetricNames.gpuSeconds, dims).totalValue == 20, "nothing held since")
    }

    @Test func transitionsAreCountedFromTheEventReasonsOfTheirKind() throws {
        let metrics = TestMetrics()
        let transitions = PlatformTransitions(factory: metrics)
        let at = try #require(Timestamp.parse("2026-12-01T10:10:00Z"))
        let ns = [("namespace", "research")]
        var queued = Self.object("TrainingJob", "q", "research", status: ["conditions": [
            ["type": "Admitted", "status": "False", "reason": "Queued", "lastTransitionTime": "2026-12-01T10:09:30Z"]]])
        transitions.observe(queued, type: "Normal", reason: "Admitted", at: at)
        #expect(try metrics.expectTimer(PlatformMetricNames.admissionWait, ns).values == [30_000_000_000])

        queued[path: "spec", "activeDeadlineSeconds"] = 600
        queued[path: "status", "requestedGPUs"] = 2
        queued[path: "status", "startTime"] = "2026-12-01T10:08:00Z"
        transitions.observe(queued, type: "Normal", reason: "EarlyStopped", at: at)
        #expect(try metrics.expectCounter(PlatformMetricNames.earlyStops, ns).totalValue == 1)
        #expect(try metrics.expectCounter(PlatformMetricNames.earlyStoppingSaved, ns).totalValue == 2 * (600 - 120))

        let service = Self.object("InferenceService", "api", "serving")
        for reason in ["Swapped", "Swapped", "RolledBack", "ValidationFailed", "RolloutStarted"] {
            transitions.observe(service, type: "Normal", reason: reason, at: at)
        }
        #expect(try metrics.expectCounter(PlatformMetricNames.swaps, [("namespace", "serving")]).totalValue == 2)
        #expect(try metrics.expectCounter(PlatformMetricNames.rollbacks, [("namespace", "serving")]).totalValue == 1)
        #expect(try metrics.expectCounter(PlatformMetricNames.validationFailures, [("namespace", "serving")]).totalValue == 1)
        // A reason counts only for its kind.
        transitions.observe(Self.object("Notebook", "nb", "research"), type: "Normal", reason: "Swapped", at: at)
        #expect(throws: (any Error).self) { try metrics.expectCounter(PlatformMetricNames.swaps, ns) }
        transitions.observe(Self.object("Notebook", "nb", "research"), type: "Normal", reason: "Culled", at: at)
        #expect(try metrics.expectCounter(PlatformMetricNames.notebooksCulled, ns).totalValue == 1)
    }

    @Test func admissionWaitRunsFromQueuedOrCreationAndSkipsResumedJobs() throws {
        let at = try #require(Timestamp.parse("2026-12-01T10:10:00Z"))
        var job = Self.object("TrainingJob", "j", "ns")
        job[path: "metadata", "creationTimestamp"] = "2026-12-01T10:09:55Z"
        #expect(PlatformTransitions.admissionWait(of: job, at: at) == 5, "never queued: since creation")
        job[path: "status", "conditions"] = [["type": "Admitted", "status": "False", "reason": "Suspended", "lastTransitionTime": "2026-12-01T09:00:00Z"]]
        #expect(PlatformTransitions.admissionWait(of: job, at: at) == nil, "resumed (Kueue admits so): not a queue wait")
        job[path: "status", "conditions"] = [["type": "Admitted", "status": "False", "reason": "Queued", "lastTransitionTime": "2026-12-01T09:10:00Z"]]
        #expect(PlatformTransitions.admissionWait(of: job, at: at) == 3600)
    }

    @Test func earlyStoppingSavesTheRestOfTheDeadlineBudgetAndNothingWithoutOne() throws {
        let at = try #require(Timestamp.parse("2026-12-01T10:10:00Z"))
        var job = Self.object("TrainingJob", "j", "ns", status: ["requestedGPUs": 4, "startTime": "2026-12-01T10:00:00Z"])
        #expect(PlatformTransitions.savedGPUSeconds(of: job, at: at) == 0, "no activeDeadlineSeconds: no budget to measure")
        job[path: "spec", "activeDeadlineSeconds"] = 3600
        #expect(PlatformTransitions.savedGPUSeconds(of: job, at: at) == 4 * 3000)
        job[path: "spec", "activeDeadlineSeconds"] = 300
        #expect(PlatformTransitions.savedGPUSeconds(of: job, at: at) == 0, "past its deadline: nothing left to save")
        job[path: "status", "startTime"] = nil
        #expect(PlatformTransitions.savedGPUSeconds(of: job, at: at) == 4 * 300, "stopped before it started running: the whole budget")
    }
}
