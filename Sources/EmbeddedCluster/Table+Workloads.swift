import KubeCore

/// Printer columns of Deployments, ReplicaSets and the RBAC kinds, as kube-apiserver's
/// (pkg/printers/internalversion/printers.go: `deploymentColumnDefinitions`, `replicaSetColumnDefinitions`,
/// `roleColumnDefinitions`, `roleBindingsColumnDefinitions`).
extension Table {
    static func workloadColumns(_ info: ResourceInfo) -> [Column]? {
        func n(_ path: String...) -> @Sendable (JSONValue) -> JSONValue { { .int($0[path: path]?.intValue ?? 0) } }
        let wide = [Column(name: "Containers", priority: 1) { o in
                        .string(containers(o).compactMap { $0["name"]?.stringValue }.joined(separator: ","))
                    },
                    Column(name: "Images", priority: 1) { o in
                        .string(containers(o).compactMap { $0["image"]?.stringValue }.joined(separator: ","))
                    },
                    Column(name: "Selector", priority: 1) { o in
                        .string(o[path: "spec", "selector"].flatMap(LabelQuery.init(selector:))?.text ?? "<none>")
                    }]
        switch (info.group, info.kind) {
        case ("apps", "Deployment"):
            return [name, Column(name: "Ready") { o in
                        .string("\(o[path: "status", "readyReplicas"]?.intValue ?? 0)/\(o[path: "spec", "replicas"]?.intValue ?? 0)")
                    },
                    Column(name: "Up-to-date", type: "integer", cell: n("status", "updatedReplicas")),
                    Column(name: "Available", type: "integer", cell: n("status", "availableReplicas")), age] + wide
        case ("apps", "ReplicaSet"):
            return [name, Column(name: "Desired", type: "integer", cell: n("spec", "replicas")),
                    Column(name: "Current", type: "integer", cell: n("status", "replicas")),
                    Column(name: "Ready", type: "integer", cell: n("status", "readyReplicas")), age] + wide
        case ("rbac.authorization.k8s.io", "Role"), ("rbac.authorization.k8s.io", "ClusterRole"):
            return [name, Column(name: "Created At", type: "date") { .string($0.creationTimestamp ?? "") }]
        case ("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding"):
            func subjects(_ kind: String) -> @Sendable (JSONValue) -> JSONValue {
                { o in
                    // rbac.SubjectsStrings: service accounts as namespace/name.
                    .string((o["subjects"]?.arrayValue ?? []).filter { $0["kind"]?.stringValue == kind }.map { s in
                        let name = s["name"]?.stringValue ?? ""
                        guard kind == "ServiceAccount" else { return name }
                        return "\(s["namespace"]?.stringValue ?? "")/\(name)"
                    }.joined(separator: ", "))
                }
            }
            return [name, Column(name: "Role") { o in
                        .string("\(o[path: "roleRef", "kind"]?.stringValue ?? "")/\(o[path: "roleRef", "name"]?.stringValue ?? "")")
                    }, age,
                    Column(name: "Users", priority: 1, cell: subjects("User")),
                    Column(name: "Groups", priority: 1, cell: subjects("Group")),
                    Column(name: "ServiceAccounts", priority: 1, cell: subjects("ServiceAccount"))]
        default:
            return nil
        }
    }

    private static func containers(_ o: JSONValue) -> [JSONValue] {
        o[path: "spec", "template", "spec", "containers"]?.arrayValue ?? []
    }
}
