import KubeCore

/// Whether a pod may land on a node by labels and taints, as the scheduler's NodeAffinity and TaintToleration
/// filter plugins decide (k8s.io/component-helpers/scheduling/corev1: `MatchNodeSelectorTerms`,
/// `Toleration.ToleratesTaint`). Shared by the scheduler and the DaemonSet controller.
///
/// Deliberate twin of GantryControllers' `SchedulingRules`: the embedded cluster is the independent oracle, so it
/// keeps its own reading of the rules rather than importing the controllers'. One table of cases
/// (`Tests/Support/SchedulingCases.swift`) runs through both, so the twins cannot drift apart unnoticed.
enum NodeMatching {
    /// `spec.nodeSelector` and required node affinity both hold.
    static func matchesNodeSelectorAndAffinity(pod: JSONValue, node: JSONValue) -> Bool {
        let labels = node.labels
        for (k, v) in pod[path: "spec", "nodeSelector"]?.objectValue ?? [:] where labels[k] != v.stringValue {
            return false
        }
        guard let required = pod[path: "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"] else {
            return true
        }
        // Terms are ORed; an empty list matches no node (same as the helper's behaviour).
        let terms = required["nodeSelectorTerms"]?.arrayValue ?? []
        return terms.contains { matches(term: $0, labels: labels, nodeName: node.name ?? "") }
    }

    /// The NodeAffinity score before normalisation: the summed `weight` of the pod's
    /// `preferredDuringSchedulingIgnoredDuringExecution` terms whose `preference` the node matches (an empty
    /// preference matches nothing, as the API documents it is a no-op).
    static func preferredAffinityWeight(pod: JSONValue, node: JSONValue) -> Int64 {
        let preferred = pod[path: "spec", "affinity", "nodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution"]?.arrayValue ?? []
        let labels = node.labels
        return preferred.reduce(0) { sum, term in
            guard let weight = term["weight"]?.intValue, let preference = term["preference"],
                  matches(term: preference, labels: labels, nodeName: node.name ?? "") else { return sum }
            return sum + weight
        }
    }

    /// One term: its expressions and fields ANDed; a term with neither matches nothing.
    static func matches(term: JSONValue, labels: [String: String], nodeName: String) -> Bool {
        let expressions = term["matchExpressions"]?.arrayValue ?? []
        let fields = term["matchFields"]?.arrayValue ?? []
        if expressions.isEmpty && fields.isEmpty { return false }
        let exprOK = expressions.allSatisfy { matches(requirement: $0, value: labels[$0["key"]?.stringValue ?? ""]) }
        // Only `metadata.name` is a supported field for matchFields.
        let fieldOK = fields.allSatisfy { f in
            f["key"]?.stringValue == "metadata.name" && matches(requirement: f, value: nodeName)
        }
        return exprOK && fieldOK
    }

    static func matches(requirement r: JSONValue, value: String?) -> Bool {
        let values = r["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
        switch r["operator"]?.stringValue {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        case "Gt", "Lt":
            guard let v = value.flatMap({ Int64($0) }), values.count == 1, let bound = Int64(values[0]) else { return false }
            return r["operator"]?.stringValue == "Gt" ? v > bound : v < bound
        default: return false
        }
    }

    /// Kubernetes' `ToleratesTaint`: an empty effect tolerates every effect, an empty key with `Exists`
    /// tolerates every key, and `Equal` (the default operator) compares values.
    static func tolerates(_ toleration: JSONValue, _ taint: Taint) -> Bool {
        if let effect = toleration["effect"]?.stringValue, !effect.isEmpty, effect != taint.effect { return false }
        let key = toleration["key"]?.stringValue ?? ""
        let op = toleration["operator"]?.stringValue ?? "Equal"
        if key.isEmpty { return op == "Exists" }
        guard key == taint.key else { return false }
        switch op {
        case "Exists": return true
        case "Equal", "": return (toleration["value"]?.stringValue ?? "") == taint.value
        default: return false
        }
    }

    /// The first taint with effect NoSchedule or NoExecute that the pod does not tolerate
    /// (PreferNoSchedule only affects scoring).
    static func untoleratedTaint(pod: JSONValue, taints: [Taint]) -> Taint? {
        let tolerations = pod[path: "spec", "tolerations"]?.arrayValue ?? []
        return taints.first { t in
            (t.effect == "NoSchedule" || t.effect == "NoExecute") && !tolerations.contains { tolerates($0, t) }
        }
    }

    /// The TaintToleration score before normalisation: how many `PreferNoSchedule` taints of the node the pod
    /// does not tolerate (fewer is better).
    static func intolerablePreferNoSchedule(pod: JSONValue, node: JSONValue) -> Int64 {
        let tolerations = pod[path: "spec", "tolerations"]?.arrayValue ?? []
        let taints = (node[path: "spec", "taints"]?.arrayValue ?? []).compactMap(Taint.init(json:))
        return Int64(taints.filter { taint in
            taint.effect == "PreferNoSchedule" && !tolerations.contains { tolerates($0, taint) }
        }.count)
    }

    /// A node's taints, plus the ones the node lifecycle controller adds for an unready or cordoned node
    /// (`node.kubernetes.io/not-ready`, `node.kubernetes.io/unschedulable`), which is how a real scheduler
    /// ends up skipping such nodes.
    static func effectiveTaints(node: JSONValue) -> [Taint] {
        var taints = (node[path: "spec", "taints"]?.arrayValue ?? []).compactMap(Taint.init(json:))
        if !isReady(node), !taints.contains(where: { $0.key == "node.kubernetes.io/not-ready" || $0.key == "node.kubernetes.io/unreachable" }) {
            taints.append(Taint(key: "node.kubernetes.io/not-ready", effect: "NoSchedule"))
        }
        return taints
    }

    static func isReady(_ node: JSONValue) -> Bool {
        let conditions = node[path: "status", "conditions"]?.arrayValue ?? []
        return conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }

    static func isUnschedulable(_ node: JSONValue) -> Bool {
        node[path: "spec", "unschedulable"]?.boolValue ?? false
    }
}
