import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// `placement: perNode` and `prepull: true` in the blue/green planner, as a pure function (end to end:
/// InferenceServicePlacementTests).
@Suite struct InferencePerNodePlanningTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    let planner = InferenceServicePlanner(platform: { PlatformConfigSpec() })

    func service(image: String, perNode: Bool = true, prepull: Bool = false, gpu: Bool = false, status: InferenceServiceStatus? = nil) throws -> InferenceService {
        var spec: JSONValue = ["image": .string(image), "nodeSelector": ["edge": "true"], "rollout": ["scaleDownDelaySeconds": 30]]
        if perNode { spec["placement"] = "perNode" }
        if prepull { spec["prepull"] = true }
        if gpu { spec["gpu"] = ["count": 1] }
        var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "InferenceService", "spec": spec]
        object.name = "edge"
        object.namespace = "default"
        object[path: "metadata", "uid"] = "uid-1"
        object[path: "metadata", "generation"] = 1
        if let status { object["status"] = try JSONValue(encoding: status).droppingNulls() }
        return try InferenceService(object)
    }

    func plan(_ service: InferenceService, daemonSets: [JSONValue] = [], at now: Date = start) -> KindPlan<InferenceServiceStatus> {
        planner.plan(KindObservation(object: service, children: [.pods: [], .daemonSets: daemonSets], inputs: .init(platform: PlatformConfigSpec()), now: now))
    }

    func daemonSets(_ plan: KindPlan<InferenceServiceStatus>) -> [JSONValue] {
        plan.children.desired.filter { $0.type == .daemonSets }.map(\.object)
    }

    /// A DaemonSet as the DaemonSet controller reports it: `ready` of `desired` nodes, current generation.
    static func rolledOut(_ ds: JSONValue, desired: Int, ready: Int) -> JSONValue {
        var ds = ds
        ds[path: "metadata", "generation"] = 1
        ds["status"] = ["desiredNumberScheduled": .int(Int64(desired)), "currentNumberScheduled": .int(Int64(desired)),
                        "numberReady": .int(Int64(ready)), "numberAvailable": .int(Int64(ready)),
                        "updatedNumberScheduled": .int(Int64(desired)), "observedGeneration": 1]
        return ds
    }

    func selector(_ plan: KindPlan<InferenceServiceStatus>, _ name: String) -> String? {
        plan.children.desired.first { $0.type == .services && $0.name == name }?.object[path: "spec", "selector", GantryLabels.color]?.stringValue
    }

    @Test func eachColourIsADaemonSetAndTheSwapWaitsForEveryNode() throws {
        let first = plan(try service(image: "m:1"))
        let blueSet = try #require(daemonSets(first).first)
        let blue = try #require(first.status.activeRevision)
        #expect(daemonSets(first).count == 1 && blueSet.name == "edge-blue-\(blue.hash)")
        #expect(first.children.desired.allSatisfy { $0.type != .pods })
        #expect(blueSet[path: "spec", "template", "metadata", "labels", GantryLabels.color] == "blue")
        #expect(blueSet[path: "spec", "template", "metadata", "labels", GantryLabels.revision] == .string(blue.hash))
        #expect(blueSet[path: "spec", "template", "spec", "nodeSelector", "edge"] == "true")
        #expect(blueSet[path: "spec", "selector", "matchLabels", GantryLabels.color] == "blue")
        // Not ready before the DaemonSet controller has seen it, nor with no node for it.
        #expect(first.status.conditions?.isTrue("Ready") == false)
        let none = plan(try service(image: "m:1", status: first.status), daemonSets: [Self.rolledOut(blueSet, desired: 0, ready: 0)])
        #expect(none.status.conditions?[type: "Progressing"]?.reason == "NoMatchingNodes")
        let serving = plan(try service(image: "m:1", status: first.status), daemonSets: [Self.rolledOut(blueSet, desired: 3, ready: 3)])
        #expect(serving.status.conditions?.isTrue("Ready") == true)
        #expect(serving.status.replicas == 3 && serving.status.readyReplicas == 3)
        #expect(serving.status.perNode == [.init(color: .blue, revision: blue.hash, daemonSet: blueSet.name ?? "", desired: 3, ready: 3)])
        // The disruption budget counts the nodes the serving colour covers: one of three may go at a time.
        let budget = try #require(serving.children.desired.first { $0.type == .podDisruptionBudgets }?.object)
        #expect(budget[path: "spec", "minAvailable"] == 2)

        // A new image: a green DaemonSet beside blue; the alias moves only once every node runs a ready green pod.
        let rolling = plan(try service(image: "m:2", status: serving.status), daemonSets: [Self.rolledOut(blueSet, desired: 3, ready: 3)])
        let greenSet = try #require(daemonSets(rolling).first { $0.name != blueSet.name })
        #expect(daemonSets(rolling).count == 2 && rolling.status.candidate?.revision.color == .green)
        let partly = plan(try service(image: "m:2", status: rolling.status),
                          daemonSets: [Self.rolledOut(blueSet, desired: 3, ready: 3), Self.rolledOut(greenSet, desired: 3, ready: 2)])
        #expect(partly.status.activeColor == .blue && partly.status.candidate?.ready == 2 && partly.status.candidate?.desired == 3)
        #expect(selector(partly, "edge") == "blue" && selector(partly, "edge-preview") == "green")
        let swapped = plan(try service(image: "m:2", status: partly.status),
                           daemonSets: [Self.rolledOut(blueSet, desired: 3, ready: 3), Self.rolledOut(greenSet, desired: 3, ready: 3)])
        #expect(swapped.status.activeColor == .green && selector(swapped, "edge") == "green")
        #expect(daemonSets(swapped).count == 2)  // blue stays warm

        // Reverted inside the window: back to blue with the same two DaemonSets; after it, green goes.
        let sets = [Self.rolledOut(blueSet, desired: 3, ready: 3), Self.rolledOut(greenSet, desired: 3, ready: 3)]
        let back = plan(try service(image: "m:1", status: swapped.status), daemonSets: sets, at: Self.start.addingTimeInterval(5))
        #expect(back.status.activeColor == .blue && back.status.lastSwap?.reason == "RolledBack")
        #expect(Set(daemonSets(back).compactMap(\.name)) == Set([blueSet.name, greenSet.name].compactMap { $0 }))
        let later = plan(try service(image: "m:1", status: back.status), daemonSets: sets, at: Self.start.addingTimeInterval(60))
        #expect(daemonSets(later).compactMap(\.name) == [blueSet.name].compactMap { $0 })
        #expect(later.children.prune.contains(.daemonSets))
    }

    @Test func aGPUServiceRunsOnGPUNodesOnly() throws {
        let first = plan(try service(image: "m:1", gpu: true))
        let ds = try #require(daemonSets(first).first)
        let terms = ds[path: "spec", "template", "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]
        #expect(terms?.arrayValue?.first?["matchExpressions"]?.arrayValue?.first?["operator"] == "Exists")
        #expect(ds[path: "spec", "template", "spec", "affinity", "podAntiAffinity"] == nil)
    }

    @Test func prepullComesBeforeTheCandidateAndIsBounded() throws {
        let first = plan(try service(image: "m:1", perNode: false, prepull: true))
        #expect(daemonSets(first).isEmpty)  // a first deploy does not prepull
        var blue = first.children.desired.filter { $0.type == .pods }.map(\.object)
        for i in blue.indices { blue[i][path: "status", "conditions"] = [["type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"]] }
        func observe(_ service: InferenceService, _ sets: [JSONValue], at now: Date = Self.start) -> KindPlan<InferenceServiceStatus> {
            planner.plan(KindObservation(object: service, children: [.pods: blue, .daemonSets: sets], inputs: .init(platform: PlatformConfigSpec()), now: now))
        }
        let served = observe(try service(image: "m:1", perNode: false, prepull: true), [])

        // The candidate pulls first: a prepull DaemonSet of its image, and no candidate pod.
        let pulling = observe(try service(image: "m:2", perNode: false, prepull: true, status: served.status), [])
        #expect(pulling.status.candidate?.phase == .prepulling && pulling.status.candidate?.prepull?.phase == .pulling)
        let prepull = try #require(daemonSets(pulling).first)
        #expect(prepull[path: "spec", "template", "spec", "initContainers"]?.arrayValue?.first?["image"] == "m:2")
        #expect(prepull[path: "spec", "template", "spec", "initContainers"]?.arrayValue?.first?["command"] == ["true"])
        #expect(prepull[path: "spec", "template", "metadata", "labels", GantryLabels.color] == nil)  // no Service selects it
        #expect(!pulling.children.desired.contains { $0.type == .pods && $0.object.labels[GantryLabels.color] == "green" })
        #expect(pulling.status.conditions?[type: "Progressing"]?.reason == "Prepulling")
        #expect(pulling.events.map(\.reason).contains("Prepulling"))

        // Half pulled: still waiting. All pulled: the candidate's pods are desired and the prepull goes.
        let half = observe(try service(image: "m:2", perNode: false, prepull: true, status: pulling.status), [Self.rolledOut(prepull, desired: 2, ready: 1)])
        #expect(half.status.candidate?.phase == .prepulling && half.status.candidate?.prepull?.ready == 1)
        #expect(!half.children.desired.contains { $0.type == .pods && $0.object.labels[GantryLabels.color] == "green" })
        let pulled = observe(try service(image: "m:2", perNode: false, prepull: true, status: half.status), [Self.rolledOut(prepull, desired: 2, ready: 2)])
        #expect(pulled.status.candidate?.phase == .progressing && pulled.status.candidate?.prepull?.phase == .pulled)
        #expect(pulled.children.desired.contains { $0.type == .pods && $0.object.labels[GantryLabels.color] == "green" })
        #expect(daemonSets(pulled).isEmpty && pulled.children.prune.contains(.daemonSets))

        // Never pulled: after half the progress deadline (300 s) the candidate starts anyway, with a Warning.
        let late = observe(try service(image: "m:2", perNode: false, prepull: true, status: half.status),
                           [Self.rolledOut(prepull, desired: 2, ready: 1)], at: Self.start.addingTimeInterval(301))
        #expect(late.status.candidate?.prepull?.phase == .timedOut && late.status.candidate?.phase == .progressing)
        #expect(late.events.contains { $0.reason == "PrepullTimedOut" && $0.type == .warning })
        #expect(late.children.desired.contains { $0.type == .pods && $0.object.labels[GantryLabels.color] == "green" })
    }
}
