import Foundation
import KubeCore

/// Garbage collection and namespace cleanup, after
/// https://kubernetes.io/docs/concepts/architecture/garbage-collection/ :
/// - a dependent all of whose owners are gone (by uid) is deleted in the background;
/// - an owner deleted in the foreground keeps `foregroundDeletion` until every dependent with
///   `blockOwnerDeletion: true` is gone (its dependents are deleted first);
/// - orphan deletion removes the owner's reference from its dependents.
/// The real collector works from an informer graph asynchronously; here it runs on the store actor right after the
/// change that made it necessary (as a separate task, so each step is its own revision, as in a real cluster).
extension ObjectStore {
    func scheduleGC() {
        guard !gcScheduled else { return }
        gcScheduled = true
        Task { self.runGC() }  // actor-isolated: runs after the current call, as its own step
    }

    func runGC() {
        gcScheduled = false
        var changed = true
        var rounds = 0
        while changed, rounds < 100 {
            changed = false
            rounds += 1
            changed = collectOrphans() || changed
            changed = finishForegroundDeletions() || changed
            changed = cleanNamespaces() || changed
            changed = releaseStorageProtection() || changed
        }
    }

    func infoFor(_ resource: String) -> ResourceInfo? { anyInfo(forStorageKey: resource) }

    /// Deletes dependents whose owners are all gone: only objects the graph marked (created or re-owned since
    /// the last collection, or dependents of an owner deleted since), as the real collector reacts to its
    /// informers' changes instead of scanning.
    func collectOrphans() -> Bool {
        var changed = false
        for ref in gc.takeOrphanChecks() {
            guard let obj = objects[ref.resource]?[ref.key], let info = infoFor(ref.resource) else { continue }
            let refs = obj.ownerReferences
            guard !refs.isEmpty, obj.deletionTimestamp == nil else { continue }
            if refs.allSatisfy({ uidIndex[$0.uid] == nil }) {
                // Owners deleted in the foreground delete their dependents in the foreground too; a gone owner: background.
                _ = try? delete(info, namespace: obj.namespace, name: obj.name ?? "", options: DeleteOptions())
                changed = true
            }
        }
        return changed
    }

    /// Owners with `foregroundDeletion`: delete their dependents, then drop the finalizer once none blocks.
    func finishForegroundDeletions() -> Bool {
        var changed = false
        for ref in gc.foregroundOwners {
            guard let owner = objects[ref.resource]?[ref.key], let info = infoFor(ref.resource),
                  owner.deletionTimestamp != nil, owner.finalizers.contains("foregroundDeletion"), let uid = owner.uid else { continue }
            var blocking = false
            for (depResource, dep) in dependents(of: uid) {
                guard let depInfo = infoFor(depResource) else { continue }
                if dep.ownerReferences.contains(where: { $0.uid == uid && $0.blockOwnerDeletion == true }) { blocking = true }
                if dep.deletionTimestamp == nil {
                    _ = try? delete(depInfo, namespace: dep.namespace, name: dep.name ?? "",
                                    options: DeleteOptions(propagationPolicy: .foreground))
                    changed = true
                }
            }
            if !blocking {
                var o = owner
                o.finalizers = owner.finalizers.filter { $0 != "foregroundDeletion" }
                _ = try? update(info, o, scope: .all, dryRun: false)
                changed = true
            }
        }
        return changed
    }

    /// Terminating namespaces: delete their content, then the namespace once empty.
    func cleanNamespaces() -> Bool {
        var changed = false
        for (_, ns) in objects["namespaces"] ?? [:] where ns.deletionTimestamp != nil {
            guard let name = ns.name, let nsInfo = infoFor("namespaces") else { continue }
            var remaining = 0
            for (resource, objs) in objects where resource != "namespaces" {
                guard let info = infoFor(resource), info.namespaced else { continue }
                for (_, obj) in objs where obj.namespace == name {
                    remaining += 1
                    if obj.deletionTimestamp == nil {
                        _ = try? delete(info, namespace: name, name: obj.name ?? "", options: DeleteOptions())
                        changed = true
                    }
                }
            }
            if remaining == 0 {
                let current = ns
                // A namespace the journal cannot record stays; the next collection tries again.
                if ns.finalizers.isEmpty, let gone = try? commit(.deleted, resource: "namespaces", object: current, old: current) {
                    afterDelete(nsInfo, gone)
                    changed = true
                }
            }
        }
        return changed
    }

    func dependents(of uid: String) -> [(String, JSONValue)] {
        gc.dependents(of: uid).sorted { ($0.resource, $0.key) < ($1.resource, $1.key) }.compactMap { ref in
            objects[ref.resource]?[ref.key].map { (ref.resource, $0) }
        }
    }

    func hasDependents(_ uid: String?) -> Bool {
        guard let uid else { return false }
        return !dependents(of: uid).isEmpty
    }

    func orphanDependents(of uid: String) {
        for (resource, dep) in dependents(of: uid) {
            guard let info = infoFor(resource) else { continue }
            var d = dep
            d.ownerReferences = dep.ownerReferences.filter { $0.uid != uid }
            _ = try? update(info, d, scope: .all, dryRun: false)
        }
    }
}
