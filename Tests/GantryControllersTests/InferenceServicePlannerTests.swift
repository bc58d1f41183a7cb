import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// The blue/green state machine as a pure function (the end-to-end behaviour is in InferenceServiceTests).
@Suite struct InferenceServicePlannerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    let planner = InferenceServicePlanner(platform: { PlatformConfigSpec() })

    func service(image: String, rollout: JSONValue = .emptyObject, status: InferenceServiceStatus? = nil,
                 annotations: [String: String] = [:], spec extra: [String: JSONValue] = [:]) throws -> InferenceService {
        var spec: JSONValue = ["image": .string(image), "replicas": 2, "rollout": rollout]
        for (key, value) in extra { spec[key] = value }
        var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "InferenceService", "spec": spec]
        object.name = "api"
        object.namespace = "default"
        object[path: "metadata", "uid"] = "uid-1"
        object[path: "metadata", "generation"] = 1
        object.annotations = annotations
        if let status { object["status"] = try JSONValue(encoding: status).droppingNulls() }
        return try InferenceService(object)
    }

    /// The pods a plan creates, made ready `readyFor` seconds before `now`.
    func readyPods(_ plan: KindPlan<InferenceServiceStatus>, now: Date, readyFor: Double = 60) -> [JSONValue] {
        plan.children.desired.filter { $0.type == .pods }.map { child in
            var pod = child.object
            pod[path: "status", "phase"] = "Running"
            pod[path: "status", "conditions"] = [["type": "Ready", "status": "True",
                                                  "lastTransitionTime": .string(Timestamp.format(now.addingTimeInterval(-readyFor)))]]
            return pod
        }
    }

    func plan(_ service: InferenceService, pods: [JSONValue], inputs: InferenceServicePlanner.Inputs = .init(platform: PlatformConfigSpec()),
              at now: Date) -> KindPlan<InferenceServiceStatus> {
        planner.plan(KindObservation(object: service, children: [.pods: pods], inputs: inputs, now: now))
    }

    func selector(_ plan: KindPlan<InferenceServiceStatus>, _ name: String) -> String? {
        plan.children.desired.first { $0.type == .services && $0.name == name }?.object[path: "spec", "selector", GantryLabels.color]?.stringValue
    }

    @Test func aNewRevisionStartsInTheIdleColourAndTheAliasMovesOnlyWhenItIsReady() throws {
        let first = plan(try service(image: "m:1"), pods: [], at: Self.start)
        #expect(first.status.activeColor == .blue && selector(first, "api") == "blue")
        let blue = readyPods(first, now: Self.start)
        #expect(blue.count == 2)

        // A new image: the candidate starts in green, the alias stays on blue.
        let rolling = plan(try service(image: "m:2", status: first.status), pods: blue, at: Self.start)
        #expect(rolling.status.candidate?.revision.color == .green && rolling.status.candidate?.phase == .progressing)
        #expect(selector(rolling, "api") == "blue" && selector(rolling, "api-preview") == "green")
        let green = readyPods(rolling, now: Self.start).filter { $0.labels[GantryLabels.color] == "green" }
        #expect(green.count == 2)

        // Green ready: one swap, blue kept warm.
        let swapped = plan(try service(image: "m:2", status: rolling.status), pods: blue + green, at: Self.start)
        #expect(swapped.status.activeColor == .green && swapped.status.candidate == nil)
        #expect(selector(swapped, "api") == "green")
        #expect(swapped.status.previousRevision?.color == .blue && swapped.status.lastSwap?.reason == "Swapped")
        #expect(swapped.children.desired.filter { $0.type == .pods }.count == 4)  // blue stays while warm

        // Spec reverted inside the window: back to blue, nothing new to create.
        let back = plan(try service(image: "m:1", status: swapped.status), pods: blue + green, at: Self.start.addingTimeInterval(5))
        #expect(back.status.activeColor == .blue && back.status.lastSwap?.reason == "RolledBack")
        let names = Set((blue + green).compactMap(\.name))
        #expect(back.children.desired.filter { $0.type == .pods }.allSatisfy { names.contains($0.name) })

        // After the window the warm colour goes (pruned: not desired).
        let later = plan(try service(image: "m:1", status: back.status), pods: blue + green, at: Self.start.addingTimeInterval(60))
        #expect(later.status.previousRevision == nil)
        #expect(later.children.desired.filter { $0.type == .pods }.allSatisfy { $0.object.labels[GantryLabels.color] == "blue" })
        #expect(later.children.prune.contains(.pods))
    }

    @Test func minReadySecondsAndTheProgressDeadlineDecideFromPodTimes() throws {
        let rollout: JSONValue = ["minReadySeconds": 10, "progressDeadlineSeconds": 30]
        let first = plan(try service(image: "m:1", rollout: rollout), pods: [], at: Self.start)
        let blue = readyPods(first, now: Self.start)
        let rolling = plan(try service(image: "m:2", rollout: rollout, status: first.status), pods: blue, at: Self.start)
        let fresh = readyPods(rolling, now: Self.start, readyFor: 3).filter { $0.labels[GantryLabels.color] == "green" }
        let early = plan(try service(image: "m:2", rollout: rollout, status: rolling.status), pods: blue + fresh, at: Self.start)
        #expect(early.status.candidate?.phase == .progressing && early.status.activeColor == .blue)
        #expect(early.requeueAfter.map { $0 <= .seconds(8) } == true)  // looks again when minReadySeconds pass

        // Never ready, past the deadline: failed with the pod's reason; blue serves on.
        var stuck = fresh
        for i in stuck.indices {
            stuck[i][path: "status", "conditions"] = [["type": "Ready", "status": "False"]]
            stuck[i][path: "status", "containerStatuses"] = [["name": "server", "state": ["waiting": ["reason": "ImagePullBackOff", "message": "Back-off pulling image"]]]]
        }
        let failed = plan(try service(image: "m:2", rollout: rollout, status: rolling.status), pods: blue + stuck, at: Self.start.addingTimeInterval(31))
        #expect(failed.status.candidate?.phase == .failed)
        #expect(failed.status.candidate?.message?.contains("ImagePullBackOff") == true)
        #expect(failed.status.activeColor == .blue && selector(failed, "api") == "blue")
        #expect(failed.status.conditions?.isTrue("Stalled") == true)
        #expect(!failed.children.desired.contains { $0.object.labels[GantryLabels.color] == "green" })  // pruned
    }

    @Test func validationJudgesStatusLatencyAndJSONFields() throws {
        let request = try JSONValue.parse(#"{"method": "POST", "path": "/v1/models/m:predict", "expect": {"status": 200, "maxLatencyMilliseconds": 500, "json": [{"path": "predictions.0.label", "equals": "positive"}, {"path": "predictions.0.score", "value": 0.9, "tolerance": 0.05}]}}"#).decode(ValidationRequest.self)
        let good = Array(#"{"predictions": [{"label": "positive", "score": 0.93}]}"#.utf8)
        #expect(CandidateValidation.judge(request, code: 200, body: good, latencyMilliseconds: 20).passed)
        let wrong = Array(#"{"predictions": [{"label": "negative", "score": 0.93}]}"#.utf8)
        #expect(CandidateValidation.judge(request, code: 200, body: wrong, latencyMilliseconds: 20).message == "predictions.0.label is negative, expected positive")
        let far = Array(#"{"predictions": [{"label": "positive", "score": 0.5}]}"#.utf8)
        #expect(!CandidateValidation.judge(request, code: 200, body: far, latencyMilliseconds: 20).passed)
        #expect(CandidateValidation.judge(request, code: 503, body: good, latencyMilliseconds: 20).message == "status 503, expected 200")
        #expect(!CandidateValidation.judge(request, code: 200, body: good, latencyMilliseconds: 900).passed)
    }

    @Test func aValidationJobRunsAgainstThePreviewAndItsExitCodeDecides() throws {
        let rollout: JSONValue = ["validation": ["job": ["template": ["spec": ["containers": [["name": "eval", "image": "eval:1"]]]]]]]
        let first = plan(try service(image: "m:1", rollout: rollout), pods: [], at: Self.start)
        let blue = readyPods(first, now: Self.start)
        let rolling = plan(try service(image: "m:2", rollout: rollout, status: first.status), pods: blue, at: Self.start)
        let green = readyPods(rolling, now: Self.start).filter { $0.labels[GantryLabels.color] == "green" }
        // Ready: the job's pod is created, the candidate waits in Validating.
        let validating = plan(try service(image: "m:2", rollout: rollout, status: rolling.status), pods: blue + green, at: Self.start)
        #expect(validating.status.candidate?.phase == .validating && validating.status.activeColor == .blue)
        let job = try #require(validating.children.desired.first { $0.type == .pods && $0.object.labels[GantryLabels.role] == "validation" })
        #expect(job.object[path: "spec", "restartPolicy"] == "Never" && job.object[path: "spec", "activeDeadlineSeconds"] == 600)
        #expect(job.object[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue?.first == ["name": "PREVIEW_URL", "value": "http://api-preview.default.svc.cluster.local"])
        #expect(job.object.labels[GantryLabels.color] == nil)  // no Service or budget selects it

        // It exits 3: Failed with the exit code and the log's last lines; the job's pod and green's go.
        var ended = job.object
        ended[path: "status"] = ["phase": "Failed", "startTime": "2027-01-15T07:00:00Z",
                                 "containerStatuses": [["name": "eval", "state": ["terminated": ["exitCode": 3, "reason": "Error", "finishedAt": "2027-01-15T07:00:04Z"]]]]]
        let failed = planner.plan(KindObservation(object: try service(image: "m:2", rollout: rollout, status: validating.status),
                                                  children: [.pods: blue + green + [ended]],
                                                  inputs: .init(platform: PlatformConfigSpec(), validationLog: ["loading", "accuracy 0.81 < 0.92"]), now: Self.start))
        let result = try #require(failed.status.candidate?.validation?.job)
        #expect(failed.status.candidate?.phase == .failed && failed.status.candidate?.reason == "ValidationFailed")
        #expect(result.passed == false && result.exitCode == 3 && result.logTail == ["loading", "accuracy 0.81 < 0.92"])
        #expect(result.message == "exited 3 (Error) after 4s; last log lines: loading | accuracy 0.81 < 0.92")
        #expect(failed.events.contains { $0.reason == "ValidationFailed" && $0.note.contains("exited 3") })
        #expect(!failed.children.desired.contains { $0.object.labels[GantryLabels.role] == "validation" || $0.object.labels[GantryLabels.color] == "green" })
        #expect(selector(failed, "api") == "blue")

        // A job that exits 0 lets the candidate swap in.
        var succeeded = job.object
        succeeded[path: "status"] = ["phase": "Succeeded", "containerStatuses": [["name": "eval", "state": ["terminated": ["exitCode": 0]]]]]
        let swapped = plan(try service(image: "m:2", rollout: rollout, status: validating.status), pods: blue + green + [succeeded], at: Self.start)
        #expect(swapped.status.activeColor == .green && swapped.events.contains { $0.reason == "ValidationPassed" })
    }

    @Test func theRevisionHashIgnoresReplicasAndRolloutAndIsStable() throws {
        var a = InferenceServiceSpec(image: "m:1")
        a.replicas = 2
        var b = a
        b.replicas = 5
        b.rollout = Rollout()
        #expect(InferenceChildren.revisionHash(a) == InferenceChildren.revisionHash(b))
        b.image = "m:2"
        #expect(InferenceChildren.revisionHash(a) != InferenceChildren.revisionHash(b))
    }

    // MARK: InsufficientGPUForSurge

    /// A pod as the scheduler leaves it: bound to `node`, or Pending with the scheduler's message.
    static func scheduled(_ pod: JSONValue, on node: String?, unschedulable message: String = "") -> JSONValue {
        var pod = pod
        if let node {
            pod[path: "spec", "nodeName"] = .string(node)
        } else {
            pod[path: "status", "phase"] = "Pending"
            pod[path: "status", "conditions"] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": .string(message)]]
        }
        return pod
    }

    func pods(_ plan: KindPlan<InferenceServiceStatus>, _ color: String) -> [JSONValue] {
        plan.children.desired.filter { $0.type == .pods && $0.object.labels[GantryLabels.color] == color }.map(\.object)
    }

    static let insufficient = "0/1 nodes are available: 1 Insufficient nvidia.com/gpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod."

    @Test func aCandidateThatCannotSurgeIsReportedAtOnceWithTheNumbersAndFailsAtTheDeadlineWithoutTouchingBlue() throws {
        let gpu: [String: JSONValue] = ["gpu": ["count": 1]]
        let node = gpuNode("gpu-0", gpus: 2)
        let first = plan(try service(image: "m:1", spec: gpu), pods: [], at: Self.start)
        let blue = readyPods(first, now: Self.start).map { Self.scheduled($0, on: "gpu-0") }
        let usage = GPUUsage(nodes: [node], pods: blue)

        // The new image's candidate cannot fit beside blue: said at once, with the numbers and the way out.
        let short = plan(try service(image: "m:2", status: first.status, spec: gpu), pods: blue,
                         inputs: .init(platform: PlatformConfigSpec(), gpu: usage), at: Self.start)
        let candidate = try #require(short.status.candidate)
        #expect(candidate.phase == .progressing && candidate.reason == "InsufficientGPUForSurge")
        let message = candidate.message ?? ""
        #expect(message.contains("needs 2 nvidia.com/gpu for its 2 replicas not yet placed (1 each)"), "\(message)")
        #expect(message.contains("the 1 node it may run on has 0 free of 2") && message.contains("blue, serving, holds 2"), "\(message)")
        #expect(message.contains("spec.rollout.strategy: Recreate") && message.contains("add GPU nodes"), "\(message)")
        #expect(short.status.conditions?[type: "Stalled"]?.reason == "InsufficientGPUForSurge")
        #expect(short.status.conditions?[type: "Progressing"]?.status == .true)
        #expect(short.status.conditions?[type: "Progressing"]?.reason == "InsufficientGPUForSurge")
        #expect(short.events.contains { $0.type == .warning && $0.reason == "InsufficientGPUForSurge" })
        // Blue keeps the alias, its pods and their GPUs; green's pods are asked for (a freed GPU or a new node lets them through).
        #expect(short.status.activeColor == .blue && selector(short, "api") == "blue")
        #expect(pods(short, "blue").count == 2 && short.children.delete.isEmpty)
        let green = pods(short, "green").map { Self.scheduled($0, on: nil, unschedulable: Self.insufficient) }
        #expect(green.count == 2)

        // Still short a second later: the same report, no second event.
        let still = plan(try service(image: "m:2", status: short.status, spec: gpu), pods: blue + green,
                         inputs: .init(platform: PlatformConfigSpec(), gpu: GPUUsage(nodes: [node], pods: blue + green)), at: Self.start.addingTimeInterval(1))
        #expect(still.status.candidate?.reason == "InsufficientGPUForSurge")
        #expect(!still.events.contains { $0.reason == "InsufficientGPUForSurge" })

        // At the deadline (600 s by default) the candidate fails with the shortage as its reason; blue serves on.
        let failed = plan(try service(image: "m:2", status: still.status, spec: gpu), pods: blue + green,
                          inputs: .init(platform: PlatformConfigSpec(), gpu: GPUUsage(nodes: [node], pods: blue + green)), at: Self.start.addingTimeInterval(601))
        #expect(failed.status.candidate?.phase == .failed && failed.status.candidate?.reason == "InsufficientGPUForSurge")
        #expect(failed.status.candidate?.message?.contains("0 free of 2") == true)
        #expect(failed.status.conditions?[type: "Progressing"]?.status == .false)
        #expect(failed.status.conditions?[type: "Progressing"]?.reason == "InsufficientGPUForSurge")
        #expect(pods(failed, "green").isEmpty && pods(failed, "blue").count == 2 && selector(failed, "api") == "blue")

        // A node added while it waits (an autoscaler), and the scheduler places green there: the shortage is
        // gone, Stalled clears, the rollout goes on.
        let placed = pods(short, "green").map { Self.scheduled($0, on: "gpu-1") }
        let roomy = plan(try service(image: "m:2", status: still.status, spec: gpu), pods: blue + placed,
                         inputs: .init(platform: PlatformConfigSpec(), gpu: GPUUsage(nodes: [node, gpuNode("gpu-1", gpus: 2)], pods: blue + placed)),
                         at: Self.start.addingTimeInterval(2))
        #expect(roomy.status.candidate?.reason == nil && roomy.status.candidate?.phase == .progressing)
        #expect(roomy.status.conditions?[type: "Stalled"] == nil && roomy.status.conditions?[type: "Progressing"]?.reason == "RollingOut")
    }

    @Test func theSchedulersVerdictCountsUnlessGPUsAreBeingFreedAndAShortageWithoutServingGPUsIsNotASurge() throws {
        let placement = GPUPlacement(request: GPURequest(count: 1), settings: GPUSettings())
        let constraints = placement.constraints(tolerations: placement.tolerations)
        let node = gpuNode("gpu-0", gpus: 2)
        var pending = try #require(plan(try service(image: "m:1", spec: ["gpu": ["count": 1]]), pods: [], at: Self.start).children.desired.first).object
        pending = Self.scheduled(pending, on: nil, unschedulable: Self.insufficient)
        let candidate = [ServingPod(pending)]
        // The caches see both GPUs free (a pod Gantry does not manage holds them), but the scheduler says otherwise.
        let unseen = try #require(GPUShortage.of(candidate: candidate, revision: "r2", replicas: 1, serving: [], servingColor: .blue,
                                                 placement: placement, constraints: constraints, usage: GPUUsage(nodes: [node])))
        #expect(unseen.reason == "InsufficientGPU" && unseen.free == 2 && unseen.serving == 0)
        #expect(unseen.message.contains("holds none of them: add GPU nodes or free GPUs"))
        // A pod being deleted on that node: its GPUs are free soon, so the verdict is not reported yet.
        var leaving = Self.scheduled(pending, on: "gpu-0")
        leaving[path: "metadata", "deletionTimestamp"] = "2027-01-15T08:00:00Z"
        leaving[path: "status", "phase"] = "Running"
        #expect(GPUShortage.of(candidate: candidate, revision: "r2", replicas: 1, serving: [], servingColor: .blue, placement: placement,
                               constraints: constraints, usage: GPUUsage(nodes: [node], pods: [leaving])) == nil)
        // No node it may run on at all (a product nobody has): reported with that said.
        let h100 = GPUPlacement(request: try JSONValue.parse(#"{"count": 1, "product": "H100"}"#).decode(GPURequest.self), settings: GPUSettings())
        let nowhere = try #require(GPUShortage.of(candidate: [], revision: "r2", replicas: 1, serving: [], servingColor: .blue, placement: h100,
                                                  constraints: h100.constraints(tolerations: h100.tolerations), usage: GPUUsage(nodes: [node])))
        #expect(nowhere.matchingNodes == 0 && nowhere.message.contains("no schedulable node matches"))
    }

    // MARK: model.fromTrainingJob

    /// The record the TrainingJob controller writes for a run that ended in `phase`.
    static func record(_ job: String = "mnist", phase: TrainingJobStatus.Phase, best: Double? = 0.93) throws -> JSONValue {
        var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "TrainingJob", "spec": [
            "image": "acme/trainer:3", "hyperparameters": ["lr": "0.001", "batch-size": "64"], "dataset": ["uri": "s3://data/mnist"],
            "metrics": ["objective": ["metric": "val_acc", "goal": "maximize"]],
        ]]
        object.name = job
        object.namespace = "default"
        object[path: "metadata", "uid"] = .string("uid-\(job)")
        object.annotations = [GantryLabels.gitCommit: "4f2c1ab"]
        let trainingJob = try TrainingJob(object)
        var status = TrainingJobStatus()
        status.phase = phase
        status.completionTime = "2027-01-15T07:00:00Z"
        if let best {
            var metrics = MetricsStatus()
            metrics.best = BestMetric(name: "val_acc", value: best, step: 900, goal: .maximize)
            status.metrics = metrics
        }
        if phase == .failed {
            status.conditions = [Condition(type: "Failed", status: .true, reason: "BackoffLimitExceeded", message: "replica 0 exited with code 3")]
        }
        let pod: JSONValue = ["metadata": ["name": .string("\(job)-0")], "status": ["phase": "Succeeded", "containerStatuses": [
            ["name": "trainer", "imageID": "docker-pullable://acme/trainer@sha256:abc123"]]]]
        return try JSONValue(encoding: TrainingRecord.configMap(trainingJob, status: status, pods: [ObservedPod(pod, attemptAnnotation: "a")]))
    }

    @Test func aRecordOfASucceededRunGivesItsProvenanceAndAnythingElseIsRefusedWithTheReason() throws {
        guard case .resolved(let source) = ModelSourceResolution.judge(job: "mnist", namespace: "default", record: try Self.record(phase: .succeeded), job: nil) else {
            Issue.record("a succeeded run is a source")
            return
        }
        #expect(source.trainingJob == "mnist" && source.record == "mnist-record" && source.uid == "uid-mnist" && source.phase == "Succeeded")
        #expect(source.imageID == "docker-pullable://acme/trainer@sha256:abc123" && source.image == "acme/trainer:3")
        #expect(source.gitCommit == "4f2c1ab" && source.dataset == "s3://data/mnist")
        #expect(source.hyperparameters == ["lr": "0.001", "batch-size": "64"])
        #expect(source.bestMetric == BestMetric(name: "val_acc", value: 0.93, step: 900, goal: .maximize))
        #expect(source.completionTime == "2027-01-15T07:00:00Z")

        func refusal(_ record: JSONValue?, job: JSONValue? = nil) -> ModelSourceResolution.Refusal? {
            if case .refused(let r) = ModelSourceResolution.judge(job: "mnist", namespace: "default", record: record, job: job) { return r }
            return nil
        }
        let failed = try #require(refusal(try Self.record(phase: .failed)))
        #expect(failed.reason == "SourceNotSucceeded" && !failed.waiting)
        #expect(failed.message.hasPrefix("spec.model.fromTrainingJob: TrainingJob \"mnist\" failed (BackoffLimitExceeded: replica 0 exited with code 3)"), "\(failed.message)")
        let stopped = try #require(refusal(try Self.record(phase: .earlyStopped, best: nil)))
        #expect(stopped.reason == "SourceNotSucceeded" && stopped.message.contains("stopped early without a value of its objective val_acc"))
        if case .resolved(let early) = ModelSourceResolution.judge(job: "mnist", namespace: "default", record: try Self.record(phase: .earlyStopped), job: nil) {
            #expect(early.phase == "EarlyStopped" && early.bestMetric?.value == 0.93)
        } else {
            Issue.record("an early-stopped run with a best value is a source")
        }
        let running = try #require(refusal(nil, job: ["metadata": ["name": "mnist"], "status": ["phase": "Running"]]))
        #expect(running.reason == "SourceNotFinished" && running.waiting && running.message.contains("is Running, not finished"))
        let missing = try #require(refusal(nil))
        #expect(missing.reason == "SourceNotFound" && !missing.waiting && missing.retryAfter != nil)
        #expect(missing.message == "spec.model.fromTrainingJob: there is no TrainingJob \"mnist\" in namespace default, and no record mnist-record")
        var foreign = try Self.record(phase: .succeeded)
        foreign.annotations = [GantryLabels.trainingJob: "other"]
        #expect(refusal(foreign)?.reason == "SourceUnreadable")
    }

    @Test func aRefusedSourceCreatesNothingAndNeverTouchesTheServingColourAndAnAcceptedOneIsTraced() throws {
        let model: [String: JSONValue] = ["model": ["uri": "s3://models/mnist/900", "fromTrainingJob": "mnist"]]
        func inputs(_ record: JSONValue?) -> InferenceServicePlanner.Inputs {
            .init(platform: PlatformConfigSpec(), source: ModelSourceResolution.judge(job: "mnist", namespace: "default", record: record, job: nil))
        }
        // First deploy from a failed run: nothing is created, and the condition names the field and the reason.
        let refused = plan(try service(image: "m:1", spec: model), pods: [], inputs: inputs(try Self.record(phase: .failed)), at: Self.start)
        #expect(refused.children.desired.isEmpty && refused.children.prune.isEmpty && refused.status.activeRevision == nil)
        let stalled = try #require(refused.status.conditions?[type: "Stalled"])
        #expect(stalled.reason == "SourceNotSucceeded" && stalled.message.contains("spec.model.fromTrainingJob") && stalled.message.hasSuffix("nothing was created"))
        #expect(refused.events.contains { $0.type == .warning && $0.reason == "SourceNotSucceeded" })

        // From a run that succeeded: the revision carries its provenance, and the pods name it.
        let served = plan(try service(image: "m:1", spec: model), pods: [], inputs: inputs(try Self.record(phase: .succeeded)), at: Self.start)
        #expect(served.status.activeRevision?.source?.gitCommit == "4f2c1ab")
        #expect(served.status.activeRevision?.source?.imageID == "docker-pullable://acme/trainer@sha256:abc123")
        let env = pods(served, "blue").first?[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "MODEL_TRAINING_JOB" && $0["value"] == "mnist" })
        #expect(env.contains { $0["name"] == "MODEL_RECORD" && $0["value"] == "mnist-record" })
        let blue = readyPods(served, now: Self.start)
        // Once on record, the source is not judged again (no input needed).
        let steady = plan(try service(image: "m:1", status: served.status, spec: model), pods: blue, at: Self.start.addingTimeInterval(1))
        #expect(steady.status.activeRevision == served.status.activeRevision && steady.status.conditions?.isTrue("Ready") == true)

        // An update naming a run still going: no candidate, blue untouched, Reconciling while it waits.
        let next: [String: JSONValue] = ["model": ["uri": "s3://models/mnist/901", "fromTrainingJob": "mnist-2"]]
        let waiting = plan(try service(image: "m:1", status: served.status, spec: next), pods: blue,
                           inputs: .init(platform: PlatformConfigSpec(), source: ModelSourceResolution.judge(
                               job: "mnist-2", namespace: "default", record: nil, job: ["metadata": ["name": "mnist-2"], "status": ["phase": "Running"]])),
                           at: Self.start.addingTimeInterval(2))
        #expect(waiting.status.candidate == nil && waiting.status.activeRevision == served.status.activeRevision)
        #expect(pods(waiting, "blue").count == 2 && pods(waiting, "green").isEmpty && selector(waiting, "api") == "blue")
        #expect(waiting.status.conditions?[type: "Reconciling"]?.reason == "SourceNotFinished")
        #expect(waiting.status.conditions?[type: "Progressing"]?.message.hasSuffix("keeps serving in blue") == true)
        #expect(waiting.requeueAfter != nil)

        // A candidate still rolling out when the spec turns to a refused source is superseded; blue stays.
        let rolling = plan(try service(image: "m:2", status: served.status, spec: model), pods: blue, inputs: inputs(try Self.record(phase: .succeeded)),
                           at: Self.start.addingTimeInterval(3))
        #expect(rolling.status.candidate?.revision.source?.trainingJob == "mnist" && pods(rolling, "green").count == 2)
        let superseded = plan(try service(image: "m:2", status: rolling.status, spec: next), pods: blue,
                              inputs: .init(platform: PlatformConfigSpec(), source: .judge(job: "mnist-2", namespace: "default", record: nil, job: nil)),
                              at: Self.start.addingTimeInterval(4))
        #expect(superseded.status.candidate == nil && pods(superseded, "green").isEmpty && pods(superseded, "blue").count == 2)
        #expect(superseded.events.contains { $0.reason == "RolloutSuperseded" })
        #expect(superseded.status.conditions?[type: "Stalled"]?.reason == "SourceNotFound")
        #expect(superseded.status.conditions?[type: "Stalled"]?.message.contains("no TrainingJob \"mnist-2\"") == true)
    }

    actor Counter {
        var count = 0
        func add() { count += 1 }
    }

    @Test func theSourceRunIsReadOnlyWhileTheDesiredRevisionHasNoneOnRecord() async throws {
        let reads = Counter()
        let record = try Self.record(phase: .succeeded)
        let planner = InferenceServicePlanner(platform: { PlatformConfigSpec() }, source: { namespace, job in
            await reads.add()
            return .judge(job: job, namespace: namespace, record: record, job: nil)
        })
        let model: [String: JSONValue] = ["model": ["uri": "s3://models/mnist/900", "fromTrainingJob": "mnist"]]
        let fresh = try service(image: "m:1", spec: model)
        let inputs = await planner.inputs(for: fresh)
        #expect(await reads.count == 1)
        let first = planner.plan(KindObservation(object: fresh, children: [:], inputs: inputs, now: Self.start))
        _ = await planner.inputs(for: try service(image: "m:1", status: first.status, spec: model))
        #expect(await reads.count == 1, "the source is on record for this revision")
        _ = await planner.inputs(for: try service(image: "m:1", spec: [:]))
        #expect(await reads.count == 1, "no fromTrainingJob, no read")
    }
}
