import KubeCore
import Logging
import Metrics

/// What a reconcile asks of the queue next.
public enum ReconcileResult: Sendable, Equatable {
    /// Converged: wait for the next change.
    case done
    /// Look again later even without a change (e.g. a deadline or a TTL).
    case requeue(after: Duration)
}

/// The reconcile contract: idempotent and level-triggered. It reads the current state from stores (never from
/// the event that woke it) and returns what the queue should do; a thrown error backs off per key.
public protocol Reconciler: Sendable {
    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult
}

/// One watched resource of a controller: where its events come from, the store they fill, and which keys of
/// the controller's primary kind they concern.
public struct WatchSpec: Sendable {
    public var source: any ListerWatcher
    public var store: Store
    public var keys: @Sendable (ReflectorEvent) async -> [ObjectKey]

    public init(source: any ListerWatcher, store: Store, keys: @escaping @Sendable (ReflectorEvent) async -> [ObjectKey]) {
        self.source = source
        self.store = store
        self.keys = keys
    }

    /// The primary kind: each object is its own key.
    public static func primary(_ source: any ListerWatcher, store: Store) -> WatchSpec {
        WatchSpec(source: source, store: store) { event in [event.object.objectKey] }
    }

    /// A child kind: an event enqueues the child's controller owner of `ownerKind` (rule 15).
    public static func owned(_ source: any ListerWatcher, store: Store, ownerKind: String, ownerGroup: String) -> WatchSpec {
        WatchSpec(source: source, store: store) { event in
            let child = event.object
            guard let owner = child.controllerReference, owner.kind == ownerKind,
                  owner.apiVersion.split(separator: "/").first.map(String.init) == ownerGroup
            else { return [] }
            return [ObjectKey(namespace: child.namespace, name: owner.name)]
        }
    }
}

extension ReflectorEvent {
    public var object: JSONValue {
        switch self {
        case .upserted(let o, _), .deleted(let o): return o
        }
    }
}

/// Runs reflectors for its watches and a bounded pool of workers that drain one rate-limited queue.
public struct Controller: Sendable {
    public struct Options: Sendable {
        public var workers: Int = 4
        /// How long in-flight reconciles may run after shutdown begins before they are cancelled.
        public var shutdownGrace: Duration = .seconds(10)
        public var reflector = Reflector.Options()
        public init() {}
    }

    public let name: String
    public let watches: [WatchSpec]
    public let queue: WorkQueue<ObjectKey>
    let options: Options
    let clock: any RuntimeClock
    let logger: Logger

    public init(name: String, watches: [WatchSpec], options: Options = .init(), clock: any RuntimeClock = SystemClock(), logger: Logger? = nil) {
        self.name = name
        self.watches = watches
        self.options = options
        self.clock = clock
        self.queue = WorkQueue(clock: clock)
        self.logger = logger ?? Logger(label: "gantry.controller.\(name)")
    }

    /// True once every watched store has its first complete list (readiness).
    public func hasSynced() async -> Bool {
        for watch in watches where !(await watch.store.hasSynced) { return false }
        return true
    }

    /// Runs until cancelled. On cancellation it stops taking work, lets in-flight reconciles finish within
    /// `shutdownGrace`, then returns.
    public func run(_ reconciler: some Reconciler) async {
        await withTaskGroup(of: Void.self) { reflectors in
            for watch in watches {
                let queue = self.queue
                let reflector = Reflector(source: watch.source, store: watch.store, options: options.reflector, clock: clock, logger: logger) { event in
                    for key in await watch.keys(event) { await queue.add(key) }
                }
                reflectors.addTask { await reflector.run() }
            }
            for watch in watches { await watch.store.waitUntilSynced() }
            if Task.isCancelled { reflectors.cancelAll(); return }
            logger.info("caches synced; starting workers", metadata: ["workers": "\(options.workers)"])

            // Workers run outside the cancellation scope so that shutdown can drain them instead of cutting
            // an in-flight reconcile between two writes.
            let workers = Task { await runWorkers(reconciler) }
            let queue = self.queue
            let grace = options.shutdownGrace
            let clock = self.clock
            await withTaskCancellationHandler {
                await workers.value
            } onCancel: {
                Task {
                    await queue.shutDown()
                    try? await clock.sleep(for: grace)
                    workers.cancel()
                }
            }
            reflectors.cancelAll()
        }
    }

    func runWorkers(_ reconciler: some Reconciler) async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, options.workers) {
                group.addTask { await worker(reconciler) }
            }
        }
    }

    func worker(_ reconciler: some Reconciler) async {
        let dims = [("controller", name)]
        while let key = await queue.next() {
            let start = clock.now
            do {
                let result = try await reconciler.reconcile(key)
                await queue.forget(key)
                if case .requeue(let after) = result { await queue.addAfter(key, after) }
                Counter(label: "controller_runtime_reconcile_total", dimensions: dims + [("result", result == .done ? "success" : "requeue_after")]).increment()
            } catch {
                logger.warning("reconcile failed; backing off", metadata: ["key": "\(key)", "error": "\(error)"])
                await queue.addRateLimited(key)
                Counter(label: "controller_runtime_reconcile_total", dimensions: dims + [("result", "error")]).increment()
                Counter(label: "controller_runtime_reconcile_errors_total", dimensions: dims).increment()
                Counter(label: "workqueue_retries_total", dimensions: [("name", name)]).increment()
            }
            let elapsed = clock.now - start
            Timer(label: "controller_runtime_reconcile_time_seconds", dimensions: dims).recordNanoseconds(
                elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
            await queue.done(key)
            Gauge(label: "workqueue_depth", dimensions: [("name", name)]).record(await queue.depth)
        }
    }
}
