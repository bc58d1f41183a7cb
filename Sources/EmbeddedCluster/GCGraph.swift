import KubeCore

/// The garbage collector's view of ownership, kept up to date on every commit (as kube-controller-manager's
/// collector keeps its graph from informers): which objects depend on which owner uid, which objects need their
/// owners checked at the next collection, and which owners wait in foreground deletion.
struct GCGraph: Sendable {
    struct Ref: Hashable, Sendable {
        var resource: String
        var key: String
    }

    private var dependentsByOwner: [String: Set<Ref>] = [:]
    private var orphanChecks: Set<Ref> = []
    private(set) var foregroundOwners: Set<Ref> = []

    /// An object was stored (created or changed).
    mutating func track(_ ref: Ref, object: JSONValue, old: JSONValue?) {
        let owners = Set(object.ownerReferences.map(\.uid))
        let before = Set((old?.ownerReferences ?? []).map(\.uid))
        for uid in before.subtracting(owners) { dependentsByOwner[uid]?.remove(ref) }
        for uid in owners.subtracting(before) { dependentsByOwner[uid, default: []].insert(ref) }
        if !owners.isEmpty && owners != before { orphanChecks.insert(ref) }
        if object.deletionTimestamp != nil && object.finalizers.contains("foregroundDeletion") {
            foregroundOwners.insert(ref)
        } else {
            foregroundOwners.remove(ref)
        }
    }

    /// An object was removed: its dependents must be checked, and it depends on nobody any more.
    mutating func forget(_ ref: Ref, object: JSONValue) {
        for uid in Set(object.ownerReferences.map(\.uid)) { dependentsByOwner[uid]?.remove(ref) }
        if let uid = object.uid, let deps = dependentsByOwner[uid] { orphanChecks.formUnion(deps) }
        orphanChecks.remove(ref)
        foregroundOwners.remove(ref)
    }

    func dependents(of uid: String) -> Set<Ref> { dependentsByOwner[uid] ?? [] }

    mutating func takeOrphanChecks() -> Set<Ref> {
        defer { orphanChecks = [] }
        return orphanChecks
    }
}
