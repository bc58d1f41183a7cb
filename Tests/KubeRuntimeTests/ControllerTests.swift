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

/// Records each reconcile's key and whether every cache of `controller` had synced when it started.
final class SyncCheckingReconciler: Reconciler {
    let controller: Controller
    let log = Mutex<[(key: ObjectKey, synced: Bool)]>([])
    init(controller: Controller) { self.controller = controller }
    var keys: [ObjectKey] { log.withLock { $0.map(\.key) } }

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        let synced = await controller.hasSynced()
        log.withLock { $0.append((key, synced)) }
        return .done
    }
}

@Suite struct ControllerTests {
    /// Every listed primary object is reconciled, only once every cache has synced; a child's event enqueues
    /// its controller owner's key (even an owner not listed yet), never the child's own key, and a child whose
    /// controller is of another kind or whose reference is not a controller reference enqueues nothing.
    @Test func reconcilesEveryListedObjectOnceSyncedAndChildEventsEnqueueTheirOwner() async throws {
        func object(_ name: String, rv: String) -> JSONValue { ["metadata": ["name": .string(name), "namespace": "ns", "uid": .string("uid-" + name), "resourceVersion": .string(rv)]] }
        let owners = [object("job", rv: "1"), object("job-b", rv: "2")]
        var child = object("job-0", rv: "3")
        child.ownerReferences = [OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "TrainingJob", name: "job", uid: "uid-job")]
        var otherKind = object("rs-0", rv: "4")
        otherKind.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: "uid-rs")]
        var notController = object("shared-0", rv: "5")
        notController.ownerReferences = [OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "TrainingJob", name: "shared", uid: "uid-shared", controller: false)]
        var lonely = object("lonely-0", rv: "6")  // listed after the others: its owner's key comes last
        lonely.ownerReferences = [OwnerReference(apiVersion: "gantry.dev/v1alpha1", kind: "TrainingJob", name: "lonely", uid: "uid-lonely")]
        var options = Controller.Options()
        options.workers = 1  // one worker takes keys in queue order: everything enqueued before ns/lonely is reconciled before it
        let controller = Controller(name: "test", watches: [
            .primary(ScriptedSource(.init(lists: [(owners, "2")], watches: [])), store: Store()),
            .owned(ScriptedSource(.init(lists: [([child, otherKind, notController, lonely], "6")], watches: [])), store: Store(),
                   ownerKind: "TrainingJob", ownerGroup: "gantry.dev"),
        ], options: options)
        let reconciler = SyncCheckingReconciler(controller: controller)
        let run = Task { await controller.run(reconciler) }
        try await waitFor { reconciler.keys.contains(ObjectKey("ns/lonely")) && reconciler.keys.contains(ObjectKey("ns/job-b")) }
        run.cancel()
        await run.value
        let keys = reconciler.keys
        let unsynced = reconciler.log.withLock { $0.filter { !$0.synced }.map(\.key) }
        #expect(unsynced.isEmpty, "reconciles started before every cache had synced: \(unsynced)")
        // The child's event enqueued its owner's key, never its own; the other kind and the non-controller
        // reference enqueued nothing.
        #expect(Set(keys) == [ObjectKey("ns/job"), ObjectKey("ns/job-b"), ObjectKey("ns/lonely")], "\(keys)")
        #expect(keys.filter { $0 == ObjectKey("ns/job-b") }.count == 1 && keys.filter { $0 == ObjectKey("ns/lonely") }.count == 1, "\(keys)")
        #expect(await controller.hasSynced())
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
