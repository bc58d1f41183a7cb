import Synchronization
import Testing
import KubeCore
@testable import KubeRuntime

/// Records reconciles; each one takes `duration` and notes whether it was cut short.
final class SlowReconciler: Reconciler {
    let duration: Duration
    let log = Mutex<[(key: ObjectKey, completed: Bool)]>([])
    let started = Mutex(0)
    init(duration: Duration) { self.duration = duration }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        started.withLock { $0 += 1 }
        var completed = true
        do { try await Task.sleep(for: duration) } catch { completed = false }
        log.withLock { $0.append((key, completed)) }
        return .done
    }
}

@Suite struct ControllerTests {
    @Test func reconcilesEveryListedObjectOnceSyncedAndChildEventsEnqueueTheirOwner() async throws {
        let owner: JSONValue = ["metadata": ["name": "job", "namespace": "ns", "uid": "u1", "resourceVersion": "1"]]
        var child: JSONValue = ["metadata": ["name": "job-0", "namespace": "ns", "resourceVersion": "2"]]
        child.ownerReferences = [OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "TrainingJob", name: "job", uid: "u1")]
        let controller = Controller(name: "test", watches: [
            .primary(ScriptedSource(.init(lists: [([owner], "1")], watches: [])), store: Store()),
            .owned(ScriptedSource(.init(lists: [([child], "2")], watches: [])), store: Store(), ownerKind: "TrainingJob", ownerGroup: "gantry.dev"),
        ])
        let reconciler = SlowReconciler(duration: .milliseconds(1))
        let run = Task { await controller.run(reconciler) }
        try await waitFor { reconciler.log.withLock { $0.count } >= 1 }
        #expect(await controller.hasSynced())
        run.cancel()
        await run.value
        // Owner listed once and its child's event folded into the same key: one reconcile of ns/job.
        #expect(reconciler.log.withLock { $0.map(\.key) }.allSatisfy { $0 == ObjectKey("ns/job") })
    }

    @Test func cancellationEndsARunWhoseCachesNeverSync() async throws {
        // Every list fails (a CRD not installed, a server unreachable): the caches never sync, and SIGTERM
        // (cancellation) must still end `run` instead of waiting on the sync forever.
        let source = FailingSource()
        let controller = Controller(name: "test", watches: [.primary(source, store: Store())])
        let run = Task { await controller.run(SlowReconciler(duration: .milliseconds(1))) }
        let ended = Mutex(false)
        Task { await run.value; ended.withLock { $0 = true } }
        try await waitFor { source.lists.withLock { $0 } >= 2 }  // retrying: `run` waits for the sync by now
        run.cancel()
        try await waitFor { ended.withLock { $0 } }
        #expect(!(await controller.hasSynced()))
    }

    @Test func shutdownLetsTheInFlightReconcileFinish() async throws {
        let object: JSONValue = ["metadata": ["name": "a", "namespace": "ns", "resourceVersion": "1"]]
        var options = Controller.Options()
        options.shutdownGrace = .seconds(5)
        let controller = Controller(name: "test", watches: [.primary(ScriptedSource(.init(lists: [([object], "1")], watches: [])), store: Store())],
                                    options: options)
        let reconciler = SlowReconciler(duration: .milliseconds(300))
        let run = Task { await controller.run(reconciler) }
        try await waitFor { reconciler.started.withLock { $0 } == 1 }
        run.cancel()  // SIGTERM mid-reconcile
        await run.value
        let log = reconciler.log.withLock { $0 }
        #expect(log.count == 1)
        #expect(log.first?.completed == true)  // not cut between two writes
        #expect(await controller.queue.isShuttingDown)
    }

    @Test func aReconcileStillRunningAfterTheGraceIsCancelled() async throws {
        let object: JSONValue = ["metadata": ["name": "a", "namespace": "ns", "resourceVersion": "1"]]
        var options = Controller.Options()
        options.shutdownGrace = .milliseconds(50)
        let controller = Controller(name: "test", watches: [.primary(ScriptedSource(.init(lists: [([object], "1")], watches: [])), store: Store())],
                                    options: options)
        let reconciler = SlowReconciler(duration: .seconds(30))
        let run = Task { await controller.run(reconciler) }
        try await waitFor { reconciler.started.withLock { $0 } == 1 }
        run.cancel()
        await run.value
        #expect(reconciler.log.withLock { $0.first?.completed } == false)
    }
}

/// A source whose every list fails, as when its CRD is not installed.
final class FailingSource: ListerWatcher {
    struct NotFound: Error {}
    let lists = Mutex(0)
    var description: String { "failing" }
    func listAll() async throws -> (items: [JSONValue], resourceVersion: String) {
        lists.withLock { $0 += 1 }
        throw NotFound()
    }
    func watch(resourceVersion: String, timeoutSeconds: Int) -> WatchEvents {
        AsyncThrowingStream<WatchEvent, any Error> { $0.finish(throwing: NotFound()) }
    }
}
