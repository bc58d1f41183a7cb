import Testing
import Foundation
import KubeCore
import GantryAPI
@testable import GantryControllers

/// Pure-logic checks behind issue #8 (the end-to-end ones are in EndToEndTests/TrainingJobHardeningTests).
@Suite struct TrainingJobHardeningPlannerTests {
    static func running(_ spec: JSONValue, name: String = "train") throws -> (TrainingJob, [JSONValue]) {
        var job = try makeJob(name, spec: spec)
        let first = TrainingJobPlanner.plan(observe(job))
        job.status = first.status
        let pods = first.create.filter { $0.kind == "Pod" }.map { withPhase($0, "Running") }
        let second = TrainingJobPlanner.plan(observe(job, pods: pods))
        job.status = second.status
        return (job, pods)
    }

    @Test func aGangLargerThanEveryMatchingNodeTogetherIsInvalid() throws {
        let job = try makeJob(spec: ["image": "t", "replicas": 1024, "gpu": ["count": 1], "distributed": ["framework": "pytorch"]])
        let plan = TrainingJobPlanner.plan(observe(job, nodes: [gpuNode("a", gpus: 8), gpuNode("b", gpus: 8)]))
        #expect(plan.status.phase == .invalid)
        #expect(plan.create.isEmpty)
        let invalid = try #require(plan.status.conditions?[type: "Invalid"])
        #expect(invalid.reason == "GangTooLarge")
        #expect(invalid.message.contains("at most 16"), "\(invalid.message)")
        #expect(plan.status.gpus == 0 && plan.status.requestedGPUs == 1024)
    }

    @Test func validationStopsAtAdmissionSoALoweredQuotaNeverStopsRunningWork() throws {
        let (job, pods) = try Self.running(["image": "t", "gpu": ["count": 4]])
        #expect(job.status.phase == .running)
        var platform = PlatformConfigSpec()
        platform.quotas = [NamespaceQuota(namespace: "ml", gpus: 1)]
        let plan = TrainingJobPlanner.plan(observe(job, pods: pods, platform: platform))
        #expect(plan.status.phase == .running)
        #expect(plan.status.conditions?[type: "Invalid"] == nil)
        #expect(plan.deletePods.isEmpty)
        #expect(plan.status.gpus == 4)
    }

    @Test func reservedEnvNamesAndCollidingHyperparametersAreRefusedByField() throws {
        let pytorch = try makeJob(spec: ["image": "t", "replicas": 2, "distributed": ["framework": "pytorch"],
                                         "env": [["name": "X", "value": "1"], ["name": "MASTER_ADDR", "value": "me"]]])
        let message = TrainingJobPlanner.plan(observe(pytorch)).status.conditions?[type: "Invalid"]?.message ?? ""
        #expect(message.contains("spec.env[1].name: MASTER_ADDR"), "\(message)")
        // Without a framework RANK is the user's own.
        let single = try makeJob(spec: ["image": "t", "env": [["name": "RANK", "value": "1"]]])
        #expect(TrainingJobPlanner.plan(observe(single)).status.conditions?[type: "Invalid"] == nil)
        let clash = try makeJob(spec: ["image": "t", "hyperparameters": ["batch-size": "1", "BATCH_SIZE": "2", "lr": "0.1"]])
        let hp = TrainingJobPlanner.plan(observe(clash)).status.conditions?[type: "Invalid"]?.message ?? ""
        #expect(hp.contains("BATCH_SIZE and batch-size") && hp.contains("HP_BATCH_SIZE"), "\(hp)")
        // The env of a valid job holds each variable once.
        let ok = try makeJob(spec: ["image": "t", "hyperparameters": ["lr": "0.1"], "env": [["name": "LR", "value": "x"]]])
        let pod = try #require(TrainingJobPlanner.plan(observe(ok)).create.first { $0.kind == "Pod" })
        let names = pod[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
        #expect(names.count == Set(names).count)
    }

    @Test func childNamesAreDNSLabelsAndDistinctForNamesThatDifferOnlyInPunctuation() {
        for owner in ["resnet50.v2", "resnet50-v2", "3d-unet", "UPPER", String(repeating: "a.b", count: 40)] {
            for suffix in ["", "0", "hostfile", "tensorboard", "record"] {
                let name = ChildNaming.name(owner, suffix)
                #expect(ChildNaming.isDNS1035Label(name), "\(owner) + \(suffix) → \(name)")
            }
            #expect(ChildNaming.isLabelValue(ChildNaming.labelValue(owner)))
        }
        #expect(ChildNaming.name("resnet50.v2", "") != ChildNaming.name("resnet50-v2", ""))
        #expect(ChildNaming.name("resnet50-v2", "0") == "resnet50-v2-0")  // valid names are kept as they are
        #expect(ChildNaming.name("3d-unet", "0").hasPrefix("g3d-unet-"))
        #expect(ChildNaming.labelValue("resnet50.v2") == "resnet50.v2")
        #expect(ChildNaming.labelValue(String(repeating: "x", count: 100)).count <= 63)
    }

    @Test func aStarvedGangHoldsBackOnlyJobsCompetingForTheSamePoolOrQuota() throws {
        let now = 1_780_000_000.0
        let nodes = [gpuNode("a100-1", gpus: 8), gpuNode("h100-1", gpus: 8, product: "H100")]
        func candidate(_ name: String, _ spec: JSONValue, created: String, waiting: Double? = nil) throws -> GangAdmission.Candidate {
            var o: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob", "spec": spec]
            o.name = name
            o.namespace = "ml"
            o[path: "metadata", "uid"] = .string(name)
            o[path: "metadata", "creationTimestamp"] = .string(created)
            let job = try TrainingJob(o)
            let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
            return .init(job: job, placement: placement, tolerations: placement.tolerations, admitted: false, boundPods: 0, waitingSince: waiting)
        }
        // The head waits for more A100s than are free (another job holds 6 of 8) and has waited past the bound.
        var holder = try candidate("holder", ["image": "t", "gpu": ["count": 6, "product": "A100"]], created: "2026-12-01T09:00:00Z")
        holder.admitted = true
        let head = try candidate("head", ["image": "t", "gpu": ["count": 4, "product": "A100"]], created: "2026-12-01T10:00:00Z", waiting: now - 700)
        let smallA100 = try candidate("small-a100", ["image": "t", "gpu": ["count": 1, "product": "A100"]], created: "2026-12-01T10:01:00Z")
        let h100 = try candidate("h100", ["image": "t", "gpu": ["count": 1, "product": "H100"]], created: "2026-12-01T10:02:00Z")
        let cpu = try candidate("cpu", ["image": "t"], created: "2026-12-01T10:03:00Z")
        let d = GangAdmission.decide(candidates: [holder, head, smallA100, h100, cpu], nodes: nodes, usedGPUs: [:],
                                     platform: PlatformConfigSpec(), now: now)
        #expect(d[head.job.key] != .admitted)
        if case .queued(_, let reason) = d[smallA100.job.key] {
            #expect(reason.contains("waiting behind ml/head"), "\(reason)")
        } else {
            Issue.record("a job competing for the starved pool was admitted past it")
        }
        #expect(d[h100.job.key] == .admitted)  // another pool
        #expect(d[cpu.job.key] == .admitted)   // CPU-only jobs are never held back
    }

    @Test func terminalPhasesAreCompleteAndOnlyFailuresAreStalled() throws {
        let (job, pods) = try Self.running(["image": "t", "gpu": ["count": 2], "earlyStopping": ["metric": "loss", "patience": ["evaluations": 2]]])
        var stopped = observe(job, pods: pods)
        stopped.metrics = MetricsSnapshot(metrics: MetricsStatus(), earlyStop: EarlyStopStatus(rule: "patience", step: 9, value: 1, message: "flat"))
        let early = TrainingJobPlanner.plan(stopped).status
        #expect(early.phase == .earlyStopped)
        #expect(early.conditions?.isTrue("Complete") == true && early.conditions?.isTrue("Ready") == true)
        #expect(early.conditions?[type: "Stalled"] == nil)
        #expect(early.gpus == 0 && early.requestedGPUs == 2)

        let failedPods = pods.map { withPhase($0, "Failed", exitCode: 3) }
        var failing = job
        failing.spec.backoffLimit = 0
        let failed = TrainingJobPlanner.plan(observe(failing, pods: failedPods)).status
        #expect(failed.phase == .failed)
        #expect(failed.conditions?.isTrue("Complete") == true && failed.conditions?.isTrue("Stalled") == true)
        #expect(failed.conditions?.isTrue("Ready") == false)
    }

    @Test func knownMetricsAreNeverReplacedByEmptierOnes() throws {
        var (job, pods) = try Self.running(["image": "t"])
        var known = MetricsStatus()
        known.step = 120
        known.best = BestMetric(name: "loss", value: 0.2, step: 110)
        job.status.metrics = known
        var o = observe(job, pods: pods)
        o.metrics = MetricsSnapshot(metrics: MetricsStatus(), earlyStop: nil)  // a follower that just restarted
        #expect(TrainingJobPlanner.plan(o).status.metrics?.step == 120)
        var fresher = MetricsStatus()
        fresher.step = 130
        o.metrics = MetricsSnapshot(metrics: fresher, earlyStop: nil)
        #expect(TrainingJobPlanner.plan(o).status.metrics?.step == 130)
    }

    @Test func aDeletedJobWritesADeletedRecordThenLetsGo() throws {
        var (job, pods) = try Self.running(["image": "t", "hyperparameters": ["lr": "0.1"]])
        job.deletionTimestamp = "2026-12-01T11:00:00Z"
        var o = observe(job, pods: pods)
        o.logTails = ["train-0": ["last words"]]
        let plan = TrainingJobPlanner.plan(o)
        let record = try #require(plan.create.first { $0.name == "train-record" })
        let doc = try JSONValue.parse(record[path: "data", "record.json"]?.stringValue ?? "")
        #expect(doc["phase"] == "Deleted")
        #expect(plan.removeFinalizer)
        #expect(plan.deletePods.isEmpty)  // garbage collection takes them
        // Once the record exists, only the finalizer goes.
        let again = TrainingJobPlanner.plan(observe(job, pods: pods, recordExists: true))
        #expect(again.create.isEmpty && again.removeFinalizer)
    }

    @Test func aRejectedChildKeepsTheJobInvalidForItsGeneration() throws {
        var (job, pods) = try Self.running(["image": "t", "gpu": ["count": 1]])
        var conditions = job.status.conditions ?? []
        conditions.set(Condition(type: "Invalid", status: .true, reason: ChildRejection.reason, message: "refused", observedGeneration: job.generation), now: "2026-12-01T10:00:00Z")
        job.status.conditions = conditions
        let plan = TrainingJobPlanner.plan(observe(job, pods: pods))
        #expect(plan.status.phase == .invalid)
        #expect(plan.deletePods == ["train-0"])
        #expect(plan.create.isEmpty)
        #expect(plan.status.conditions?[type: "Admitted"] == nil)
    }

    @Test func finishedJobsDropTheirHeadlessServiceAndHonourTheirOwnPodPolicy() throws {
        var (job, pods) = try Self.running(["image": "t", "replicas": 2, "distributed": ["framework": "pytorch"], "finishedPodPolicy": "Keep"])
        let done = pods.map { withPhase($0, "Succeeded", exitCode: 0) }
        let plan = TrainingJobPlanner.plan(observe(job, pods: done))
        #expect(plan.status.phase == .succeeded)
        // The headless Service is no longer desired: pruned (Services owned by the job and not desired go).
        #expect(plan.children.prune.contains(.services) && !plan.create.contains { $0.kind == "Service" })
        #expect(plan.deletePods.isEmpty)  // Keep, for this job, though the platform deletes by default
        job.status = plan.status
        let later = TrainingJobPlanner.plan(observe(job, pods: done, serviceExists: true, recordExists: true))
        #expect(later.children.prune.contains(.services) && !later.create.contains { $0.kind == "Service" })
    }

    @Test func aJobWithoutTheFinalizerGetsItBeforeAnyChild() throws {
        let job = try makeJob(spec: ["image": "t"])
        var o = observe(job)
        o.hasFinalizer = false
        let plan = TrainingJobPlanner.plan(o)
        #expect(plan.addFinalizer)
        #expect(!plan.create.isEmpty)  // the reconciler applies the finalizer first
    }
}

/// PlatformConfig spec.podPolicy (issue #8 item 14).
@Suite struct PodPolicyPlannerTests {
    @Test func hostPathAndUnlistedServiceAccountsAreInvalidByDefaultOrByPolicy() throws {
        let job = try makeJob(spec: ["image": "t", "serviceAccountName": "admin",
                                     "volumes": [["name": "data", "hostPath": ["path": "/data"]], ["name": "cfg", "configMap": ["name": "c"]]]])
        var platform = PlatformConfigSpec()
        platform.podPolicy = PodPolicy()
        platform.podPolicy?.allowedServiceAccounts = ["trainer"]
        let plan = TrainingJobPlanner.plan(observe(job, platform: platform))
        #expect(plan.status.phase == .invalid)
        #expect(plan.create.isEmpty)
        let message = plan.status.conditions?[type: "Invalid"]?.message ?? ""
        #expect(plan.status.conditions?[type: "Invalid"]?.reason == "PolicyViolation")
        #expect(message.contains("spec.volumes[0] (data) is a hostPath volume"), "\(message)")
        #expect(!message.contains("spec.volumes[1]"))
        #expect(message.contains("spec.serviceAccountName: admin"), "\(message)")
        // An admin who allows hostPath and the account lets the same job run.
        platform.podPolicy?.allowedVolumeTypes = ["hostPath", "configMap"]
        platform.podPolicy?.allowedServiceAccounts = ["admin"]
        #expect(TrainingJobPlanner.plan(observe(job, platform: platform)).status.phase != .invalid)
    }

    @Test func trainingPodsGetTheRestrictedSecurityContextUnlessTheAdminSaysNone() throws {
        let job = try makeJob(spec: ["image": "t"])
        let pod = try #require(TrainingJobPlanner.plan(observe(job)).create.first { $0.kind == "Pod" })
        #expect(pod[path: "spec", "securityContext", "runAsNonRoot"] == true)
        #expect(pod[path: "spec", "securityContext", "seccompProfile", "type"] == "RuntimeDefault")
        let container = pod[path: "spec", "containers"]?.arrayValue?.first
        #expect(container?[path: "securityContext", "allowPrivilegeEscalation"] == false)
        #expect(container?[path: "securityContext", "capabilities", "drop"] == ["ALL"])
        var platform = PlatformConfigSpec()
        platform.podPolicy = PodPolicy()
        platform.podPolicy?.securityContext = PodPolicy.SecurityProfile.none
        let plan = TrainingJobPlanner.plan(observe(job, platform: platform))
        let open = try #require(plan.create.first { $0.kind == "Pod" })
        #expect(open[path: "spec", "securityContext"] == nil)
        #expect(plan.status.appliedDefaults?.securityContext == "None")
    }
}

/// spec.metrics.objective and .additional (issue #8 item 9): BEST names its metric and goal; more than one metric
/// keeps a history.
@Suite struct MetricSetTests {
    @Test func theObjectiveTheStoppingMetricAndAdditionalOnesEachKeepTheirBestAndHistory() throws {
        let job = try makeJob(spec: ["image": "t",
                                     "metrics": ["objective": ["metric": "val_acc", "goal": "maximize"], "additional": ["lr", "val_acc"]],
                                     "earlyStopping": ["metric": "loss", "patience": ["evaluations": 3]]])
        var set = MetricSet(job.spec)
        #expect(set.rules.metric == "loss")
        for (step, loss, acc, lr) in [(1, 2.0, 0.2, 0.1), (2, 1.0, 0.6, 0.05), (3, 1.5, 0.5, 0.01)] {
            let value = set.record(MetricLine(step: step, values: ["loss": loss, "val_acc": acc, "lr": lr]))
            #expect(value == loss)  // the rules read loss
        }
        let status = set.status
        #expect(status.best?.name == "val_acc" && status.best?.value == 0.6 && status.best?.goal == .maximize)
        #expect(status.history?.count == 3)
        let names = status.additional?.map(\.name) ?? []
        #expect(names == ["loss", "lr"])  // val_acc is the objective already: not twice
        #expect(status.additional?.first?.best?.value == 1.0)
        #expect(status.history(of: "loss")?.count == 3)
        #expect(status.history(of: "val_acc")?.map { $0[1] } == [0.2, 0.6, 0.5])
    }

    @Test func withoutAnObjectiveTheEarlyStoppingMetricIsIt_ElseLossAndTheRecordSaysWhich() throws {
        let stopping = try makeJob(spec: ["image": "t", "earlyStopping": ["metric": "val_loss"]])
        #expect(MetricSet(stopping.spec).objective.metric == "val_loss")
        let plain = try makeJob(spec: ["image": "t"])
        #expect(MetricSet(plain.spec).objective.metric == "loss")
        let doc = TrainingRecord.document(plain, status: TrainingJobStatus(), pods: [])
        #expect(doc["objective"] == ["metric": "loss", "goal": "minimize"])
    }
}
