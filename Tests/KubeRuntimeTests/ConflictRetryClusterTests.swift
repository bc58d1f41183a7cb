import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Synchronization
import Testing
@testable import KubeRuntime

/// Stamps `data.reconciled = "true"` on ConfigMaps by an update built from the controller's cache (the usual
/// read-from-cache, write-with-resourceVersion pattern). On its first attempt a concurrent writer (a second
/// client) changes the object between the cache read and the update, so that update carries a stale
/// resourceVersion.
final class StampingReconciler: Reconciler {
    let client: KubeClient
    let store: Store
    let otherWriter: KubeClient
    let outcomes = Mutex<[String]>([])

    init(client: KubeClient, store: Store, otherWriter: KubeClient) {
        self.client = client
        self.store = store
        self.otherWriter = otherWriter
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard var cached = await store.get(key) else { return .done }
        if cached["data"]?["reconciled"] == "true" { return .done }
        let first = outcomes.withLock { $0.isEmpty }
        if first {
            _ = try await otherWriter.patch(.configMaps, namespace: key.namespace, name: key.name, patch: ["data": ["user": "edit"]])
        }
        var data = cached["data"]?.objectValue ?? [:]
        data["reconciled"] = "true"
        cached["data"] = .object(data)
        do {
            _ = try await client.update(.configMaps, cached)
            outcomes.withLock { $0.append("updated") }
            return .done
        } catch let error as APIError where error.isConflict {
            outcomes.withLock { $0.append("conflict") }
            throw error  // the queue retries the key with backoff; by then the cache has the newer version
        }
    }
}

/// A 409 Conflict from the embedded API server fails the reconcile, the work queue retries the key after its
/// per-key backoff, and the retry — reading the refreshed cache — succeeds without losing the other write.
@Suite(.serialized) struct ConflictRetryClusterTests {
    @Test func conflictIsRetriedWithBackoffAndSucceeds() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let config = try KubeConfig.load(path: cluster.kubeconfig)
            let client = try KubeClient(config: config)
            var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]]
            cm.name = "target"
            cm.labels = ["stamp": "yes"]
            _ = try await client.create(.configMaps, cm, namespace: "default")

            let store = Store()
            let source = ClientListerWatcher(client: client, type: .configMaps, namespace: "default", labelSelector: "stamp=yes")
            let controller = Controller(name: "stamper", watches: [.primary(source, store: store)])
            let reconciler = StampingReconciler(client: client, store: store, otherWriter: try KubeClient(config: config))
            let run = Task { await controller.run(reconciler) }
            defer { run.cancel() }

            // Converged on the server with both writes kept. (On a starved machine an update can succeed on the
            // server while its answer is lost and the client's retry of it answers 409: the server's state is the
            // contract, not the reconciler's own tally.)
            let converged = try await eventually(timeout: .seconds(30)) {
                try await client.get(.configMaps, namespace: "default", name: "target")["data"] == ["k": "v", "user": "edit", "reconciled": "true"]
            }
            let outcomes = reconciler.outcomes.withLock { $0 }
            #expect(converged, "both writes are kept; reconciles: \(outcomes)")
            #expect(outcomes.first == "conflict", "\(outcomes)")
            #expect(outcomes.filter { $0 == "updated" }.count <= 1)
            // The 409 reached the server and was answered as such: the conflict was real, not simulated.
            #expect(cluster.cluster.requests().contains { $0.method == "PUT" && $0.code == 409 })
            // Once converged, the retry bookkeeping for the key is cleared.
            #expect(try await eventually { await controller.queue.failureCount(ObjectKey("default/target")) == 0 })
        }
    }
}
