import KubeCore
import Logging

/// One watched resource (type, namespace, label selector) for the whole process: one reflector filling one
/// store, and the event handlers of every controller that registered interest (controller-runtime's shared
/// informer, kube-rs's one-writer store). Two controllers watching pods share it: one watch, one copy in memory,
/// and no re-list of one wiping the other's view.
public actor Informer {
    public nonisolated let source: any ListerWatcher
    public nonisolated let store: Store
    private var handlers: [@Sendable (ReflectorEvent) async -> Void] = []
    private var started = false

    public init(source: any ListerWatcher, store: Store) {
        self.source = source
        self.store = store
    }

    /// Adds a handler. One added after the first list is handed every cached object first (as an upsert), so a
    /// late registrant misses nothing; the reflector's later events follow.
    public func addHandler(_ handler: @escaping @Sendable (ReflectorEvent) async -> Void) async {
        handlers.append(handler)
        if await store.hasSynced {
            for object in await store.list() { await handler(.upserted(object, old: nil)) }
        }
    }

    public var handlerCount: Int { handlers.count }

    func dispatch(_ event: ReflectorEvent) async {
        for handler in handlers { await handler(event) }
    }

    /// Runs the reflector until cancelled. Only the first call runs it; a second returns at once (an informer
    /// has exactly one writer).
    public func run(options: Reflector.Options = .init(), clock: any RuntimeClock = SystemClock(), logger: Logger) async {
        guard !started else { return }
        started = true
        let reflector = Reflector(source: source, store: store, options: options, clock: clock, logger: logger) { [weak self] event in
            await self?.dispatch(event)
        }
        await reflector.run()
    }
}

/// Where a process gets its informers: one per (resource, namespace, label selector), whatever the number of
/// controllers asking. Assembled in two steps so no informer can be asked for after it started: every controller
/// first declares what it watches and which fields it reads (`InformerRequests`), then the set is built, each
/// store keeping the union of its readers' fields, and `run()` starts them all.
public struct SharedInformers: Sendable {
    public struct Key: Hashable, Sendable, CustomStringConvertible {
        public var resource: String
        public var namespace: String?
        public var labelSelector: String?
        public init(resource: String, namespace: String?, labelSelector: String?) {
            self.resource = resource
            self.namespace = namespace
            self.labelSelector = labelSelector
        }
        public var description: String {
            resource + (namespace.map { " in \($0)" } ?? "") + (labelSelector.map { " where \($0)" } ?? "")
        }
    }

    public let informers: [Key: Informer]
    let options: Reflector.Options
    let clock: any RuntimeClock
    let logger: Logger

    public subscript(key: Key) -> Informer? { informers[key] }
    public var count: Int { informers.count }
    /// Every informer's store: what a controller on this set may read (see `Controller.reads`).
    public var stores: [Store] { informers.values.map(\.store) }

    /// True once every informer has its first complete list (readiness).
    public func hasSynced() async -> Bool {
        for informer in informers.values where !(await informer.store.hasSynced) { return false }
        return true
    }

    /// Runs every informer until cancelled.
    public func run() async {
        let (options, clock, logger) = (self.options, self.clock, self.logger)
        await withTaskGroup(of: Void.self) { group in
            for informer in informers.values {
                group.addTask { await informer.run(options: options, clock: clock, logger: logger) }
            }
        }
    }
}

/// The declarations `SharedInformers` is built from.
public struct InformerRequests: Sendable {
    private var sources: [SharedInformers.Key: any ListerWatcher] = [:]
    private var masks: [SharedInformers.Key: FieldMask] = [:]
    /// Per store, the readers' rules of which objects may be kept packed (all must agree; none declared: none).
    private var packings: [SharedInformers.Key: [Store.Packing]] = [:]
    private var order: [SharedInformers.Key] = []

    public init() {}

    /// Declares interest in `source`'s resource, namespace and selector; `fields`: what this reader reads (nil:
    /// the whole object minus managedFields). Returns the key to find the informer by once built.
    /// `packing`: which objects this reader reads rarely enough that the store may keep them packed (settled
    /// objects: finished pods, finished jobs, records); an object is packed only when every reader that said
    /// something agrees.
    @discardableResult
    public mutating func request(_ source: ClientListerWatcher, fields: FieldMask? = nil, packing: Store.Packing? = nil) -> SharedInformers.Key {
        request(source.informerKey, source: source, fields: fields, packing: packing)
    }

    @discardableResult
    public mutating func request(_ key: SharedInformers.Key, source: any ListerWatcher, fields: FieldMask? = nil,
                                 packing: Store.Packing? = nil) -> SharedInformers.Key {
        if let packing { packings[key, default: []].append(packing) }
        let mask = fields ?? .all
        if let known = masks[key] {
            masks[key] = known.union(mask)
        } else {
            masks[key] = mask
            sources[key] = source
            order.append(key)
        }
        return key
    }

    /// What the store of `key` will keep.
    public func fields(_ key: SharedInformers.Key) -> FieldMask? { masks[key] }

    public func build(options: Reflector.Options = .init(), clock: any RuntimeClock = SystemClock(),
                      logger: Logger = Logger(label: "gantry.informers")) -> SharedInformers {
        var informers: [SharedInformers.Key: Informer] = [:]
        for key in order {
            guard let source = sources[key], let mask = masks[key] else { continue }
            let rules = packings[key] ?? []
            let packing: Store.Packing? = rules.isEmpty ? nil : { @Sendable object in rules.allSatisfy { $0(object) } }
            informers[key] = Informer(source: source, store: Store(keeping: mask, packing: packing))
        }
        return SharedInformers(informers: informers, options: options, clock: clock, logger: logger)
    }

}

public enum InformerError: Error, CustomStringConvertible {
    /// A controller asked for an informer nobody declared before the set was built.
    case undeclared(String)
    public var description: String {
        switch self {
        case .undeclared(let key): return "no informer of \(key) was declared before the informers were built"
        }
    }
}

extension ClientListerWatcher {
    /// The informer key of this source.
    public var informerKey: SharedInformers.Key {
        SharedInformers.Key(resource: type.description, namespace: type.namespaced ? namespace : nil, labelSelector: labelSelector)
    }
}

extension Store {
    /// The projection that keeps what `mask` names (and never managedFields).
    public static func projection(keeping mask: FieldMask) -> Projection {
        if mask == .all { return Store.dropManagedFields }
        return { object in Store.dropManagedFields(mask.project(object)) }
    }
}
