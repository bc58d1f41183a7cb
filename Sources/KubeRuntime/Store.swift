import KubeCore

/// The cache a controller reads: objects of one kind, fed only by its reflector.
///
/// Indexed by namespace and by controller-owner UID so reconcilers find children without scanning.
/// Objects are projected on the way in (`managedFields` and other unread parts dropped) to keep memory per
/// object small (docs/benchmarks.md). Settled objects (what `packing` says: a finished pod, a record) are kept
/// as their compact JSON bytes instead of a tree, a quarter of the memory, and parsed again when read: they are
/// read rarely, and readers that want only live objects skip them unparsed (`list(includingSettled: false)`).
public actor Store {
    public typealias Projection = @Sendable (JSONValue) -> JSONValue
    /// True for an object (as projected) that may be kept packed.
    public typealias Packing = @Sendable (JSONValue) -> Bool

    /// One object as kept: its tree, or the bytes of a settled one.
    enum Stored: Sendable {
        case tree(JSONValue)
        case packed([UInt8])

        var value: JSONValue {
            switch self {
            case .tree(let object): return object
            // The bytes are this process's own serialization of a parsed object, so they parse.
            case .packed(let bytes): return try! JSONValue.parse(bytes)  // trap-ok: our own serializer's output
            }
        }
        var isPacked: Bool { if case .packed = self { return true } else { return false } }
    }

    /// An object made ready for the store off the store's actor (projected, packed when settled): a list's
    /// pages are prepared as they arrive, so a large list is never held whole in full objects.
    public struct Prepared: Sendable {
        public let key: ObjectKey
        let ownerUID: String?
        let stored: Stored
        /// The object as kept (parsed again when packed).
        public var object: JSONValue { stored.value }
    }

    private var objects: [ObjectKey: Stored] = [:]
    private var byNamespace: [String: Set<ObjectKey>] = [:]
    /// Children per controller-owner UID: an array, as an owner has few (a Set per owner cost twice the memory),
    /// and an owner with none left is dropped.
    private var byOwner: [String: [ObjectKey]] = [:]
    private let projection: Projection
    /// The mask `projection` applies, when it is one (then a list can be projected while parsed).
    public nonisolated let fieldMask: FieldMask?
    private let packing: Packing?
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

    public init(projection: @escaping Projection = Store.dropManagedFields, packing: Packing? = nil) {
        self.projection = projection
        self.fieldMask = nil
        self.packing = packing
    }

    /// A store keeping what `mask` names (and never managedFields); see `projection(keeping:)`.
    public init(keeping mask: FieldMask, packing: Packing? = nil) {
        self.projection = Store.projection(keeping: mask)
        self.fieldMask = mask == .all ? nil : mask
        self.packing = packing
    }

    /// Projects `object` (unless `projected`: already `fieldMask.project`ed, as a masked list's items) and packs
    /// it when settled; callable from any task.
    public nonisolated func prepare(_ object: JSONValue, projected: Bool = false) -> Prepared {
        let projected = projected ? Store.dropManagedFields(object) : projection(object)
        let stored: Stored = packing?(projected) == true ? .packed(projected.serializedBytes()) : .tree(projected)
        return Prepared(key: object.objectKey, ownerUID: projected.controllerReference?.uid, stored: stored)
    }

    public static let dropManagedFields: Projection = { object in
        var o = object
        o[path: "metadata", "managedFields"] = nil
        o[path: "metadata", "annotations", "kubectl.kubernetes.io/last-applied-configuration"] = nil
        if o[path: "metadata", "annotations"]?.objectValue?.isEmpty == true { o[path: "metadata", "annotations"] = nil }
        return o
    }

    // MARK: Reading

    public func get(_ key: ObjectKey) -> JSONValue? { objects[key]?.value }

    /// Whether `key` is cached, without reading (or unpacking) it.
    public func contains(_ key: ObjectKey) -> Bool { objects[key] != nil }

    public func list(namespace: String? = nil) -> [JSONValue] {
        list(namespace: namespace, includingSettled: true)
    }

    /// `includingSettled: false` leaves out the packed (settled) objects without parsing them: a reader that
    /// wants only live objects (admission counts GPUs of unfinished pods) pays nothing for finished ones.
    public func list(namespace: String? = nil, includingSettled: Bool) -> [JSONValue] {
        func keep(_ stored: Stored) -> JSONValue? {
            guard includingSettled || !stored.isPacked else { return .none }  // not `nil`: JSONValue takes nil literals
            return stored.value
        }
        guard let namespace else { return objects.values.compactMap(keep) }
        return (byNamespace[namespace] ?? []).compactMap { objects[$0].flatMap(keep) }
    }

    /// Objects whose labels match; a packed object's labels are read from its bytes (its `metadata` alone) and
    /// only a match is parsed whole.
    public func list(namespace: String? = nil, selector: LabelSelector) -> [JSONValue] {
        func match(_ stored: Stored) -> JSONValue? {
            switch stored {
            case .tree(let object):
                guard selector.matches(object.labels) else { return .none }  // not `nil`: JSONValue takes nil literals
                return object
            case .packed(let bytes):
                let metadata = JSONValue.skimTopLevel(bytes, key: "metadata") ?? .emptyObject
                guard selector.matches(JSONValue.object(["metadata": metadata]).labels) else { return .none }
                return stored.value
            }
        }
        guard let namespace else { return objects.values.compactMap(match) }
        return (byNamespace[namespace] ?? []).compactMap { objects[$0].flatMap(match) }
    }

    /// Objects whose controller ownerReference has this UID.
    public func owned(by uid: String) -> [JSONValue] {
        (byOwner[uid] ?? []).compactMap { objects[$0]?.value }
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
        let value = compute(objects.values.map(\.value))
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
        replace(prepared: items.map { prepare($0) })
    }

    /// `replace(with:)` for objects already prepared (a list's pages, as they arrived).
    @discardableResult
    public func replace(prepared items: [Prepared]) -> [JSONValue] {
        var fresh: [ObjectKey: Prepared] = [:]
        fresh.reserveCapacity(items.count)
        for item in items { fresh[item.key] = item }
        let vanished = objects.filter { fresh[$0.key] == nil }.map(\.value.value)
        objects = [:]
        pendingCreates = [:]
        byNamespace = [:]
        byOwner = [:]
        forgetDerived()
        for item in fresh.values { insert(item) }
        if !hasSynced {
            hasSynced = true
            for waiter in syncWaiters.values { waiter.resume() }
            syncWaiters = [:]
        }
        return vanished
    }

    /// Inserts or replaces one object; returns the previous version. `projected`: the object is already as
    /// `fieldMask` leaves it (a watch event parsed with the mask); it is not projected again.
    @discardableResult
    public func upsert(_ object: JSONValue, projected: Bool = false) -> JSONValue? {
        let item = prepare(object, projected: projected)
        let old = remove(item.key)
        insert(item)
        return old
    }

    @discardableResult
    public func remove(_ key: ObjectKey) -> JSONValue? {
        if !pendingCreates.isEmpty { pendingCreates[key] = nil }
        guard let stored = objects.removeValue(forKey: key) else { return nil }
        let old = stored.value
        forgetDerived()
        if let ns = key.namespace { byNamespace[ns]?.remove(key) }
        if let uid = old.controllerReference?.uid, var children = byOwner[uid] {
            children.removeAll { $0 == key }
            byOwner[uid] = children.isEmpty ? nil : children
        }
        return old
    }

    private func insert(_ item: Prepared) {
        forgetDerived()
        objects[item.key] = item.stored
        if let ns = item.key.namespace { byNamespace[ns, default: []].insert(item.key) }
        if let uid = item.ownerUID { byOwner[uid, default: []].append(item.key) }
    }
}
