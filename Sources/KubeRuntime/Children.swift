import KubeCore

/// One object a reconcile wants to exist, typed by its model: the model's `ResourceType` says where it goes, so
/// a kind planned by any controller reaches its own endpoint (never a fallback).
public struct Child: Sendable, Hashable {
    public enum Update: Sendable, Hashable {
        /// Created when missing, never changed: immutable objects (a Pod's spec, an experiment record) or ones
        /// whose changes mean a new object.
        case createOnly
        /// The fields Gantry sets are corrected when they drift (someone edited them, or the desired value
        /// changed); fields Gantry does not set are left to others.
        case correct
    }

    public var type: ResourceType
    public var object: JSONValue
    public var update: Update

    public init<Model: KubeResource>(_ model: Model, update: Update = .correct) {
        self.type = Model.resourceType
        self.object = model.json
        self.update = update
    }

    public var name: String { object.name ?? "" }
    public var ref: ChildRef { ChildRef(type: type, namespace: object.namespace, name: name) }
}

/// An existing object by address.
public struct ChildRef: Sendable, Hashable, CustomStringConvertible {
    public var type: ResourceType
    public var namespace: String?
    public var name: String
    /// Deleted only if it still has this uid (a same-named successor is left alone).
    public var uid: String?

    public init(type: ResourceType, namespace: String?, name: String, uid: String? = nil) {
        self.type = type
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }

    public var description: String { "\(type.kind) \(namespace.map { "\($0)/" } ?? "")\(name)" }
}

/// The children part of a reconcile plan: what should exist, what must go, and the kinds whose owned objects
/// not desired any more are deleted.
public struct ChildPlan: Sendable, Hashable {
    public var desired: [Child] = []
    /// Explicit deletions (a gang restarted, a finished job's pods freed): decided by the planner.
    public var delete: [ChildRef] = []
    /// Kinds pruned by ownership: an object of one of these kinds whose controller owner is the reconciled
    /// object and that is not in `desired` is deleted.
    public var prune: Set<ResourceType> = []
    /// Kinds deleted in the foreground: such an object stays (with deletionTimestamp) until its dependents are
    /// gone, so the planner sees them leaving and hears (by the owner's watch) when they are gone.
    public var foreground: Set<ResourceType> = []

    public init(desired: [Child] = [], delete: [ChildRef] = [], prune: Set<ResourceType> = []) {
        self.desired = desired
        self.delete = delete
        self.prune = prune
    }

    public mutating func add<Model: KubeResource>(_ model: Model, update: Child.Update = .correct) {
        desired.append(Child(model, update: update))
    }
}
