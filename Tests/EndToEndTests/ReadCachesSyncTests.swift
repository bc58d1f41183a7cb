import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// A controller reads caches it does not watch (the InferenceService planner reads nodes for the GPUs a revision
/// needs). Its workers start only once those have their first list too, as controller-runtime's manager starts
/// controllers only after every cache synced: planned from an empty node cache, a service asking for a GPU was
/// refused with NoMatchingGPUNodes, and a candidate of a restarted controller was dropped with its pods, which
/// were made again once the nodes arrived (KillPointTests, under the suite's load).
@Suite struct ReadCachesSyncTests {
    @Test func noServiceIsPlannedFromANodeCacheThatHasNotListedYet() async throws {
        try await withCluster(KillPointFixture.start()) { f async throws in
            await f.kill()
            // The node list fails until the test lets it through; every other list succeeds.
            f.cluster.cluster.failNextRequests(100_000, code: 503, target: FaultTarget(method: "GET", path: "/api/v1/nodes"))
            try await f.apply(KillPointTests.service("s", image: "acme/serve:1"))
            try f.startController()
            // The controller has its InferenceServices and keeps failing to list nodes: a planner started now
            // would have planned the service from no nodes at all.
            #expect(try await eventually(timeout: .seconds(60)) {
                let requests = f.controllerRequests()
                let listedServices = requests.contains { $0.method == "GET" && $0.path.hasSuffix("/inferenceservices") && $0.code == 200 }
                let failedNodeLists = requests.filter { $0.method == "GET" && $0.path == "/api/v1/nodes" && $0.code == 503 }.count
                return listedServices && failedNodeLists >= 3
            }, "the controller listed its services and failed to list nodes three times")
            #expect(try await f.get(.inferenceServices, "default", "s")?[path: "status", "observedGeneration"] == nil,
                    "not reconciled before the node cache synced")
            f.cluster.cluster.clearQueuedFailures()
            #expect(try await eventually(timeout: .seconds(60)) {
                try await f.get(.inferenceServices, "default", "s")?[path: "status", "readyReplicas"]?.intValue == 2
            }, "served once the nodes were listed")
            let story = await f.eventStory("default", "s")
            #expect(try await f.events("default", "s", reason: "NoMatchingGPUNodes").isEmpty, "\(story)")
        }
    }
}
