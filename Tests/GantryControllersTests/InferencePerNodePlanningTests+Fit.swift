import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// perNode: a node the DaemonSet counts (upstream's DaemonSet controller ignores resources) that can never hold one
/// replica is named and left out of the colour's size (end to end: InferenceServicePlacementTests+Fit).
extension InferencePerNodePlanningTests {
    /// `ds`'s pod for `node`, not bound: the scheduler found too few GPUs there.
    static func unschedulable(_ ds: JSONValue, node: String) -> JSONValue {
        var pod = daemonPod(ds, target: node, bound: false, ready: false)
        pod[path: "status", "conditions"] = [["type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                              "message": "0/3 nodes are available: 1 Insufficient nvidia.com/gpu."]]
        return pod
    }

    @Test func aNodeThatCanNeverHoldAReplicaIsNamedOnceAndLeftOutOfTheColoursSize() throws {
        let first = plan(try service(image: "m:1", gpu: true))
        let blueSet = try #require(daemonSets(first).first)
        let blue = try #require(first.status.activeRevision)
        let nodes = [Self.edgeGPUNode("big-0", gpus: 1), Self.edgeGPUNode("big-1", gpus: 1), Self.edgeGPUNode("small", gpus: 0)]
        // Three nodes counted by the DaemonSet controller, two ready; the third has no GPU to give.
        func observe(_ status: InferenceServiceStatus, nodes: [JSONValue]?) throws -> KindPlan<InferenceServiceStatus> {
            planner.plan(KindObservation(object: try service(image: "m:1", gpu: true, status: status),
                                         children: [.pods: [], .daemonSets: [Self.rolledOut(blueSet, desired: 3, ready: 2)]],
                                         inputs: .init(platform: PlatformConfigSpec(), daemonPods: [Self.unschedulable(blueSet, node: "small")], nodes: nodes),
                                         now: Self.start))
        }
        let serving = try observe(first.status, nodes: nodes)
        let unfit = [InferenceServiceStatus.UnfitNode(node: "small", message: "0 nvidia.com/gpu allocatable, one replica needs 1")]
        #expect(serving.status.conditions?.isTrue("Ready") == true)
        #expect(serving.status.conditions?[type: "Ready"]?.message.contains("small (0 nvidia.com/gpu allocatable, one replica needs 1)") == true)
        #expect(serving.status.replicas == 2 && serving.status.readyReplicas == 2)
        #expect(serving.status.perNode == [.init(color: .blue, revision: blue.hash, daemonSet: blueSet.name ?? "", desired: 2, ready: 2, unfit: unfit)])
        #expect(serving.events.filter { $0.reason == "NodesTooSmall" && $0.type == .warning }.count == 1)
        // Known from status: no second Event.
        #expect(!(try observe(serving.status, nodes: nodes)).events.contains { $0.reason == "NodesTooSmall" })

        // A node with the GPUs (one freed by another pod later) is counted and waited for, as the DaemonSet does.
        let fits = try observe(first.status, nodes: [Self.edgeGPUNode("big-0", gpus: 1), Self.edgeGPUNode("big-1", gpus: 1), Self.edgeGPUNode("small", gpus: 1)])
        #expect(fits.status.conditions?.isTrue("Ready") == false && fits.status.replicas == 3 && fits.status.perNode?.first?.unfit == nil)
        #expect(fits.status.conditions?[type: "Progressing"]?.message.contains("Insufficient nvidia.com/gpu") == true)
    }
}
