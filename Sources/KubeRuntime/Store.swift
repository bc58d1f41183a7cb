import KubeCore

/// The cache a controller reads: objects of one kind, fed only by its reflector.
///
/// Indexed by namespace and by controller-owner UID so reconcilers find children without scanning.
/// Objects are projected on the way in (`managedFields` and other unread parts dropped) to keep memory per
/// object small (docs/benchmarks.md).
public actor Store {
    public typealias Projection = @Sendable (JSONValue) -> JSONValue

    private var objects: [ObjectKey: JSONValue] = [:]
    private var byNamespace: [String: Set<ObjectKey>] = [:]
    private var byOwner: [String: Set<ObjectKey>] = [:]
    private let projection: Projection
    /// False until the first complete list is in (rule 6): readers must not act on a partial cache.
    public private(set) var hasSynced = false
    private var syncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID = 0
    /// Answers computed over every object (`derived`), dropped on any change.
    private var derivedValues: [AnyHashable: any Sendable] = [:]
    static let derivedCapacity = 64
    /// Objects this process created that the watch has not brought in yet (controller-runtime's "expectations"):
    /// a reconcile that runs between the create's answer and its watch event must not create them again (a 409
    /// per duplicate). Cleared by any event for the key or a re-list; the timeout bounds a lost event.
    private var pendingCreates: [ObjectKey: ContinuousClock.Instant] = [:]
    static let pendingCreateTimeout: Duration = .seconds(30)

    public init(projection: @escaping Projection = Store.dropManagedFields) {
        self.projection = projection
    }

    public static let dropManagedFields: Projection = { object in
        var o = object
        o[path: "metadata", "managedFields"] = nil
        o[path: "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"] = nil
        if o[path: "metadata", "annotations"]?.objectValue?.isEmpty == true { o[path: "metadata", "annotations"] = nil }
        return o
    }

    // MARK: Reading

    public func get(_ key: ObjectKey) -> JSONValue? { objects[key] }

    public func list(namespace: String? = nil) -> [JSONValue] {
        guard let namespace else { return Array(objects.values) }
        return (byNamespace[namespace] ?? []).compactMap { objects[$0] }
    }

    public func list(namespace: String? = nil, selector: LabelSelector) -> [JSONValue] {
        list(namespace: namespace).filter { selector.matches($0.labels) }
    }

    /// Objects whose controller ownerReference has this UID.
    public func owned(by uid: String) -> [JSONValue] {
        (byOwner[uid] ?? []).compactMap { objects[$0] }
    }

    /// True while a create of `key` answered by the API server has not reached this store.
    public func isPendingCreate(_ key: ObjectKey) -> Bool {
        guard let since = pendingCreates[key] else { return false }
        if ContinuousClock.now - since < Self.pendingCreateTimeout { return true }
        pendingCreates[key] = nil
        return false
    }

    /// Records that this process created `key` (unless the watch already brought it in).
    public func expectCreated(_ key: ObjectKey) {
        guard objects[key] == nil else { return }
        pendingCreates[key] = .now
    }

    public var count: Int { objects.count }
    public var keys: [ObjectKey] { Array(objects.keys) }

    /// A value computed from all objects, kept until the store next changes: the readers that ask the same
    /// question (`key`) between two changes share one computation instead of each walking every object (every
    /// not-yet-admitted TrainingJob checks its gang against every Node on each reconcile; in a burst they ask the
    /// same few questions). At most `derivedCapacity` answers are kept; past that all are dropped and recomputed
    /// as asked.
    public func derived<Value: Sendable>(_ key: some Hashable & Sendable, _ compute: @Sendable ([JSONValue]) -> Value) -> Value {
        let key = AnyHashable(key)
        if let known = derivedValues[key] as? Value { return known }
        let value = compute(Array(objects.values))
        if derivedValues.count >= Self.derivedCapacity { derivedValues.removeAll(keepingCapacity: true) }
        derivedValues[key] = value
        return value
    }

    private func forgetDerived() {
        if !derivedValues.isEmpty { derivedValues.removeAll(keepingCapacity: true) }
    }

    /// Suspends until the first list has been applied, or until the task is cancelled (then it returns early:
    /// callers check `Task.isCancelled`). Cancellation must end the wait, because a cache that never syncs
    /// (CRDs missing, server unreachable) would otherwise keep the process alive past SIGTERM.
    public func waitUntilSynced() async {
        if hasSynced { return }
        let id = nextWaiterID
        nextWaiterID += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                // Registered synchronously on the actor: a cancel before this point is seen here, one after it
                // finds the waiter through `cancelWaiter`.
                if Task.isCancelled { c.resume(); return }
                syncWaiters[id] = c
            }
        } onCancel: {
            Task { await self.cancelWaiter(id) }
        }
    }

    private func cancelWaiter(_ id: Int) {
        syncWaiters.removeValue(forKey: id)?.resume()
    }

    // MARK: Writing (reflector only)

    /// Replaces everything atomically with a fresh list; returns keys that vanished (their deletes were missed).
    @discardableResult
    public func replace(with items: [JSONValue]) -> [JSONValue] {
        var fresh: [ObjectKey: JSONValue] = [:]
        fresh.reserveCapacity(items.count)
        for item in items { fresh[item.objectKey] = projection(item) }
        let vanished = objects.filter { fresh[$0.key] == nil }.map(\.value)
        objects = [:]
        pendingCreates = [:]
        byNamespace = [:]
        byOwner = [:]
        forgetDerived()
        for (key, object) in fresh { insert(key, object) }
        if !hasSynced {
            hasSynced = true
            for waiter in syncWaiters.values { waiter.resume() }
            syncWaiters = [:]
        }
        return vanished
    }

    /// Inserts or replaces one object; returns the previous version.
    @discardableResult
    public func upsert(_ object: JSONValue) -> JSONValue? {
        let key = object.objectKey
        let old = remove(key)
        insert(key, projection(object))
        return old
    }

    @discardableResult
    public func remove(_ key: ObjectKey) -> JSONValue? {
        if !pendingCreates.isEmpty { pendingCreates[key] = nil }
        guard let old = objects.removeValue(forKey: key) else { return nil }
        forgetDerived()
        if let ns = key.namespace { byNamespace[ns]?.remove(key) }
        if let uid = old.controllerReference?.uid { byOwner[uid]?.remove(key) }
        return old
    }

    private func insert(_ key: ObjectKey, _ object: JSONValue) {
        forgetDerived()
        objects[key] = object
        if let ns = key.namespace { byNamespace[ns, default: []].insert(key) }
        if let uid = object.controllerReference?.uid { byOwner[uid, default: []].insert(key) }
    }
}
