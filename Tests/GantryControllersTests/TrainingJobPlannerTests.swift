import Testing
import Foundation
import KubeCore
import GantryAPI
@testable import GantryControllers

func gpuNode(_ name: String, gpus: Int, product: String = "A100") -> JSONValue {
    var n: JSONValue = ["apiVersion": "v1", "kind": "Node", "spec": [
        "taints": [["key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"]]],
        "status": ["allocatable": ["nvidia.com/gpu": .string(String(gpus)), "cpu": "64"],
                   "conditions": [["type": "Ready", "status": "True"]]]]
    n.name = name
    n.labels = ["nvidia.com/gpu.product": product, "nvidia.com/gpu.memory": "81920"]
    return n
}

func makeJob(_ name: String = "train", spec: JSONValue, status: JSONValue = .emptyObject, labels: [String: String] = [:]) throws -> TrainingJob {
    var o: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob", "spec": spec, "status": status]
    o.name = name
    o.namespace = "ml"
    o[path: "metadata", "uid"] = .string("uid-\(name)")
    o[path: "metadata", "generation"] = 1
    o[path: "metadata", "creationTimestamp"] = "2026-12-01T10:00:00Z"
    o.labels = labels
    return try TrainingJob(o)
}

func observe(_ job: TrainingJob, pods: [JSONValue] = [], nodes: [JSONValue] = [gpuNode("n1", gpus: 8)],
             admission: GangAdmission.Decision = .admitted, platform: PlatformConfigSpec = .init(), now: Double = 1_780_000_000,
             serviceExists: Bool = true, recordExists: Bool = false) -> TrainingJobObservation {
    TrainingJobObservation(job: job, pods: pods, serviceExists: serviceExists, hostfileExists: true, recordExists: recordExists,
                           platform: platform, nodes: nodes, admission: admission, logTails: [:], now: now)
}

/// A pod as the kubelet reports it, built from the planner's own desired pod.
func withPhase(_ pod: JSONValue, _ phase: String, exitCode: Int? = nil, reason: String? = nil) -> JSONValue {
    var p = pod
    p[path: "status", "phase"] = .string(phase)
    if phase == "Running" { p[path: "status", "conditions"] = [["type": "Ready", "status": "True"]] }
    if let exitCode {
        p[path: "status", "containerStatuses"] = [["name": "trainer", "state": ["terminated": ["exitCode": .int(Int64(exitCode)), "reason": exitCode == 0 ? "Completed" : "Error"]]]]
    }
    if let reason { p[path: "status", "reason"] = .string(reason) }
    return p
}

@Suite struct TrainingJobPlannerTests {
    @Test func singleGPUJobCreatesOnePodWithGPULimitsAffinityTolerationAndShmAndNoService() throws {
        let job = try makeJob(spec: ["image": "trainer:1", "gpu": ["count": 1, "product": "A100"]])
        let plan = TrainingJobPlanner.plan(observe(job, serviceExists: false))
        let pods = plan.create.filter { $0.kind == "Pod" }
        // Only distributed jobs need the headless Service (ranks resolve each other through it).
        #expect(!plan.create.contains { $0.kind == "Service" })
        #expect(pods.count == 1)
        let pod = try #require(pods.first)
        #expect(pod.name == "train-0")
        #expect(pod[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "limits", "nvidia.com/gpu"] == "1")
        #expect(pod[path: "spec", "affinity", "nodeAffinity"] != nil)
        #expect(pod[path: "spec", "tolerations"]?.arrayValue?.first?["key"] == "nvidia.com/gpu")
        #expect(pod[path: "spec", "volumes"]?.arrayValue?.contains { $0[path: "emptyDir", "medium"] == "Memory" } == true)
        #expect(pod.ownerReferences.first?.controller == true)
        #expect(plan.status.phase == .admitted)
        #expect(plan.status.conditions?.isTrue("Admitted") == true)
    }

    @Test func pytorchReplicasGetRendezvousEnvironment() throws {
        let job = try makeJob(spec: ["image": "t", "replicas": 4, "gpu": ["count": 2], "distributed": ["framework": "pytorch"]])
        let plan = TrainingJobPlanner.plan(observe(job))
        let pods = plan.create.filter { $0.kind == "Pod" }
        #expect(pods.count == 4)
        for (i, pod) in pods.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }).enumerated() {
            let env = Dictionary(uniqueKeysWithValues: (pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []).compactMap { e in
                e["name"]?.stringValue.map { ($0, e["value"]?.stringValue ?? "") } })
            #expect(env["MASTER_ADDR"] == "train-0.train")
            #expect(env["MASTER_PORT"] == "29500")
            #expect(env["WORLD_SIZE"] == "4")
            #expect(env["RANK"] == String(i))
            #expect(env["LOCAL_WORLD_SIZE"] == "2")
        }
    }

    @Test func aNodeCachedDatasetGetsOneSharedDaemonSetAndReplicasPreferReadyNodes() throws {
        let job = try makeJob(spec: ["image": "t", "gpu": ["count": 1, "product": "A100"], "dataset": ["uri": "s3://data/imagenet", "cache": "node"]])
        let first = TrainingJobPlanner.plan(observe(job))
        let ds = try #require(first.create.first { $0.kind == "DaemonSet" })
        #expect(ds.name == DatasetCache.daemonSetName("s3://data/imagenet"))
        #expect(ds.ownerReferences.isEmpty)  // shared by every job of the dataset
        #expect(ds[path: "spec", "template", "spec", "affinity"] != nil)  // only where the jobs' GPUs are
        let pod = try #require(first.create.first { $0.kind == "Pod" })
        let mounts = pod[path: "spec", "containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
        #expect(mounts.contains { $0["mountPath"] == "/datasets" && $0["readOnly"] == true })
        var o = observe(job)
        o.datasetCacheExists = true
        o.datasetCacheReadyNodes = ["n1"]
        let second = TrainingJobPlanner.plan(o)
        #expect(!second.create.contains { $0.kind == "DaemonSet" })
        let preferred = second.create.first { $0.kind == "Pod" }?[path: "spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]
        #expect(preferred?.arrayValue?.first?[path: "preference", "matchFields"]?.arrayValue?.first?["values"] == ["n1"])
    }

    @Test func tensorflowAndMPIGetTheirClusterDescriptions() throws {
        let tf = try makeJob("tf", spec: ["image": "t", "replicas": 3, "distributed": ["framework": "tensorflow", "port": 2222]])
        let pod = try #require(TrainingJobPlanner.plan(observe(tf)).create.first { $0.name == "tf-2" })
        let env = pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
        let config = try JSONValue.parse(try #require(env.first { $0["name"] == "TF_CONFIG" }?["value"]?.stringValue))
        #expect(config[path: "cluster", "worker"] == ["tf-0.tf:2222", "tf-1.tf:2222", "tf-2.tf:2222"])
        #expect(config[path: "task", "index"] == 2)

        let mpi = try makeJob("mpi", spec: ["image": "t", "replicas": 2, "gpu": ["count": 4], "distributed": ["framework": "mpi"]])
        let plan = TrainingJobPlanner.plan(TrainingJobObservation(job: mpi, pods: [], serviceExists: true, hostfileExists: false, recordExists: false,
                                                                   platform: .init(), nodes: [gpuNode("n1", gpus: 8)], admission: .admitted,
                                                                   logTails: [:], now: 0))
        let hostfile = try #require(plan.create.first { $0.name == "mpi-hostfile" })
        #expect(hostfile[path: "data", "hostfile"] == "mpi-0.mpi slots=4\nmpi-1.mpi slots=4\n")
        let mpiPod = try #require(plan.create.first { $0.name == "mpi-0" })
        #expect(mpiPod[path: "spec", "volumes"]?.arrayValue?.contains { $0[path: "configMap", "name"] == "mpi-hostfile" } == true)
    }

    @Test func aFailedReplicaRestartsTheWholeGangThenTheBackoffLimitFailsTheJob() throws {
        var job = try makeJob(spec: ["image": "t", "replicas": 2, "distributed": ["framework": "pytorch"], "backoffLimit": 1])
        let first = TrainingJobPlanner.plan(observe(job))
        let pods = first.create.filter { $0.kind == "Pod" }
        job.status = first.status
        let running = [withPhase(pods[0], "Failed", exitCode: 1), withPhase(pods[1], "Running")]
        let restart = TrainingJobPlanner.plan(observe(job, pods: running))
        #expect(Set(restart.deletePods) == Set(["train-0", "train-1"]))
        #expect(restart.status.restarts == 1)
        #expect(restart.events.contains { $0.reason == "GangRestart" })
        // Planning again from the same observation after the status write does not count the failure twice.
        job.status = restart.status
        let again = TrainingJobPlanner.plan(observe(job, pods: running))
        #expect(again.status.restarts == 1)
        #expect(again.create.isEmpty)  // old attempt's pods must go before the gang is recreated
        // Second attempt fails too: backoffLimit 1 is exhausted.
        let second = TrainingJobPlanner.plan(observe(job)).create.filter { $0.kind == "Pod" }
        #expect(second.first?.annotations[TrainingPods.attemptAnnotation] == "1")
        let failed = TrainingJobPlanner.plan(observe(job, pods: [withPhase(second[0], "Failed", exitCode: 2), withPhase(second[1], "Running")]))
        #expect(failed.status.phase == .failed)
        #expect(failed.status.conditions?[type: "Failed"]?.reason == "BackoffLimitExceeded")
        #expect(failed.create.contains { $0.kind == "ConfigMap" && $0.name == "train-record" })
    }

    @Test func evictionRestartsWithoutCountingAgainstTheBackoffLimit() throws {
        var job = try makeJob(spec: ["image": "t", "backoffLimit": 0])
        let first = TrainingJobPlanner.plan(observe(job))
        job.status = first.status
        let pod = first.create.first { $0.kind == "Pod" }!  // trap-ok: test
        let plan = TrainingJobPlanner.plan(observe(job, pods: [withPhase(pod, "Failed", reason: "Evicted")]))
        #expect(plan.status.phase == .admitted)
        #expect(plan.status.evictionRestarts == 1)
        #expect(plan.status.restarts ?? 0 == 0)
    }

    @Test func tensorBoardPodAndServiceStayBesideTheJobEvenWhenItFinished() throws {
        var job = try makeJob(spec: ["image": "t", "tensorboard": ["logDir": "s3://runs/x"]])
        let plan = TrainingJobPlanner.plan(observe(job))
        let board = try #require(plan.create.first { $0.name == "train-tensorboard" && $0.kind == "Pod" })
        #expect(board[path: "spec", "containers"]?.arrayValue?.first?["command"]?.arrayValue?.contains("s3://runs/x") == true)
        #expect(board[path: "spec", "containers"]?.arrayValue?.first?[path: "resources", "limits", "nvidia.com/gpu"] == nil)
        #expect(plan.create.contains { $0.name == "train-tensorboard" && $0.kind == "Service" })
        job.status.phase = .succeeded
        var o = observe(job, recordExists: true)
        o.tensorboardPodExists = true
        o.tensorboardServiceExists = true
        // Nothing new is created; the Service stays desired (so it is kept when finished Services are pruned,
        // and corrected if edited), which costs no request while it is as desired.
        let finished = TrainingJobPlanner.plan(o)
        #expect(finished.create.map { "\($0.kind ?? "") \($0.name ?? "")" } == ["Service train-tensorboard"])
        #expect(finished.children.prune.contains(.services))
        #expect(finished.deletePods.isEmpty)
    }

    @Test func podsThatVanishWhileRunningRestartTheGangAsADisruption() throws {
        var job = try makeJob(spec: ["image": "t", "replicas": 2, "distributed": ["framework": "pytorch"], "backoffLimit": 0])
        let first = TrainingJobPlanner.plan(observe(job))
        let pods = first.create.filter { $0.kind == "Pod" }.map { withPhase($0, "Running") }
        job.status = first.status
        job.status = TrainingJobPlanner.plan(observe(job, pods: pods)).status
        #expect(job.status.phase == .running)
        let plan = TrainingJobPlanner.plan(observe(job, pods: [pods[1]]))  // train-0 is gone with its node
        #expect(plan.status.evictionRestarts == 1)
        #expect(plan.status.restarts ?? 0 == 0)
        #expect(plan.deletePods == ["train-1"])
        #expect(plan.create.filter { $0.kind == "Pod" }.isEmpty)
    }

    @Test func successKeepsReplicaFactsWritesTheRecordAndFreesGPUs() throws {
        var job = try makeJob(spec: ["image": "t", "gpu": ["count": 1], "hyperparameters": ["lr": "0.1"],
                                     "env": [["name": "TOKEN", "valueFrom": ["secretKeyRef": ["name": "s", "key": "k"]]]]])
        let first = TrainingJobPlanner.plan(observe(job))
        job.status = first.status
        let pod = withPhase(first.create.first { $0.kind == "Pod" }!, "Succeeded", exitCode: 0)  // trap-ok: test
        var o = observe(job, pods: [pod])
        o.logTails = ["train-0": ["step=100 loss=0.1", "done"]]
        let plan = TrainingJobPlanner.plan(o)
        #expect(plan.status.phase == .succeeded)
        #expect(plan.deletePods == ["train-0"])
        #expect(plan.status.replicaStatuses?.first?.lastLogLines == ["step=100 loss=0.1", "done"])
        #expect(plan.status.replicaStatuses?.first?.exitCode == 0)
        let record = try #require(plan.create.first { $0.name == "train-record" })
        let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
        #expect(doc["hyperparameters"]?["lr"] == "0.1")
        #expect(doc["env"]?.arrayValue?.first?["value"] == nil)  // secret value never copied
        #expect(doc[path: "result", "reason"] == plan.status.conditions?[type: "Succeeded"].map { .string($0.reason) })  // how it ended
        #expect(doc[path: "result", "reason"] != nil)
        #expect(record.ownerReferences.isEmpty)  // outlives the job
    }

    @Test func aFiredEarlyStoppingRuleStopsTheRunDeletesPodsAndRecordsWhy() throws {
        var job = try makeJob(spec: ["image": "t", "earlyStopping": ["metric": "loss", "patience": ["evaluations": 3]]])
        let first = TrainingJobPlanner.plan(observe(job))
        job.status = first.status
        let pod = withPhase(first.create.first { $0.kind == "Pod" }!, "Running")  // trap-ok: test
        var platform = PlatformConfigSpec()
        platform.finishedPodPolicy = .keep  // even when finished pods are kept, a stopped run must release its GPUs
        var o = observe(job, pods: [pod], platform: platform)
        var metrics = MetricsStatus()
        metrics.step = 50
        o.metrics = MetricsSnapshot(metrics: metrics, earlyStop: EarlyStopStatus(rule: "patience", step: 50, value: 0.5, message: "no improvement"))
        let plan = TrainingJobPlanner.plan(o)
        #expect(plan.status.phase == .earlyStopped)
        #expect(plan.deletePods == ["train-0"])
        #expect(plan.status.conditions?[type: "EarlyStopped"]?.status == .true)
        #expect(plan.status.earlyStop?.rule == "patience")
        let record = try #require(plan.create.first { $0.name == "train-record" })
        let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
        #expect(doc["earlyStop"]?["rule"] == "patience")
    }

    @Test func noNodeCanHoldTheRequestIsInvalidAndCreatesNothing() throws {
        let job = try makeJob(spec: ["image": "t", "gpu": ["count": 16, "product": "A100"]])
        let plan = TrainingJobPlanner.plan(observe(job, serviceExists: false))
        #expect(plan.create.isEmpty)
        let invalid = try #require(plan.status.conditions?[type: "Invalid"])
        #expect(invalid.reason == "NoMatchingGPUNodes")
        #expect(invalid.message.contains("spec.gpu"))
        #expect(invalid.message.contains("largest matching node has 8"))
        #expect(plan.status.conditions?.isTrue("Stalled") == true)
    }

    @Test func suspendDeletesPodsAndKeepsState() throws {
        var job = try makeJob(spec: ["image": "t"])
        let first = TrainingJobPlanner.plan(observe(job))
        job.status = first.status
        job.spec.suspend = true
        let pod = withPhase(first.create.first { $0.kind == "Pod" }!, "Running")  // trap-ok: test
        let plan = TrainingJobPlanner.plan(observe(job, pods: [pod]))
        #expect(plan.status.phase == .suspended)
        #expect(plan.deletePods == ["train-0"])
    }

    @Test func ttlDeletesTheJobAfterItFinished() throws {
        var job = try makeJob(spec: ["image": "t", "ttlSecondsAfterFinished": 60])
        job.status.phase = .succeeded
        job.status.completionTime = "2026-12-01T10:00:00Z"
        let done = Timestamp.parse("2026-12-01T10:00:00Z")!.timeIntervalSince1970  // trap-ok: test
        let early = TrainingJobPlanner.plan(observe(job, now: done + 30, recordExists: true))
        #expect(!early.deleteJob)
        #expect(early.requeueAfter == 30)
        #expect(TrainingJobPlanner.plan(observe(job, now: done + 61, recordExists: true)).deleteJob)
    }
}

@Suite struct GPUPlacementTests {
    @Test func sharingModesCompileToTheirExtendedResources() {
        var settings = GPUSettings()
        #expect(GPUPlacement(request: GPURequest(count: 2), settings: settings).limits == ["nvidia.com/gpu": 2])
        #expect(GPUPlacement(request: GPURequest(count: 1, sharing: .timeSliced), settings: settings).limits == ["nvidia.com/gpu.shared": 1])
        #expect(GPUPlacement(request: GPURequest(count: 1, sharing: .mig, migProfile: "1g.10gb"), settings: settings).limits == ["nvidia.com/mig-1g.10gb": 1])
        settings.resourceName = "amd.com/gpu"  // an admin's PlatformConfig for another device plugin
        let amd = GPUPlacement(request: GPURequest(count: 1, product: "MI300X", minMemoryMiB: 196608), settings: settings)
        #expect(amd.limits == ["amd.com/gpu": 1])
        #expect(amd.matchExpressions.count == 2)
        #expect(amd.matchExpressions.last?["values"] == ["196607"])  // Gt is strict
        #expect(GPUPlacement(request: GPURequest(count: 0), settings: settings).limits.isEmpty)
    }
}

@Suite struct GangAdmissionTests {
    func candidate(_ job: TrainingJob, admitted: Bool = false, waitingSince: Double? = nil) -> GangAdmission.Candidate {
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        return .init(job: job, placement: placement, tolerations: placement.tolerations, admitted: admitted, boundPods: 0, waitingSince: waitingSince)
    }

    @Test func twoDistributedJobsThatEachNeedTheWholeClusterNeverDeadlock() throws {
        let nodes = [gpuNode("a", gpus: 8), gpuNode("b", gpus: 8)]
        let spec: JSONValue = ["image": "t", "replicas": 2, "gpu": ["count": 8], "distributed": ["framework": "pytorch"]]
        let first = try makeJob("first", spec: spec)
        let second = try makeJob("second", spec: spec)
        let decisions = GangAdmission.decide(candidates: [candidate(second), candidate(first)], nodes: nodes, usedGPUs: [:], platform: .init(), now: 0)
        #expect(decisions[first.key] == .admitted)  // same priority: name breaks the creation-time tie
        guard case .queued(let position, let reason) = decisions[second.key] else { Issue.record("second should wait"); return }
        #expect(position == 1)
        #expect(reason.contains("not enough free nvidia.com/gpu"))
    }

    @Test func namespaceQuotaAndPriorityOrder() throws {
        var platform = PlatformConfigSpec()
        platform.quotas = [NamespaceQuota(namespace: "ml", gpus: 8)]
        let low = try makeJob("low", spec: ["image": "t", "gpu": ["count": 8]])
        let high = try makeJob("high", spec: ["image": "t", "gpu": ["count": 8], "priority": 10])
        let decisions = GangAdmission.decide(candidates: [candidate(low), candidate(high)], nodes: [gpuNode("a", gpus: 8), gpuNode("b", gpus: 8)],
                                             usedGPUs: [:], platform: platform, now: 0)
        #expect(decisions[high.key] == .admitted)
        guard case .queued(_, let reason) = decisions[low.key] else { Issue.record("low should wait"); return }
        #expect(reason.contains("quota"))
    }

    @Test func backfillStopsOnceTheHeadHasWaitedTooLong() throws {
        let big = try makeJob("big", spec: ["image": "t", "gpu": ["count": 8]])
        let small = try makeJob("small", spec: ["image": "t", "gpu": ["count": 1]])
        let nodes = [gpuNode("a", gpus: 8)]
        let used = ["a": ["nvidia.com/gpu": 4]]
        let fresh = GangAdmission.decide(candidates: [candidate(big, waitingSince: 0), candidate(small)], nodes: nodes, usedGPUs: used, platform: .init(), now: 10)
        #expect(fresh[small.key] == .admitted)
        let starved = GangAdmission.decide(candidates: [candidate(big, waitingSince: 0), candidate(small)], nodes: nodes, usedGPUs: used, platform: .init(), now: 700)
        #expect(starved[small.key] != .admitted)
    }
}
