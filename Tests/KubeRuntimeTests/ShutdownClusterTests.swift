import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Synchronization
import Testing
@testable import KubeRuntime

/// Writes `<name>-first`, then waits for the test to open the gate, then writes `<name>-second`: a reconcile
/// with two writes, so a shutdown between them can be observed on the server.
final class TwoWriteReconciler: Reconciler {
    let client: KubeClient
    let reconciled = Mutex<[String]>([])
    let midway: AsyncStream<Void>.Continuation
    let gate: Mutex<AsyncStream<Void>.Iterator?>

    init(client: KubeClient, midway: AsyncStream<Void>.Continuation, gate: AsyncStream<Void>) {
        self.client = client
        self.midway = midway
        self.gate = Mutex(gate.makeAsyncIterator())
    }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        reconciled.withLock { $0.append(key.name) }
        _ = try await client.create(.configMaps, Self.marker(key.name + "-first"), namespace: key.namespace)
        midway.yield()
        var iterator = gate.withLock { g in defer { g = nil }; return g }
        _ = await iterator?.next()
        _ = try await client.create(.configMaps, Self.marker(key.name + "-second"), namespace: key.namespace)
        return .done
    }

    static func marker(_ name: String) -> JSONValue {
        var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap"]
        cm.name = name
        return cm
    }
}

/// Shutdown (SIGTERM cancels the controller's task) in the middle of a reconcile against the embedded API
/// server: the controller takes no new work, the reconcile in flight completes both of its writes, then `run`
/// returns.
@Suite(.serialized) struct ShutdownClusterTests {
    @Test func shutdownMidReconcileFinishesItAndTakesNoNewWork() async throws {
        try await withCluster(TestCluster(DevClusterOptions(nodes: "off"))) { cluster async throws in
            let client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            var job = TwoWriteReconciler.marker("job-1")
            job.labels = ["work": "yes"]
            _ = try await client.create(.configMaps, job, namespace: "default")

            let (midway, midwayContinuation) = AsyncStream<Void>.makeStream()
            let (gate, gateContinuation) = AsyncStream<Void>.makeStream()
            let reconciler = TwoWriteReconciler(client: client, midway: midwayContinuation, gate: gate)
            let source = ClientListerWatcher(client: client, type: .configMaps, namespace: "default", labelSelector: "work=yes")
            let store = Store()
            var options = Controller.Options()
            options.shutdownGrace = .seconds(30)
            let controller = Controller(name: "two-writes", watches: [.primary(source, store: store)], options: options)
            let run = Task { await controller.run(reconciler) }

            var mid = midway.makeAsyncIterator()
            _ = await mid.next()  // job-1's first write is on the server; its second is waiting on the gate
            run.cancel()  // SIGTERM
            #expect(try await eventually { await controller.queue.isShuttingDown })
            // New work after shutdown began is not taken (the queue is shut and the watches stop).
            var late = TwoWriteReconciler.marker("job-2")
            late.labels = ["work": "yes"]
            _ = try await client.create(.configMaps, late, namespace: "default")
            await controller.queue.add(ObjectKey("default/job-2"))  // even an explicit enqueue is refused
            gateContinuation.yield()
            await run.value

            #expect(try await client.get(.configMaps, namespace: "default", name: "job-1-second").name == "job-1-second")
            #expect(reconciler.reconciled.withLock { $0 } == ["job-1"])
            await #expect { try await client.get(.configMaps, namespace: "default", name: "job-2-first") } throws: {
                ($0 as? APIError)?.isNotFound == true
            }
        }
    }
}
