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

/// One watched resource of a controller: the informer its events come from, and which keys of the controller's
/// primary kind they concern.
public struct WatchSpec: Sendable {
    public var informer: Informer
    public var keys: @Sendable (ReflectorEvent) async -> [ObjectKey]
    /// When set, a key is queued this long after the event, and every further event for it meanwhile folds into
    /// that one reconcile: the Job controller's `syncJobBatchPeriod` (1 s) for pod events, so that N pods
    /// changing one after another cost one status write, not N.
    public var batchPeriod: Duration?

    public init(informer: Informer, batchPeriod: Duration? = nil, keys: @escaping @Sendable (ReflectorEvent) async -> [ObjectKey]) {
        self.informer = informer
        self.batchPeriod = batchPeriod
        self.keys = keys
    }

    /// The same watch, its events batched (see `batchPeriod`).
    public func batched(_ period: Duration) -> WatchSpec {
        var copy = self
        copy.batchPeriod = period
        return copy
    }

    /// A watch with an informer of its own (a controller run alone, as in tests and tools).
    public init(source: any ListerWatcher, store: Store, keys: @escaping @Sendable (ReflectorEvent) async -> [ObjectKey]) {
        self.init(informer: Informer(source: source, store: store), keys: keys)
    }

    public var store: Store { informer.store }

    /// The primary kind: each object is its own key.
    public static func primary(_ informer: Informer) -> WatchSpec {
        WatchSpec(informer: informer) { event in [event.object.objectKey] }
    }

    public static func primary(_ source: any ListerWatcher, store: Store) -> WatchSpec {
        .primary(Informer(source: source, store: store))
    }

    /// A child kind: an event enqueues the child's controller owner of `ownerKind` (rule 15).
    public static func owned(_ informer: Informer, ownerKind: String, ownerGroup: String) -> WatchSpec {
        WatchSpec(informer: informer) { event in
            let child = event.object
            guard let owner = child.controllerReference, owner.kind == ownerKind,
                  owner.apiVersion.split(separator: "/").first.map(String.init) == ownerGroup
            else { return [] }
            return [ObjectKey(namespace: child.namespace, name: owner.name)]
        }
    }

    /// A child kind some of whose objects another child of the owner makes (the pods of its DaemonSets): those
    /// enqueue the owner too, found through that child's store (`parents`, holding objects of `parentKind`).
    public static func owned(_ informer: Informer, ownerKind: String, ownerGroup: String, through parents: Store, parentKind: String) -> WatchSpec {
        let direct = owned(informer, ownerKind: ownerKind, ownerGroup: ownerGroup)
        return WatchSpec(informer: informer) { event in
            let keys = await direct.keys(event)
            let child = event.object
            guard keys.isEmpty, let via = child.controllerReference, via.kind == parentKind,
                  let parent = await parents.get(ObjectKey(namespace: child.namespace, name: via.name)), parent.uid == via.uid,
                  let owner = parent.controllerReference, owner.kind == ownerKind,
                  owner.apiVersion.split(separator: "/").first.map(String.init) == ownerGroup
            else { return keys }
            return [ObjectKey(namespace: child.namespace, name: owner.name)]
        }
    }

    public static func owned(_ source: any ListerWatcher, store: Store, ownerKind: String, ownerGroup: String) -> WatchSpec {
        .owned(Informer(source: source, store: store), ownerKind: ownerKind, ownerGroup: ownerGroup)
    }
}

extension ReflectorEvent {
    /// True for an update that changed nothing but the status (and with it resourceVersion and managedFields):
    /// typically the controller's own status write, which needs no reconcile of its own. What would: spec,
    /// labels, annotations, finalizers, deletion. (controller-runtime's GenerationChangedPredicate, without
    /// ignoring metadata users and tools change, such as annotations.)
    public var isStatusOnlyUpdate: Bool {
        guard case .upserted(let new, let old?) = self else { return false }
        func rest(_ object: JSONValue) -> JSONValue {
            var o = object
            o["status"] = nil
            o[path: "metadata", "resourceVersion"] = nil
            o[path: "metadata", "managedFields"] = nil
            return o
        }
        return rest(new) == rest(old)
    }

    public var object: JSONValue {
        switch self {
        case .upserted(let o, _), .deleted(let o): return o
        }
    }
}

/// A bounded pool of workers draining one rate-limited queue, fed by the handlers it registers on its informers.
/// With `sharedInformers` the informers belong to a `SharedInformers` that its owner runs; otherwise the
/// controller runs them itself.
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
    /// Caches the reconciler may read besides its watches (on shared informers: every store of the set, so nodes and
    /// the platform's settings too; stores nobody runs would never sync). Workers start once these have their first
    /// list too, as controller-runtime's manager starts controllers only after every cache synced:
    /// a reconcile planned from an empty cache acts on "nothing there" (a service refused for want of nodes).
    public let reads: [Store]
    public let queue: WorkQueue<ObjectKey>
    /// False when the informers are shared and run by their owner.
    let runsInformers: Bool
    let options: Options
    let clock: any RuntimeClock
    let logger: Logger

    public init(name: String, watches: [WatchSpec], reads: [Store] = [], sharedInformers: Bool = false, options: Options = .init(),
                clock: any RuntimeClock = SystemClock(), logger: Logger? = nil) {
        self.name = name
        self.watches = watches
        self.reads = reads
        self.runsInformers = !sharedInformers
        self.options = options
        self.clock = clock
        self.queue = WorkQueue(clock: clock)
        self.logger = logger ?? Logger(label: "gantry.controller.\(name)")
    }

    /// True once every watched and read store has its first complete list (readiness).
    public func hasSynced() async -> Bool {
        for watch in watches where !(await watch.informer.store.hasSynced) { return false }
        for store in reads where !(await store.hasSynced) { return false }
        return true
    }

    /// Runs until cancelled. On cancellation it stops taking work, lets in-flight reconciles finish within
    /// `shutdownGrace`, then returns.
    public func run(_ reconciler: some Reconciler) async {
        await withTaskGroup(of: Void.self) { reflectors in
            let queue = self.queue
            for watch in watches {
                let batch = watch.batchPeriod
                await watch.informer.addHandler { event in
                    for key in await watch.keys(event) {
                        if let batch { await queue.addAfter(key, batch) } else { await queue.add(key) }
                    }
                }
            }
            if runsInformers {
                for watch in watches {
                    let (informer, options, clock, logger) = (watch.informer, options.reflector, clock, logger)
                    reflectors.addTask { await informer.run(options: options, clock: clock, logger: logger) }
                }
            }
            for watch in watches { await watch.informer.store.waitUntilSynced() }
            for store in reads { await store.waitUntilSynced() }
            if Task.isCancelled { reflectors.cancelAll(); return }
            logger.info("caches synced; starting workers", metadata: ["workers": "\(options.workers)"])

            // Workers run outside the cancellation scope so that shutdown can drain them instead of cutting
            // an in-flight reconcile between two writes.
            let workers = Task { await runWorkers(reconciler) }
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
        // Every series exists from the start at 0 (Prometheus' advice): an error counter that appears only with
        // the first error is missing from dashboards until then, and rate() loses that first error.
        let dims = [("controller", name)]
        for result in ["success", "requeue_after", "error"] {
            Counter(label: "controller_runtime_reconcile_total", dimensions: dims + [("result", result)]).increment(by: 0)
        }
        Counter(label: "controller_runtime_reconcile_errors_total", dimensions: dims).increment(by: 0)
        Counter(label: "workqueue_retries_total", dimensions: [("name", name)]).increment(by: 0)
        Gauge(label: "workqueue_depth", dimensions: [("name", name)]).record(await queue.depth)
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
