import Foundation
import Testing
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
@testable import KubeRuntime

/// events.k8s.io/v1 Events written through libcurl to the embedded API server.
@Suite struct EventRecorderTests {
    @Test func repeatsFoldIntoASeriesInsteadOfNewObjects() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["a": "b"]]
            cm.name = "subject"
            let subject = try await client.create(.configMaps, cm, namespace: "default")
            let recorder = EventRecorder(client: client, controller: "gantry.dev/test", instance: "test-1")
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
}
