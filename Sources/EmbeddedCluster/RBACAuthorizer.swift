import KubeCore

/// What one request asks of the authorizer (k8s.io/apiserver `authorizer.Attributes`), derived from the URL and
/// method as kube-apiserver's request-info resolver does
/// (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb).
struct AccessAttributes: Sendable, Hashable {
    var user: String
    var groups: [String]
    var verb: String
    var isResource: Bool
    var group = ""
    var resource = ""
    var subresource = ""
    var namespace = ""
    var name = ""
    /// For non-resource requests (`/version`, `/apis`, `/openapi/v3`).
    var path = ""

    /// The groups an authenticated user belongs to: a ServiceAccount's
    /// (`system:serviceaccounts`, `system:serviceaccounts:<namespace>`), and `system:authenticated` for all.
    static func groups(of user: String) -> [String] {
        let prefix = "system:serviceaccount:"
        guard user.hasPrefix(prefix), let namespace = user.dropFirst(prefix.count).split(separator: ":").first else {
            return ["system:authenticated"]
        }
        return ["system:serviceaccounts", "system:serviceaccounts:\(namespace)", "system:authenticated"]
    }

    init(user: String, method: String, path: String, route: Route, watch: Bool) {
        self.user = user
        groups = Self.groups(of: user)
        guard case .resource(let r) = route else {
            isResource = false
            self.path = path
            verb = ["GET": "get", "HEAD": "head", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete"][method] ?? method.lowercased()
            return
        }
        isResource = true
        group = r.group
        resource = r.plural
        subresource = r.subresource ?? ""
        namespace = r.namespace ?? ""
        name = r.name ?? ""
        switch method {
        case "GET", "HEAD": verb = watch || r.legacyWatch ? "watch" : r.name == nil ? "list" : "get"
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = r.name == nil ? "deletecollection" : "delete"
        default: verb = method.lowercased()
        }
    }

    init(user: String, resource: String, group: String, verb: String, subresource: String = "", namespace: String = "", name: String = "") {
        self.user = user
        groups = Self.groups(of: user)
        self.verb = verb
        isResource = true
        self.group = group
        self.resource = resource
        self.subresource = subresource
        self.namespace = namespace
        self.name = name
    }

    init(user: String, path: String, verb: String) {
        self.user = user
        groups = Self.groups(of: user)
        self.verb = verb
        isResource = false
        self.path = path
    }
}

/// RBAC as kube-apiserver's authorizer decides it (plugin/pkg/auth/authorizer/rbac): allowed when a rule of a
/// role bound to the user (by name, group or ServiceAccount) matches; ClusterRoleBindings grant everywhere,
/// RoleBindings only in their namespace (whether they refer to a Role or a ClusterRole). A binding whose role is
/// missing is reported in the reason, as upstream's `RBAC: clusterrole.rbac.authorization.k8s.io "x" not found`.
///
/// What every authenticated user may do comes from the stored bootstrap roles (BootstrapRBAC.swift).
/// ClusterRoles arrive with their aggregation resolved (RBACAggregation). Simplified: no escalation checks on
/// writes of roles and bindings.
enum RBACAuthorizer {
    struct Policy: Sendable {
        var roles: [JSONValue] = []
        var clusterRoles: [JSONValue] = []
        var roleBindings: [JSONValue] = []
        var clusterRoleBindings: [JSONValue] = []
    }

    /// (allowed, reason): the reason names missing roles, empty otherwise.
    static func authorize(_ a: AccessAttributes, _ policy: Policy) -> (allowed: Bool, reason: String) {
        var missing: [String] = []
        func rules(kind: String, name: String, namespace: String?) -> [JSONValue]? {
            let pool = kind == "ClusterRole" ? policy.clusterRoles : policy.roles
            guard let role = pool.first(where: { $0.name == name && (kind == "ClusterRole" || $0.namespace == namespace) }) else {
                missing.append(kind == "ClusterRole" ? "clusterrole.rbac.authorization.k8s.io \"\(name)\" not found"
                                                     : "role.rbac.authorization.k8s.io \"\(name)\" not found")
                return nil
            }
            return role["rules"]?.arrayValue ?? []
        }
        for binding in policy.clusterRoleBindings where boundTo(binding, a) {
            let name = binding[path: "roleRef", "name"]?.stringValue ?? ""
            if let r = rules(kind: "ClusterRole", name: name, namespace: nil), r.contains(where: { ruleAllows($0, a) }) { return (true, "") }
        }
        if a.isResource, !a.namespace.isEmpty {
            for binding in policy.roleBindings where binding.namespace == a.namespace && boundTo(binding, a) {
                let kind = binding[path: "roleRef", "kind"]?.stringValue ?? "Role"
                let name = binding[path: "roleRef", "name"]?.stringValue ?? ""
                if let r = rules(kind: kind, name: name, namespace: a.namespace), r.contains(where: { ruleAllows($0, a) }) { return (true, "") }
            }
        }
        return (false, missing.isEmpty ? "" : "RBAC: " + (missing.count == 1 ? missing[0] : "[" + missing.joined(separator: ", ") + "]"))
    }

    /// `appliesTo` of rbac/subject_locator: a User by name, a Group by membership, a ServiceAccount by namespace and name.
    static func boundTo(_ binding: JSONValue, _ a: AccessAttributes) -> Bool {
        (binding["subjects"]?.arrayValue ?? []).contains { s in
            let name = s["name"]?.stringValue ?? ""
            switch s["kind"]?.stringValue {
            case "User": return name == a.user
            case "Group": return a.groups.contains(name)
            case "ServiceAccount":
                let namespace = s["namespace"]?.stringValue ?? binding.namespace ?? ""
                return a.user == "system:serviceaccount:\(namespace):\(name)"
            default: return false
            }
        }
    }

    /// `RuleAllows` of rbac/v1 evaluation: verb, API group, resource (`*`, `resource/subresource`, `*/subresource`)
    /// and resourceNames (which never match a request without a name, such as create or list); non-resource URLs
    /// with a trailing `*` as a prefix.
    static func ruleAllows(_ rule: JSONValue, _ a: AccessAttributes) -> Bool {
        func strings(_ key: String) -> [String] { (rule[key]?.arrayValue ?? []).compactMap(\.stringValue) }
        let verbs = strings("verbs")
        guard verbs.contains("*") || verbs.contains(a.verb) else { return false }
        guard a.isResource else { return strings("nonResourceURLs").contains { pathMatches($0, a.path) } }
        let groups = strings("apiGroups")
        guard groups.contains("*") || groups.contains(a.group) else { return false }
        let resources = strings("resources")
        let combined = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
        let resourceOK = resources.contains { r in
            r == "*" || r == combined || (!a.subresource.isEmpty && r == "*/\(a.subresource)")
        }
        guard resourceOK else { return false }
        let names = strings("resourceNames")
        return names.isEmpty || names.contains(a.name)
    }

    static func pathMatches(_ pattern: String, _ path: String) -> Bool {
        if pattern == "*" || pattern == path { return true }
        return pattern.hasSuffix("*") && path.hasPrefix(String(pattern.dropLast()))
    }

    /// The message of `responsewriters.forbiddenMessage` inside `errors.NewForbidden`.
    static func forbidden(_ a: AccessAttributes, reason: String) -> APIStatusError {
        var why: String
        if !a.isResource {
            why = "User \"\(a.user)\" cannot \(a.verb) path \"\(a.path)\""
            if !reason.isEmpty { why += ": \(reason)" }
            return APIStatusError(code: 403, reason: "Forbidden", message: "forbidden: \(why)")
        }
        let resource = a.subresource.isEmpty ? a.resource : "\(a.resource)/\(a.subresource)"
        let scope = a.namespace.isEmpty ? "at the cluster scope" : "in the namespace \"\(a.namespace)\""
        why = "User \"\(a.user)\" cannot \(a.verb) resource \"\(resource)\" in API group \"\(a.group)\" \(scope)"
        if !reason.isEmpty { why += ": \(reason)" }
        let qualified = a.group.isEmpty ? a.resource : "\(a.resource).\(a.group)"
        return .forbidden(qualified, a.name, group: a.group, kind: a.resource, why: why)
    }
}
