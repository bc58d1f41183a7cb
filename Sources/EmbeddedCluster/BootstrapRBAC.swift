import KubeCore

/// The part of kube-apiserver's bootstrap RBAC policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) a
/// cluster's users and charts count on: `cluster-admin` (bound to `system:masters`), and what every
/// authenticated user may do, discovery (`system:discovery`), version and health (`system:public-info-viewer`)
/// and self reviews (`system:basic-user`); the user-facing roles `admin`, `edit` and `view`, which aggregate
/// (RBACAggregation.swift) the rules of roles labelled `rbac.authorization.k8s.io/aggregate-to-<role>`, such as
/// Gantry's own (deploy/rbac-users.yaml). Created at every start when missing, as kube-apiserver reconciles its
/// bootstrap roles; the controllers' `system:controller:*` roles are not included.
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

    static let readVerbs: JSONValue = ["get", "list", "watch"]
    static let writeVerbs: JSONValue = ["create", "delete", "deletecollection", "patch", "update"]

    /// `admin` ⊇ `edit` ⊇ `view` by labels, as upstream's policy chains them, and the `system:aggregate-to-*` roles
    /// that carry their built-in rules. Those rules are upstream's for the core, apps, batch, policy and rbac groups
    /// (networking, autoscaling and the rest are left out: the embedded cluster serves none of them).
    static let aggregatedClusterRoles: [(name: String, labels: [String: String], aggregates: String?, rules: JSONValue)] = [
        ("admin", [:], "admin", []),
        ("edit", ["rbac.authorization.k8s.io/aggregate-to-admin": "true"], "edit", []),
        ("view", ["rbac.authorization.k8s.io/aggregate-to-edit": "true"], "view", []),
        ("system:aggregate-to-admin", ["rbac.authorization.k8s.io/aggregate-to-admin": "true"], nil, [
            ["apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings", "roles"],
             "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]],
            ["apiGroups": ["authorization.k8s.io"], "resources": ["localsubjectaccessreviews"], "verbs": ["create"]],
        ]),
        ("system:aggregate-to-edit", ["rbac.authorization.k8s.io/aggregate-to-edit": "true"], nil, [
            ["apiGroups": [""], "resources": ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], "verbs": writeVerbs],
            ["apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]],
            ["apiGroups": [""], "resources": ["configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
                                              "replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"],
             "verbs": writeVerbs],
            ["apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]],
            ["apiGroups": [""], "resources": ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
             "verbs": readVerbs],
            ["apiGroups": ["apps"], "resources": ["daemonsets", "deployments", "deployments/rollback", "deployments/scale", "replicasets",
                                                  "replicasets/scale", "statefulsets", "statefulsets/scale"], "verbs": writeVerbs],
            ["apiGroups": ["batch"], "resources": ["cronjobs", "jobs"], "verbs": writeVerbs],
            ["apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": writeVerbs],
        ]),
        ("system:aggregate-to-view", ["rbac.authorization.k8s.io/aggregate-to-view": "true"], nil, [
            ["apiGroups": [""], "resources": ["configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
                                              "replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services",
                                              "services/status"], "verbs": readVerbs],
            ["apiGroups": [""], "resources": ["bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
                                              "replicationcontrollers/status", "resourcequotas", "resourcequotas/status"], "verbs": readVerbs],
            ["apiGroups": [""], "resources": ["namespaces"], "verbs": readVerbs],
            ["apiGroups": ["apps"], "resources": ["controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
                                                  "deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
                                                  "statefulsets/scale", "statefulsets/status"], "verbs": readVerbs],
            ["apiGroups": ["batch"], "resources": ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], "verbs": readVerbs],
            ["apiGroups": ["policy"], "resources": ["poddisruptionbudgets", "poddisruptionbudgets/status"], "verbs": readVerbs],
        ]),
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
        for role in Self.aggregatedClusterRoles where get(roles.resourceKey, namespace: nil, name: role.name) == nil {
            var metadata = Self.bootstrapMetadata
            metadata["name"] = .string(role.name)
            for (key, value) in role.labels { metadata[path: "labels", key] = .string(value) }
            var object: JSONValue = ["metadata": metadata, "rules": role.rules]
            if let aggregates = role.aggregates {
                let selector: JSONValue = ["matchLabels": .object(["rbac.authorization.k8s.io/aggregate-to-\(aggregates)": "true"])]
                object["aggregationRule"] = ["clusterRoleSelectors": [selector]]
            }
            _ = try? create(roles, object, scope: .main, dryRun: false)
        }
    }
}
