import Synchronization

/// One decision of the authorizer: the request's own, or one an admission plugin asked for on its behalf
/// (OwnerReferencesAdmission asks about the owner's `finalizers` and the object's `delete`).
public struct AuthorizationCheck: Sendable, Hashable, CustomStringConvertible {
    public var verb: String
    public var group: String
    /// The resource's plural, without its subresource.
    public var resource: String
    public var subresource: String
    public var namespace: String
    public var name: String
    public var allowed: Bool

    public var description: String {
        let r = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
        return "\(verb) \(group.isEmpty ? "core" : group)/\(r)\(namespace.isEmpty ? "" : " in \(namespace)") → \(allowed ? "allowed" : "denied")"
    }
}

/// The authorizer's decisions made while one request is served, in order. A reference shared by every copy of
/// the request's `APIRequest`, so what admission asks deep in a write reaches the request log with the answer,
/// also when the write is refused. Upstream's audit log keeps only the request's own decision (the
/// `authorization.k8s.io/decision` annotation); the extra ones here let a test see which grant an admission
/// check used (Tests/EndToEndTests/RBACTests.swift).
final class AuthorizationTrail: Sendable {
    private let checks = Mutex<[AuthorizationCheck]>([])

    func record(_ a: AccessAttributes, allowed: Bool) {
        guard a.isResource else { return }
        let check = AuthorizationCheck(verb: a.verb, group: a.group, resource: a.resource, subresource: a.subresource,
                                       namespace: a.namespace, name: a.name, allowed: allowed)
        checks.withLock { $0.append(check) }
    }

    var all: [AuthorizationCheck] { checks.withLock { $0 } }
}
