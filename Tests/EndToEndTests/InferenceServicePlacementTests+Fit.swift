import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// perNode on a node too small for one replica (issue #10). Kubernetes' DaemonSet controller places by node name,
/// node affinity and taints, never by resources, so it counts such a node in desiredNumberScheduled and its pod
/// stays Pending there; the service names the node and leaves it out of its size instead of waiting for it.
extension InferenceServicePlacementTests {
    /// Two GPU edge nodes, one of 4 GPUs and one of 1, and an 8-GPU node that is not an edge node.
    static let unevenGPUNodes = "1x{gpu: 4, name: big, labels: {edge: 'true'}}, 1x{gpu: 1, name: small, labels: {edge: 'true'}}, 1x{gpu: 8, name: core}"

    @Test func aNodeTooSmallForOneReplicaIsNamedAndNotCountedSoTheServiceIsReadyAndSwaps() async throws {
        try await withOperator(nodes: Self.unevenGPUNodes) { h in
            let twoGPUs = "  gpu: {count: 2}\n"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("fit", image: "acme/detector:1", rollout: "{scaleDownDelaySeconds: 0}", extra: twoGPUs))
            #expect(try await eventually(timeout: .seconds(60)) { try await InferenceServiceTests.ready(h, "fit") })
            let status = try await InferenceServiceTests.status(h, "fit")
            let blue = try #require(status[path: "activeRevision", "hash"]?.stringValue)
            let unfit: JSONValue = [["node": "small-0", "message": "1 nvidia.com/gpu allocatable, one replica needs 2"]]
            #expect(status["replicas"] == 1 && status["readyReplicas"] == 1)
            #expect(status["perNode"] == [["color": "blue", "revision": .string(blue), "daemonSet": .string("fit-blue-\(blue)"),
                                          "desired": 1, "ready": 1, "unfit": unfit]])
            let ready = InferenceServiceTests.condition(status, "Ready")
            #expect(ready?["reason"] == "Serving")
            #expect(ready?["message"]?.stringValue?.contains("not counted, as no replica fits there (its pod stays Pending): small-0 (1 nvidia.com/gpu allocatable, one replica needs 2)") == true,
                    "\(ready ?? .null)")
            #expect(try await InferenceServiceTests.events(h, "fit").contains("NodesTooSmall"))

            // The DaemonSet itself counts both GPU nodes, as upstream's does; the pod for the small one waits.
            let ds = try #require(try await Self.daemonSets(h, "fit").first)
            #expect(ds[path: "status", "desiredNumberScheduled"] == 2 && ds[path: "status", "numberReady"] == 1)
            let waiting = try await InferenceServiceTests.pods(h, "fit").filter { ServingPod($0).targetNode == "small-0" }
            #expect(waiting.count == 1 && waiting.allSatisfy { ServingPod($0).unschedulable?.contains("Insufficient nvidia.com/gpu") == true }, "\(waiting)")

            // A rollout is not held back by it: the candidate is complete on the big node (4 GPUs: both colours fit)
            // and the alias moves.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("fit", image: "acme/detector:2", rollout: "{scaleDownDelaySeconds: 0}", extra: twoGPUs))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await InferenceServiceTests.status(h, "fit")
                return s["activeColor"] == "green" && s["candidate"] == nil && s[path: "lastSwap", "reason"] == "Swapped"
            })
            #expect(try await eventually { try await InferenceServiceTests.selectedColor(h, "fit") == "green" })
            #expect(try await eventually(timeout: .seconds(30)) { try await InferenceServiceTests.ready(h, "fit") })
            let after = try await InferenceServiceTests.status(h, "fit")
            #expect(after["perNode"]?.arrayValue?.first?["unfit"] == unfit && after["readyReplicas"] == 1, "\(after["perNode"] ?? .null)")

            // None of its nodes can hold one replica (the 8-GPU node could, but spec.nodeSelector leaves it out):
            // said at once, naming each, instead of waiting.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.perNode("huge", image: "acme/detector:1", rollout: "{}", extra: "  gpu: {count: 8}\n"))
            #expect(try await eventually(timeout: .seconds(30)) {
                let progressing = InferenceServiceTests.condition(try await InferenceServiceTests.status(h, "huge"), "Progressing")
                return progressing?["reason"] == "NoMatchingNodes" && progressing?["message"]?.stringValue?.contains(
                    "none of its 2 node(s) can hold a replica: big-0 (4 nvidia.com/gpu allocatable, one replica needs 8), small-0 (1 nvidia.com/gpu allocatable, one replica needs 8)") == true
            })
            #expect(try await InferenceServiceTests.status(h, "huge")["replicas"] == 0)
        }
    }
}
