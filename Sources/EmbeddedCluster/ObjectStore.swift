import Foundation
import KubeCore

/// The embedded cluster's storage: every object of every served resource, one revision counter, the event
/// history that watches resume from, and the registry of served resources (built-ins plus CRDs).
///
/// In-process API (for simulation controllers: scheduler, kubelets, endpoints controller). Resources are named by
/// their storage key `plural` (core group) or `plural.group` (e.g. `pods`, `leases.coordination.k8s.io`):
///
///     let store = cluster.store
///     let pod = await store.get("pods", namespace: "default", name: "web-0")          // JSONValue?
///     let (pods, rv) = await store.list("pods", namespace: nil, labelSelector: "app=web")
///     _ = try await store.create("nodes", node)                                      // keeps status as given
///     _ = try await store.update("pods", changedPod)                                 // scope .all: any field
///     _ = try await store.modify("pods", namespace: "default", name: "web-0") { $0["status"]?["phase"] = "Running" }
///     _ = try await store.delete("pods", namespace: "default", name: "web-0")
///     for await event in await store.subscribe() { ... }                             // StoreEvent in revision order
///
/// Writes through this API skip admission-style validation (CRD schemas), exactly like a controller writing
/// through a privileged path; they still get resourceVersion, uid, generation, finalizer and GC semantics.
/// Errors are `APIStatusError` (code/reason/message as the HTTP API would answer).
///
/// Also for the simulation: `setGracefulPodDeletion(true)` (deleting a bound pod only marks it; the kubelet
/// finishes with `DeleteOptions(gracePeriodSeconds: 0)`), `compactHistory()`, `dropAllWatches()`,
/// `DevCluster.logs` (PodLogs: append/end lines per container) and `DevCluster.setProxyHandler(_:)`.
///
/// Semantics and their sources, in short: Writes.swift (create/update/delete, preconditions, finalizers),
/// Strategies.swift (per-kind behaviour), GC.swift (owner references, propagation, namespaces), Watch.swift and
/// WatchHandler.swift (history, 410, bookmarks, selectors), Paging.swift (snapshots), Apply.swift and ManagedFields/
/// (server-side apply, managedFields), CRDRegistry.swift (serving custom resources).
public actor ObjectStore {
    /// Objects by resource storage key, then `ns/name`.
    var objects: [String: [String: JSONValue]] = [:]
    /// Each resource's storage keys in order, for paged LISTs (sorting every key for every page was a tenth of a
    /// paged LIST's cost); a resource's entry is dropped whenever a key is added to it or removed from it.
    var orderedKeys: [String: [String]] = [:]
    /// Cluster-wide revision: the last committed change.
    var revision: Int64 = 0
    /// Recent events, oldest first; `compactedRevision` is the newest revision no longer in it.
    var history: [StoreEvent] = []
    var historyStart = 0
    var compactedRevision: Int64 = 0
    let historyLimit: Int
    /// uid → (resource, key) of every stored object, for garbage collection.
    var uidIndex: [String: (resource: String, key: String)] = [:]
    /// The garbage collector's graph (GCGraph.swift): owner uid → its dependents, objects whose owners must be
    /// checked, owners waiting in foreground deletion. Kept by `commit`, so a collection costs what changed,
    /// not the size of the store.
    var gc = GCGraph()
    /// Served resources by `group/version/plural`.
    var served: [String: ResourceInfo] = [:]
    /// Custom resource schemas by `plural.group/version`.
    var schemas: [String: any CustomResourceSchema] = [:]
    var watchers: [UUID: Watcher] = [:]
    var subscribers: [UUID: AsyncStream<StoreEvent>.Continuation] = [:]
    /// Next clusterIP offset within 10.96.0.0/12 (10.96.0.1 is the `kubernetes` service).
    var nextServiceIP: UInt32 = 2
    var persistence: Persistence?
    var gcScheduled = false
    /// See `setGracefulPodDeletion`.
    var gracefulPodDeletion = false
    var flushScheduled = false
    var lastPersistenceError: String?
    /// Custom resource schemas as JSON by `plural.group/version`, to type their fields for ownership (ManagedFields/).
    var fieldSchemas: [String: JSONValue] = [:]

    init(historyLimit: Int = 10_000) {
        self.historyLimit = historyLimit
        for info in BuiltinKinds.all { served[Self.servedKey(info)] = info }
    }

    static func servedKey(_ info: ResourceInfo) -> String { "\(info.group)/\(info.version)/\(info.plural)" }
    static func servedKey(group: String, version: String, plural: String) -> String { "\(group)/\(version)/\(plural)" }

    // MARK: - Registry

    /// All served resources (every version), in a stable order.
    func servedResources() -> [ResourceInfo] {
        served.values.sorted { ($0.group, $0.version, $0.plural) < ($1.group, $1.version, $1.plural) }
    }

    func resource(group: String, version: String, plural: String) -> ResourceInfo? {
        served[Self.servedKey(group: group, version: version, plural: plural)]
    }

    /// Any served version of a resource storage key (preferring the first version found in order).
    func anyInfo(forStorageKey key: String) -> ResourceInfo? {
        // The first in `servedResources()` order, without sorting them all on every write.
        served.values.filter { $0.resourceKey == key }.min { ($0.group, $0.version, $0.plural) < ($1.group, $1.version, $1.plural) }
    }

    func schema(for info: ResourceInfo) -> (any CustomResourceSchema)? {
        schemas["\(info.resourceKey)/\(info.version)"]
    }

    // MARK: - Reads

    public func get(_ resource: String, namespace: String?, name: String) -> JSONValue? {
        objects[resource]?[storageKey(namespace: namespace, name: name)]
    }

    /// Objects matching the selectors (sorted by namespace/name) and the revision they were read at.
    public func list(_ resource: String, namespace: String?, labelSelector: String? = nil,
                     fieldSelector: String? = nil) throws(APIStatusError) -> (items: [JSONValue], resourceVersion: String) {
        let info = anyInfo(forStorageKey: resource)
        let kind = info?.fieldSelectorKind ?? ""
        let extra = info?.selectableFields ?? []
        let labels = try labelSelector.map { (s) throws(APIStatusError) in try LabelQuery(parsing: s) } ?? LabelQuery()
        let fields = try fieldSelector.map { (s) throws(APIStatusError) in try FieldQuery(parsing: s, kind: kind, extra: extra) } ?? FieldQuery()
        return (select(resource, namespace: namespace, labels: labels, fields: fields), String(revision))
    }

    func select(_ resource: String, namespace: String?, labels: LabelQuery, fields: FieldQuery) -> [JSONValue] {
        let all = objects[resource] ?? [:]
        return all.keys.sorted().compactMap { key -> JSONValue? in
            guard let obj = all[key] else { return nil }
            if let namespace, obj.namespace != namespace { return nil }
            guard labels.matches(object: obj), fields.matches(obj) else { return nil }
            return obj
        }
    }

    public var currentRevision: Int64 { revision }

    /// When on, deleting a pod bound to a node only marks it (deletionTimestamp = now + grace period); the
    /// simulated kubelet finishes with a delete of grace 0. Off by default (no kubelet would finish it).
    public func setGracefulPodDeletion(_ on: Bool) { gracefulPodDeletion = on }

    // MARK: - Commit

    /// Records one change: assigns the next revision, journals it (with a data directory; refused with 500 when
    /// that fails, changing nothing), stores it, appends history, fans it out.
    @discardableResult
    func commit(_ kind: StoreEvent.Kind, resource: String, object: JSONValue, old: JSONValue?) throws(APIStatusError) -> JSONValue {
        var stored = object
        stored.resourceVersion = String(revision + 1)
        let key = storageKey(namespace: stored.namespace, name: stored.name ?? "")
        try journal(revision: revision + 1, resource: resource, key: key, object: kind == .deleted ? nil : stored)
        revision += 1
        switch kind {
        case .added, .modified:
            if objects[resource]?[key] == nil { orderedKeys[resource] = nil }
            objects[resource, default: [:]][key] = stored
            if let uid = stored.uid { uidIndex[uid] = (resource, key) }
            gc.track(GCGraph.Ref(resource: resource, key: key), object: stored, old: old)
        case .deleted:
            orderedKeys[resource] = nil
            objects[resource]?[key] = nil
            if let uid = stored.uid { uidIndex[uid] = nil }
            gc.forget(GCGraph.Ref(resource: resource, key: key), object: stored)
        }
        let event = StoreEvent(kind: kind, resource: resource, object: stored, oldObject: old, revision: revision)
        appendHistory(event)
        fanOut(event)
        markDirty()
        return stored
    }

    func appendHistory(_ event: StoreEvent) {
        history.append(event)
        if history.count - historyStart > historyLimit {
            compactedRevision = history[historyStart].revision
            historyStart += 1
        }
        // Drop the consumed prefix in batches so appends stay amortised O(1).
        if historyStart > 4096 {
            history.removeFirst(historyStart)
            historyStart = 0
        }
    }

    /// Forgets all history up to now: watches and continue tokens older than this answer 410 Gone.
    public func compactHistory() {
        compactedRevision = revision
        history.removeAll()
        historyStart = 0
    }

    /// Events after `revision`, or nil if some of them were compacted away.
    func events(after rv: Int64) -> ArraySlice<StoreEvent>? {
        if rv < compactedRevision { return nil }
        let live = history[historyStart...]
        guard let first = live.firstIndex(where: { $0.revision > rv }) else { return live[live.endIndex...] }
        return live[first...]
    }

    // MARK: - Internal subscription

    /// Every committed change from now on, in order. The buffer is bounded (100k events); a subscriber that falls
    /// that far behind has its stream finished and must re-list.
    public func subscribe() -> AsyncStream<StoreEvent> {
        let (stream, continuation) = AsyncStream<StoreEvent>.makeStream(bufferingPolicy: .bufferingOldest(100_000))
        let id = UUID()
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.removeSubscriber(id) }
        }
        return stream
    }

    func removeSubscriber(_ id: UUID) { subscribers[id] = nil }

    func fanOut(_ event: StoreEvent) {
        for (id, c) in subscribers {
            if case .dropped = c.yield(event) {
                c.finish()
                subscribers[id] = nil
            }
        }
        deliverToWatchers(event)
    }
}
