import KubeCore

/// ClusterRole aggregation (kube-controller-manager's clusterrole-aggregation controller): a ClusterRole with an
/// `aggregationRule` holds the rules of every other ClusterRole one of its `clusterRoleSelectors` matches. This is
/// how `admin`, `edit` and `view` grow the rules of add-ons' roles labelled `rbac.authorization.k8s.io/aggregate-to-*`.
/// Chains resolve as upstream's do: `edit` is labelled aggregate-to-admin, so admin holds edit's aggregated rules.
///
/// Simplified: upstream writes the union into the aggregated role's `rules` (so `kubectl get clusterrole edit -o
/// yaml` lists them); here it is computed whenever a request is authorized, and the stored `rules` stay as written.
enum RBACAggregation {
    /// The ClusterRoles with every aggregated role's rules replaced by the union of what it selects.
    static func resolve(_ clusterRoles: [JSONValue]) -> [JSONValue] {
        var resolved: [String: [JSONValue]] = [:]
        func rules(of role: JSONValue, visiting: Set<String>) -> [JSONValue] {
            let name = role.name ?? ""
            if let done = resolved[name] { return done }
            guard let selectors = role[path: "aggregationRule", "clusterRoleSelectors"]?.arrayValue else {
                return role["rules"]?.arrayValue ?? []
            }
            let queries = selectors.compactMap { LabelQuery(selector: $0) }
            var union: [JSONValue] = []
            for other in clusterRoles where other.name != name && !visiting.contains(other.name ?? "") {
                let labels = (other[path: "metadata", "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
                guard queries.contains(where: { $0.matches(labels) }) else { continue }
                for rule in rules(of: other, visiting: visiting.union([name])) where !union.contains(rule) { union.append(rule) }
            }
            resolved[name] = union
            return union
        }
        return clusterRoles.map { role in
            guard role["aggregationRule"] != nil else { return role }
            var copy = role
            copy["rules"] = .array(rules(of: role, visiting: []))
            return copy
        }
    }
}
