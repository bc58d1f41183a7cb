import Foundation
import Testing
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
@testable import KubeRuntime

/// events.k8s.io/v1 Events written through libcurl to the embedded API server.
@Suite struct EventRecorderTests {
    /// A client of the cluster, a ConfigMap named `name` for the Events to regard, and a recorder.
    static func recorder(_ cluster: TestCluster, about name: String) async throws -> (KubeClient, JSONValue, EventRecorder) {
        let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
        var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["a": "b"]]
        cm.name = name
        let subject = try await client.create(.configMaps, cm, namespace: "default")
        return (client, subject, EventRecorder(client: client, controller: "gantry.dev/test", instance: "test-1"))
    }

    @Test func repeatsFoldIntoASeriesInsteadOfNewObjects() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let (client, subject, recorder) = try await Self.recorder(cluster, about: "subject")
            for _ in 0..<3 {
                await recorder.record(regarding: subject, type: "Warning", reason: "GangRestart", note: "replica 0 failed", action: "Reconcile")
            }
            await recorder.record(regarding: subject, type: "Normal", reason: "Running", note: String(repeating: "é", count: 2000), action: "Reconcile")
            let events = try await client.list(.events, namespace: "default").items
            #expect(events.count == 2)
            let restart = try #require(events.first { $0["reason"] == "GangRestart" })
            #expect(restart[path: "series", "count"] == 3)
            #expect(restart[path: "regarding", "uid"] == subject[path: "metadata", "uid"])
            #expect(restart["reportingController"] == "gantry.dev/test")
            #expect(restart["reportingInstance"] == "test-1")
            let long = try #require(events.first { $0["reason"] == "Running" })
            #expect((long["note"]?.stringValue?.utf8.count ?? 0) <= 1024)  // the API's limit, cut on a character boundary
        }
    }

    /// An Event whose create fails for a passing reason (503, 500, 429) is tried again on its own task, as
    /// client-go's event sink does, and stored once; a refusal (422) is not retried.
    @Test func aCreateFailingForAPassingReasonIsRetried() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let (client, subject, recorder) = try await Self.recorder(cluster, about: "flaky")
            let events = FaultTarget(method: "POST", path: "/events")
            cluster.cluster.failNextRequests(1, code: 503, target: events)
            cluster.cluster.failNextRequests(1, code: 500, target: events)
            cluster.cluster.failNextRequests(1, code: 429, retryAfterSeconds: 0, target: events)
            await recorder.record(regarding: subject, type: "Normal", reason: "Swapped", note: "blue to green", action: "Promote")
            #expect(try await eventually(timeout: .seconds(20)) {
                try await client.list(.events, namespace: "default").items.contains { $0["reason"] == "Swapped" }
            }, "stored after three failed tries")
            // A refusal is final: nothing is stored, and the recorder goes on.
            cluster.cluster.failNextRequests(1, code: 422, target: events)
            await recorder.record(regarding: subject, type: "Warning", reason: "Refused", note: "x", action: "Reconcile")
            await recorder.record(regarding: subject, type: "Normal", reason: "After", note: "y", action: "Reconcile")
            let items = try await client.list(.events, namespace: "default").items
            #expect(items.filter { $0["reason"] == "Swapped" }.count == 1)
            #expect(items.contains { $0["reason"] == "After" } && !items.contains { $0["reason"] == "Refused" }, "\(items.map { $0["reason"] ?? .null })")
        }
    }

    /// Repeats of an Event whose first create is being retried fold into it once it is stored (series count), not
    /// into a second Event made beside it.
    @Test func repeatsWhileTheFirstCreateIsRetriedFoldIntoIt() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let (client, subject, recorder) = try await Self.recorder(cluster, about: "repeated")
            cluster.cluster.failNextRequests(1, code: 503, target: FaultTarget(method: "POST", path: "/events"))
            for _ in 0..<3 {
                await recorder.record(regarding: subject, type: "Warning", reason: "Flapping", note: "replica 1 failed", action: "Reconcile")
            }
            #expect(try await eventually(timeout: .seconds(20)) {
                try await client.list(.events, namespace: "default").items.contains { $0["reason"] == "Flapping" && $0[path: "series", "count"] == 3 }
            }, "one Event counting the three")
            let flapping = try await client.list(.events, namespace: "default").items.filter { $0["reason"] == "Flapping" }
            #expect(flapping.count == 1, "\(flapping.map { $0.name ?? "" })")
            // Later repeats patch the same Event.
            await recorder.record(regarding: subject, type: "Warning", reason: "Flapping", note: "replica 1 failed", action: "Reconcile")
            let after = try await client.list(.events, namespace: "default").items.filter { $0["reason"] == "Flapping" }
            #expect(after.count == 1 && after.first?[path: "series", "count"] == 4, "\(after)")
        }
    }
}
