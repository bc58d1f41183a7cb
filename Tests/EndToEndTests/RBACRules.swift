import EmbeddedCluster
import KubeCore
import KubeYAML

/// What one API request asks of RBAC, as kube-apiserver's request-info resolver derives it from the URL and
/// method: API group, resource (with `/subresource`), namespace, and verb
/// (https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb).
struct APIAccess: Hashable, CustomStringConvertible {
    var group: String
    var resource: String
    var namespace: String?
    var verb: String

    var description: String { "\(verb) \(group.isEmpty ? "core" : group)/\(resource)\(namespace.map { " in \($0)" } ?? "")" }

    init(group: String, resource: String, namespace: String?, verb: String) {
        self.group = group
        self.resource = resource
        self.namespace = namespace
        self.verb = verb
    }

    /// What the server's authorizer was asked (for the request itself, or by admission on its behalf).
    init(_ check: AuthorizationCheck) {
        self.init(group: check.group, resource: check.subresource.isEmpty ? check.resource : "\(check.resource)/\(check.subresource)",
                  namespace: check.namespace.isEmpty ? nil : check.namespace, verb: check.verb)
    }

    /// nil for a non-resource URL (`/version`, discovery, OpenAPI).
    init?(_ request: RequestRecord) {
        var parts = request.path.split(separator: "/").map(String.init)
        if parts.first == "api", parts.count >= 3 {
            group = ""
            parts.removeFirst(2)  // api, v1
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            parts.removeFirst(3)  // apis, group, version
        } else {
            return nil
        }
        var watchPrefix = false
        if parts.first == "watch" { watchPrefix = true; parts.removeFirst() }  // the deprecated /watch/ form
        if parts.first == "namespaces", parts.count >= 3 {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let plural = parts.first else { return nil }
        let name = parts.count > 1 ? parts[1] : nil
        resource = parts.count > 2 ? "\(plural)/\(parts[2])" : plural
        let watching = watchPrefix || request.query.split(separator: "&").contains { $0 == "watch=true" || $0 == "watch=1" }
        switch request.method {
        case "GET", "HEAD": verb = watching ? "watch" : (name == nil ? "list" : "get")
        case "POST": verb = "create"
        case "PUT": verb = "update"
        case "PATCH": verb = "patch"
        case "DELETE": verb = name == nil ? "deletecollection" : "delete"
        default: verb = request.method.lowercased()
        }
    }
}

/// The rules deploy/rbac.yaml grants the operator's ServiceAccount: ClusterRoles bound by ClusterRoleBindings
/// apply everywhere, Roles bound by RoleBindings only in their namespace.
struct RBACRules {
    struct Rule: Hashable {
        var groups: [String]
        var resources: [String]
        var verbs: [String]
        /// nil: cluster-wide (a ClusterRole); else the Role's namespace.
        var namespace: String?
    }

    /// One (group, resource, verb) a rule names: the unit "was it used" is checked in.
    struct Grant: Hashable, Comparable, CustomStringConvertible {
        var group: String
        var resource: String
        var verb: String
        var description: String { "\(verb) \(group.isEmpty ? "core" : group)/\(resource)" }
        static func < (a: Grant, b: Grant) -> Bool { a.description < b.description }
    }

    let rules: [Rule]

    init(yaml: String, serviceAccount: String, namespace: String) throws {
        let documents = try YAML.parseDocuments(yaml)
        func bound(_ binding: JSONValue) -> Bool {
            (binding["subjects"]?.arrayValue ?? []).contains {
                $0["kind"] == "ServiceAccount" && $0["name"]?.stringValue == serviceAccount && $0["namespace"]?.stringValue == namespace
            }
        }
        var boundRoles = Set<String>()  // "ClusterRole/name" or "Role/namespace/name"
        for doc in documents where doc["kind"] == "ClusterRoleBinding" || doc["kind"] == "RoleBinding" {
            guard bound(doc), let kind = doc[path: "roleRef", "kind"]?.stringValue, let name = doc[path: "roleRef", "name"]?.stringValue else { continue }
            boundRoles.insert(kind == "ClusterRole" && doc["kind"] == "ClusterRoleBinding" ? "ClusterRole/\(name)" : "\(kind)/\(doc.namespace ?? "")/\(name)")
        }
        var rules: [Rule] = []
        for doc in documents where doc["kind"] == "ClusterRole" || doc["kind"] == "Role" {
            let isCluster = doc["kind"] == "ClusterRole"
            let key = isCluster ? "ClusterRole/\(doc.name ?? "")" : "Role/\(doc.namespace ?? "")/\(doc.name ?? "")"
            guard boundRoles.contains(key) else { continue }
            for rule in doc["rules"]?.arrayValue ?? [] {
                let strings = { (field: String) in (rule[field]?.arrayValue ?? []).compactMap(\.stringValue) }
                rules.append(Rule(groups: strings("apiGroups"), resources: strings("resources"), verbs: strings("verbs"),
                                  namespace: isCluster ? nil : doc.namespace))
            }
        }
        self.rules = rules
    }

    /// The rules that allow `access` (a Role's rules only for namespaced requests in its namespace).
    func granting(_ access: APIAccess) -> [Rule] {
        grantingIndices(access).map { rules[$0] }
    }

    /// The positions in `rules` of the rules that allow `access`.
    func grantingIndices(_ access: APIAccess) -> [Int] {
        rules.indices.filter { i in
            let rule = rules[i]
            if let ns = rule.namespace, ns != access.namespace { return false }
            return (rule.groups.contains(access.group) || rule.groups.contains("*"))
                && (rule.resources.contains(access.resource) || rule.resources.contains("*"))
                && (rule.verbs.contains(access.verb) || rule.verbs.contains("*"))
        }
    }

    /// Each (group, resource, verb) of each rule that no access needs it alone for: one that some access matches
    /// and no other rule allows would make that access fail if it were removed. What this answers can go
    /// (unused) or is granted twice (used, but never only by this rule).
    func notSolelyNeeded(by accesses: Set<APIAccess>) -> [String] {
        var missing: [String] = []
        for (i, rule) in rules.enumerated() {
            for group in rule.groups { for resource in rule.resources { for verb in rule.verbs {
                let grant = Grant(group: group, resource: resource, verb: verb)
                let needed = accesses.contains { a in
                    Grant(group: a.group, resource: a.resource, verb: a.verb) == grant && grantingIndices(a) == [i]
                }
                if !needed { missing.append("\(grant) (rule \(i + 1))") }
            } } }
        }
        return missing
    }

    /// Every (group, resource, verb) the rules name.
    var grants: Set<Grant> {
        var all = Set<Grant>()
        for rule in rules {
            for group in rule.groups { for resource in rule.resources { for verb in rule.verbs {
                all.insert(Grant(group: group, resource: resource, verb: verb))
            } } }
        }
        return all
    }
}

extension RBACRules {
    /// deploy/rbac.yaml made for a second identity and without one grant, as a kubectl `List`: every object
    /// named `gantry-controller` or placed in `gantry-system` renamed (`gantry-controller-<suffix>`, namespace
    /// `namespace`), and `grant`'s verb dropped from the one rule naming its group and resource (the rule split
    /// if it names other resources too, removed if no verb is left). Throws unless exactly one rule named it.
    static func ablated(_ yaml: String, without grant: Grant, suffix: String, namespace: String) throws -> String {
        let name = "gantry-controller-\(suffix)"
        var items: [JSONValue] = []
        var removed = 0
        for var doc in try YAML.parseDocuments(yaml) {
            if doc.name == "gantry-controller" { doc.name = name }
            if doc.namespace == "gantry-system" { doc.namespace = namespace }
            if doc[path: "roleRef", "name"] == "gantry-controller" { doc[path: "roleRef", "name"] = .string(name) }
            if let subjects = doc["subjects"]?.arrayValue {
                doc["subjects"] = .array(subjects.map { s in
                    var s = s
                    if s["name"] == "gantry-controller" { s["name"] = .string(name) }
                    if s["namespace"] == "gantry-system" { s["namespace"] = .string(namespace) }
                    return s
                })
            }
            if let rules = doc["rules"]?.arrayValue {
                var kept: [JSONValue] = []
                for rule in rules {
                    let strings = { (field: String) in (rule[field]?.arrayValue ?? []).compactMap(\.stringValue) }
                    guard strings("apiGroups") == [grant.group], strings("resources").contains(grant.resource), strings("verbs").contains(grant.verb) else {
                        kept.append(rule)
                        continue
                    }
                    removed += 1
                    let others = strings("resources").filter { $0 != grant.resource }
                    if !others.isEmpty {
                        var rest = rule
                        rest["resources"] = .array(others.map { .string($0) })
                        kept.append(rest)
                    }
                    let verbs = strings("verbs").filter { $0 != grant.verb }
                    if !verbs.isEmpty {
                        var narrowed = rule
                        narrowed["resources"] = [.string(grant.resource)]
                        narrowed["verbs"] = .array(verbs.map { .string($0) })
                        kept.append(narrowed)
                    }
                }
                doc["rules"] = .array(kept)
            }
            items.append(doc)
        }
        guard removed == 1 else { throw AblationError(description: "\(grant) is named by \(removed) rules of deploy/rbac.yaml, not one") }
        let list: JSONValue = ["apiVersion": "v1", "kind": "List", "items": .array(items)]
        return list.serialized()
    }

    struct AblationError: Error, CustomStringConvertible { var description: String }
}
