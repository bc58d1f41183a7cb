import Foundation
import KubeCore

/// One change committed to the store, in revision order.
public struct StoreEvent: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public var kind: Kind
    /// Storage key of the resource: `pods`, `daemonsets.apps`, `trainingjobs.gantry.dev`.
    public var resource: String
    /// The object after the change (for `deleted`: its last state, with the deletion revision).
    public var object: JSONValue
    /// The object before the change (nil for `added`): lets watchers with selectors see objects leave their set.
    public var oldObject: JSONValue?
    public var revision: Int64
}

/// How a delete propagates to dependents (metav1.DeletionPropagation).
public enum PropagationPolicy: String, Sendable { case background = "Background", foreground = "Foreground", orphan = "Orphan" }

/// Options of a delete (metav1.DeleteOptions subset).
public struct DeleteOptions: Sendable {
    public var propagationPolicy: PropagationPolicy = .background
    public var preconditionUID: String? = nil
    public var preconditionResourceVersion: String? = nil
    public var gracePeriodSeconds: Int64? = nil
    public var dryRun = false
    public init(propagationPolicy: PropagationPolicy = .background, preconditionUID: String? = nil,
                preconditionResourceVersion: String? = nil, gracePeriodSeconds: Int64? = nil, dryRun: Bool = false) {
        self.propagationPolicy = propagationPolicy
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.gracePeriodSeconds = gracePeriodSeconds
        self.dryRun = dryRun
    }
}

/// Result of a delete: the object is gone, or it stays with a deletionTimestamp until its finalizers are removed.
public enum DeleteOutcome: Sendable {
    case deleted(JSONValue)
    case pending(JSONValue)
    public var object: JSONValue {
        switch self { case .deleted(let o), .pending(let o): return o }
    }
}

/// Which part of an object an update may change (API-SEMANTICS rule 10).
public enum UpdateScope: Sendable {
    /// Main resource: `status` is kept from the stored object for kinds with a status subresource.
    case main
    /// `/status`: only `status` changes (plus nothing else).
    case status
    /// Internal writers (simulation controllers): every field as given.
    case all
}

/// `ns/name` or `name`: the key of an object inside one resource.
func storageKey(namespace: String?, name: String) -> String {
    if let namespace, !namespace.isEmpty { return "\(namespace)/\(name)" }
    return name
}
