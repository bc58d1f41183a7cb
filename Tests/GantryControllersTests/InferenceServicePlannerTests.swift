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
                 annotations: [String: String] = [:]) throws -> InferenceService {
        var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "InferenceService",
                                 "spec": ["image": .string(image), "replicas": 2, "rollout": rollout]]
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

    func plan(_ service: InferenceService, pods: [JSONValue], at now: Date) -> KindPlan<InferenceServiceStatus> {
        planner.plan(KindObservation(object: service, children: [.pods: pods], inputs: .init(platform: PlatformConfigSpec()), now: now))
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
}
