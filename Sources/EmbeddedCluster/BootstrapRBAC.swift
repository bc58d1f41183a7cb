import KubeCore

/// The part of kube-apiserver's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) a
/// cluster's users and charts count on: `cluster-admin` (bound to `system:masters`), and what every
/// authenticated user may do, discovery (`system:discovery`), version and health (`system:public-info-viewer`)
/// and self reviews (`system:basic-user`). Created at every start when missing, as kube-apiserver reconciles its
/// bootstrap roles; `admin`, `edit`, `view` and the controllers' roles are not included.
extension ObjectStore {
    static let bootstrapMetadata: JSONValue = [
        "labels": ["kubernetes.io/bootstrapping": "rbac-defaults"],
        "annotations": ["rbac.authorization.kubernetes.io/autoupdate": "true"],
    ]

    static let bootstrapClusterRoles: [(name: String, rules: JSONValue, groups: [String])] = [
        ("cluster-admin", [["apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]], ["nonResourceURLs": ["*"], "verbs": ["*"]]],
         ["system:masters"]),
        ("system:discovery", [["nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
                                                   "/readyz", "/version", "/version/"], "verbs": ["get"]]],
         ["system:authenticated"]),
        ("system:public-info-viewer", [["nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"], "verbs": ["get"]]],
         ["system:authenticated", "system:unauthenticated"]),
        ("system:basic-user", [["apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                                "verbs": ["create"]],
                               ["apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"], "verbs": ["create"]]],
         ["system:authenticated"]),
    ]

    func seedBootstrapRBAC() {
        guard let roles = anyInfo(forStorageKey: "clusterroles.rbac.authorization.k8s.io"),
              let bindings = anyInfo(forStorageKey: "clusterrolebindings.rbac.authorization.k8s.io") else { return }
        for role in Self.bootstrapClusterRoles {
            var metadata = Self.bootstrapMetadata
            metadata["name"] = .string(role.name)
            if get(roles.resourceKey, namespace: nil, name: role.name) == nil {
                _ = try? create(roles, ["metadata": metadata, "rules": role.rules], scope: .main, dryRun: false)
            }
            if get(bindings.resourceKey, namespace: nil, name: role.name) == nil {
                let subjects: [JSONValue] = role.groups.map { ["apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": .string($0)] }
                _ = try? create(bindings, ["metadata": metadata, "subjects": .array(subjects),
                                           "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(role.name)]],
                                scope: .main, dryRun: false)
            }
        }
    }
}
