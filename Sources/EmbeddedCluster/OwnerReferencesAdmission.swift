import KubeCore

/// kube-apiserver's OwnerReferencesPermissionEnforcement admission plugin (plugin/pkg/admission/gc,
/// `gcPermissionsEnforcement`). Not among kube-apiserver's default plugins, but on in OpenShift and clusters
/// hardened after the CIS benchmark; here whenever RBAC is enforced, so an operator's RBAC is judged by the
/// stricter cluster. On a create or an
/// update (every write but `pods/status`, which the pod strategy already keeps from touching owners):
/// - an update that changes `metadata.ownerReferences` needs `delete` on the object itself (a create does not:
///   whoever may create it could have left it uncreated), else 403 `cannot set an ownerRef on a resource you
///   can't delete`;
/// - every reference that newly says `blockOwnerDeletion: true` (added, or turned from false/unset, matched by
///   uid) needs `update` on the owner's `finalizers` subresource, named, in the object's namespace when the owner
///   kind is namespaced, else 403 `cannot set blockOwnerDeletion if an ownerReference refers to a resource you
///   can't set finalizers on`. An owner kind the server does not serve is refused (its REST mapping fails).
/// Messages end with `: <reason>, <err>` as upstream formats its authorizer's answer (`, <nil>` when RBAC just
/// found no rule).
struct OwnerReferencesAdmission: Sendable {
    let user: String
    let policy: RBACAuthorizer.Policy
    /// Served resources, to map an owner's apiVersion and kind to its resource (the RESTMapper upstream).
    let served: [ResourceInfo]
    let trail: AuthorizationTrail

    /// nil when the write may go on, else the 403 to answer.
    func check(_ info: ResourceInfo, subresource: String, new: JSONValue, old: JSONValue?) -> APIStatusError? {
        if info.group.isEmpty, info.plural == "pods", subresource == "status" { return nil }
        let newRefs = new[path: "metadata", "ownerReferences"]?.arrayValue ?? []
        let oldRefs = old.map { $0[path: "metadata", "ownerReferences"]?.arrayValue ?? [] }
        guard let oldRefs else {
            if newRefs.isEmpty { return nil }
            return blockingCheck(info, new: new, refs: newRefs)
        }
        if newRefs == oldRefs { return nil }
        let namespace = info.namespaced ? new.namespace ?? "" : ""
        let delete = AccessAttributes(user: user, resource: info.plural, group: info.group, verb: "delete",
                                      subresource: subresource, namespace: namespace, name: new.name ?? "")
        let (allowed, reason) = authorize(delete)
        if !allowed { return forbidden(info, new, "cannot set an ownerRef on a resource you can't delete: \(reason), <nil>") }
        let previouslyBlocking = Set(oldRefs.filter { $0["blockOwnerDeletion"]?.boolValue == true }.compactMap { $0["uid"]?.stringValue })
        return blockingCheck(info, new: new, refs: newRefs.filter { !previouslyBlocking.contains($0["uid"]?.stringValue ?? "") })
    }

    /// `newBlockingOwnerDeletionRefs` already narrowed to `refs`: each one that blocks needs the owner's finalizers.
    private func blockingCheck(_ info: ResourceInfo, new: JSONValue, refs: [JSONValue]) -> APIStatusError? {
        for ref in refs where ref["blockOwnerDeletion"]?.boolValue == true {
            let apiVersion = ref["apiVersion"]?.stringValue ?? ""
            let kind = ref["kind"]?.stringValue ?? ""
            let (group, version) = Self.split(apiVersion)
            // RESTMappings(GroupKind, version): one mapping per resource serving that kind in that version.
            let owners = served.filter { $0.group == group && $0.version == version && $0.kind == kind }
            if owners.isEmpty {
                let gv = group.isEmpty ? version : "\(group)/\(version)"
                return forbidden(info, new, "cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion \(apiVersion) Kind \(kind): no matches for kind \"\(kind)\" in version \"\(gv)\"")
            }
            for owner in owners {
                let finalizers = AccessAttributes(user: user, resource: owner.plural, group: owner.group, verb: "update",
                                                  subresource: "finalizers", namespace: owner.namespaced ? new.namespace ?? "" : "",
                                                  name: ref["name"]?.stringValue ?? "")
                let (allowed, reason) = authorize(finalizers)
                if !allowed {
                    return forbidden(info, new, "cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: \(reason), <nil>")
                }
            }
        }
        return nil
    }

    private func authorize(_ a: AccessAttributes) -> (Bool, String) {
        let decision = RBACAuthorizer.authorize(a, policy)
        trail.record(a, allowed: decision.allowed)
        return (decision.allowed, decision.reason)
    }

    /// `admission.NewForbidden`: the object's name, else its generateName, else "Unknown".
    private func forbidden(_ info: ResourceInfo, _ obj: JSONValue, _ why: String) -> APIStatusError {
        var name = obj.name ?? ""
        if name.isEmpty { name = obj[path: "metadata", "generateName"]?.stringValue ?? "" }
        if name.isEmpty { name = "Unknown" }
        return .forbidden(info.qualifiedName, name, group: info.group, kind: info.plural, why: why)
    }

    static func split(_ apiVersion: String) -> (group: String, version: String) {
        guard let slash = apiVersion.lastIndex(of: "/") else { return ("", apiVersion) }
        return (String(apiVersion[..<slash]), String(apiVersion[apiVersion.index(after: slash)...]))
    }
}

extension APIServer {
    /// The plugin for this request, or nil when it does not apply: RBAC not enforced, or the admin
    /// (`system:masters`, for whom every check would pass).
    func ownerReferencesAdmission(_ req: APIRequest) async -> OwnerReferencesAdmission? {
        guard authorization == .rbac, let user = req.user, user != Authenticator.adminUser else { return nil }
        return OwnerReferencesAdmission(user: user, policy: await store.rbacPolicy(), served: await store.servedResources(),
                                        trail: req.authorizations)
    }

    /// Runs the plugin on a write of `info`. Not on `/status` writes: upstream validates after the status
    /// strategies' PrepareForUpdate, which copy the stored metadata (owner references included) over what was
    /// sent, so such a write never changes them.
    func admitOwnerReferences(_ req: APIRequest, _ info: ResourceInfo, scope: UpdateScope, new: JSONValue, old: JSONValue?) async throws {
        // Nothing to judge without references on either side (most writes): no policy snapshot taken.
        let refs = { (o: JSONValue?) in o?[path: "metadata", "ownerReferences"]?.arrayValue?.isEmpty == false }
        guard scope != .status, refs(new) || refs(old), let plugin = await ownerReferencesAdmission(req) else { return }
        if let refused = plugin.check(info, subresource: "", new: new, old: old) { throw refused }
    }
}
