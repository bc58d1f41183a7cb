import KubeClient
import KubeCore

/// Where a process's watches come from: the source of a resource type, for the primary kind or for children
/// (children are watched only where the operator labels them).
public typealias SourceFactory = @Sendable (_ type: ResourceType, _ children: Bool) -> ClientListerWatcher

/// What an operator needs to run one controller it did not write itself: its declarations, then the controller.
public struct RegisteredController: Sendable {
    public let controller: Controller
    public let run: @Sendable () async -> Void
    public init(controller: Controller, run: @escaping @Sendable () async -> Void) {
        self.controller = controller
        self.run = run
    }
}

/// A kind run by the generic `KindReconciler`: its planner is all a new kind writes. Registered with an operator
/// before its informers are built, so its watches share them.
public struct KindRegistration: Sendable {
    public struct Context: Sendable {
        public var client: KubeClient
        public var informers: SharedInformers
        public var options: Controller.Options
        public var clock: any RuntimeClock
        /// The event recorder of a controller with this name.
        public var events: @Sendable (_ controller: String) -> EventRecorder
        /// Where events a plan marks `notify` are sent (the operator's webhook notifier).
        public var notify: @Sendable (_ object: JSONValue, _ event: PlannedEvent) async -> Void
        public init(client: KubeClient, informers: SharedInformers, options: Controller.Options, clock: any RuntimeClock,
                    events: @escaping @Sendable (String) -> EventRecorder,
                    notify: @escaping @Sendable (JSONValue, PlannedEvent) async -> Void = { _, _ in }) {
            self.notify = notify
            self.client = client
            self.informers = informers
            self.options = options
            self.clock = clock
            self.events = events
        }
    }

    public let name: String
    let declareWatches: @Sendable (inout InformerRequests, SourceFactory) -> [SharedInformers.Key]
    let build: @Sendable (Context, [SharedInformers.Key]) throws -> RegisteredController

    public init<Planner: KindPlanner>(_ planner: Planner, name: String? = nil) {
        self.init(childTypes: planner.childTypes, name: name) { _ in planner }
    }

    /// A planner made once the informers exist (it may read caches through `context.informers`); `childTypes`
    /// are declared before.
    public init<Planner: KindPlanner>(childTypes declared: [ResourceType: FieldMask?], name: String? = nil,
                                      planner make: @escaping @Sendable (Context) throws -> Planner) {
        self.init(childTypes: declared, reads: [:], name: name) { context, _ in try make(context) }
    }

    /// As above, with caches the planner reads in `inputs(for:)` beyond its children: `reads` are declared with
    /// the rest (whole resources, sharing the informer another controller declared; no handlers, so their events
    /// enqueue nothing), and `make` gets the store of every child and read type. A read type that is also a child
    /// type is read from the child informer (Gantry-labelled objects only, with the fields `childTypes` declares).
    /// `grandchildren`: child types whose objects another child type makes (`[.pods: .daemonSets]`: the pods of
    /// its DaemonSets); their events enqueue the owner too.
    public init<Planner: KindPlanner>(childTypes declared: [ResourceType: FieldMask?], reads: [ResourceType: FieldMask?], name: String? = nil,
                                      grandchildren: [ResourceType: ResourceType] = [:],
                                      planner make: @escaping @Sendable (Context, _ stores: [ResourceType: Store]) throws -> Planner) {
        let kind = Planner.Kind.resourceType
        let name = name ?? kind.kind.lowercased()
        self.name = name
        let childTypes = declared.keys.sorted { $0.description < $1.description }
        let readTypes = reads.keys.filter { declared[$0] == nil }.sorted { $0.description < $1.description }
        declareWatches = { requests, source in
            [requests.request(source(kind, false))] + childTypes.map { type in
                requests.request(source(type, true), fields: declared[type] ?? nil)
            } + readTypes.map { type in
                requests.request(source(type, false), fields: reads[type] ?? nil)
            }
        }
        build = { context, keys in
            guard let primary = context.informers[keys[0]] else { throw InformerError.undeclared(keys[0].description) }
            var watches = [WatchSpec.primary(primary)]
            var stores: [ResourceType: Store] = [:]
            for (type, key) in zip(childTypes, keys.dropFirst()) {
                guard let informer = context.informers[key] else { throw InformerError.undeclared(key.description) }
                stores[type] = informer.store
            }
            for (type, key) in zip(childTypes, keys.dropFirst()) {
                guard let informer = context.informers[key] else { throw InformerError.undeclared(key.description) }
                if let parent = grandchildren[type], let parents = stores[parent] {
                    watches.append(.owned(informer, ownerKind: kind.kind, ownerGroup: kind.group, through: parents, parentKind: parent.kind))
                } else {
                    watches.append(.owned(informer, ownerKind: kind.kind, ownerGroup: kind.group))
                }
            }
            var readStores = stores
            for (type, key) in zip(readTypes, keys.dropFirst(1 + childTypes.count)) {
                guard let informer = context.informers[key] else { throw InformerError.undeclared(key.description) }
                readStores[type] = informer.store
            }
            let planner = try make(context, readStores)
            // Its planner may read any cache of the set (the platform's settings through `context.informers`).
            let controller = Controller(name: name, watches: watches, reads: context.informers.stores, sharedInformers: true,
                                        options: context.options, clock: context.clock)
            let reconciler = KindReconciler(planner: planner, client: context.client, primary: primary.store, children: stores,
                                            events: context.events("\(kind.group)/\(name)-controller"), clock: context.clock,
                                            notify: context.notify)
            return RegisteredController(controller: controller) { await controller.run(reconciler) }
        }
    }

    public func declare(into requests: inout InformerRequests, source: SourceFactory) -> [SharedInformers.Key] {
        declareWatches(&requests, source)
    }

    public func controller(_ context: Context, keys: [SharedInformers.Key]) throws -> RegisteredController {
        try build(context, keys)
    }
}
