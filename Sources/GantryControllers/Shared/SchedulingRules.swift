import KubeCore

/// Kubernetes' rules for whether a pod may run on a node, as the controllers need them to admit and validate
/// jobs: `nodeSelector`, required node affinity (`NodeSelector`), taints and tolerations, whether the node takes
/// new pods at all, and its allocatable extended resources. Typed on KubeCore's `Node` and `Pod.Toleration` views;
/// a rule reads only the fields it names, never converts a whole node (admission asks this of every node for
/// every job).
///
/// Deliberate twin: EmbeddedCluster's `NodeMatching` and `Scheduler` implement the same rules on their own,
/// because the embedded cluster is the independent oracle: a misreading of the rules here must not be mirrored by
/// the cluster the tests run against. One table of cases from upstream's documented semantics
/// (`Tests/Support/SchedulingCases.swift`) runs through both.
public enum SchedulingRules {
    /// What one pod asks of a node.
    public struct PodConstraints: Sendable, Hashable {
        /// `spec.nodeSelector`: every label must be present with exactly this value.
        public var nodeSelector: [String: String]
        /// `spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution`, nil when absent.
        public var affinity: NodeSelector?
        public var tolerations: [Pod.Toleration]
        /// Extended resources (`nvidia.com/gpu`) as integer counts.
        public var requests: [String: Int]

        public init(nodeSelector: [String: String] = [:], affinity: NodeSelector? = nil, tolerations: [Pod.Toleration] = [],
                    requests: [String: Int] = [:]) {
            self.nodeSelector = nodeSelector
            self.affinity = affinity
            self.tolerations = tolerations
            self.requests = requests
        }

        /// nodeSelector and required node affinity both hold (component-helpers `GetRequiredNodeAffinity().Match`).
        public func matchesLabels(of node: Node) -> Bool {
            SchedulingRules.matches(nodeSelector: nodeSelector, node: node) && (affinity?.matches(node) ?? true)
        }

        /// Labels match and the node's allocatable suffices (taints not considered).
        public func matchesLabelsAndResources(of node: Node) -> Bool {
            matchesLabels(of: node) && SchedulingRules.fits(requests, node: node)
        }

        /// Whether the node could ever hold the pod, ignoring what runs there now and whether it takes new pods.
        public func canEverRun(on node: Node) -> Bool {
            matchesLabelsAndResources(of: node) && SchedulingRules.tolerates(tolerations, node: node)
        }

        /// Whether the pod may be placed on the node now if nothing ran there: the node takes new pods, and the pod
        /// could ever run on it.
        public func feasible(on node: Node) -> Bool {
            SchedulingRules.schedulable(node) && canEverRun(on: node)
        }
    }

    /// `spec.nodeSelector` holds: every label present with exactly the value (labels.SelectorFromSet).
    public static func matches(nodeSelector: [String: String], node: Node) -> Bool {
        nodeSelector.allSatisfy { node.label($0.key) == $0.value }
    }

    /// The node takes new pods: not cordoned (`spec.unschedulable`) and `Ready` is `True` (the scheduler's
    /// NodeUnschedulable plugin, and the `node.kubernetes.io/not-ready` taint the node lifecycle controller puts on
    /// a node that is not ready). Stricter than upstream on purpose: a toleration of those taints does not count.
    public static func schedulable(_ node: Node) -> Bool {
        guard !node.spec.unschedulable else { return false }
        let ready = node.json[path: "status", "conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }
        return ready?["status"]?.stringValue == "True"
    }

    // MARK: Taints and tolerations

    /// Every `NoSchedule` and `NoExecute` taint of the node is tolerated; `PreferNoSchedule` only affects scoring
    /// (scheduler TaintToleration filter: `FindMatchingUntoleratedTaint` over those two effects).
    public static func tolerates(_ tolerations: [Pod.Toleration], node: Node) -> Bool {
        node.spec.taints.allSatisfy { taint in
            let effect = taint.effect ?? ""
            guard effect == "NoSchedule" || effect == "NoExecute" else { return true }
            return tolerations.contains { tolerates($0, taint: taint) }
        }
    }

    /// k8s.io/api core/v1 `Toleration.ToleratesTaint`: an empty effect matches every effect, an empty key every key;
    /// `Exists` matches any value, `Equal` (also an empty operator) compares values. The alpha `Gt`/`Lt` operators
    /// (feature gate TaintTolerationComparisonOperators) are not supported: they tolerate nothing.
    public static func tolerates(_ toleration: Pod.Toleration, taint: Node.Taint) -> Bool {
        if let effect = toleration.effect, !effect.isEmpty, effect != taint.effect { return false }
        if let key = toleration.key, !key.isEmpty, key != taint.key { return false }
        switch toleration.operator ?? "" {
        case "", "Equal": return (toleration.value ?? "") == (taint.value ?? "")
        case "Exists": return true
        default: return false
        }
    }

    // MARK: Resources

    /// Each request is at most the node's allocatable count (a request of 0 always fits).
    public static func fits(_ requests: [String: Int], node: Node) -> Bool {
        requests.allSatisfy { resource, count in count <= 0 || (allocatable(of: node, resource: resource) ?? 0) >= count }
    }

    /// Allocatable count of an extended resource (integers only: extended resources are counts).
    public static func allocatable(of node: Node, resource: String) -> Int? {
        allocatableList(node)?[resource].flatMap(count)
    }

    /// Allocatable counts of the node's extended resources (names with a domain, `nvidia.com/gpu`).
    public static func extendedResources(of node: Node) -> [String: Int] {
        var counts: [String: Int] = [:]
        for (resource, value) in allocatableList(node)?.objectValue ?? [:] where resource.contains("/") {
            counts[resource] = count(value) ?? 0
        }
        return counts
    }

    /// Extended resources (names with a domain, `nvidia.com/gpu`) a pod's containers ask for: each container's
    /// request, else its limit (a limit stands in for a missing request), summed. Init containers are not counted
    /// (Gantry's never ask for an extended resource).
    public static func extendedRequests(of pod: Pod) -> [String: Int] {
        var counts: [String: Int] = [:]
        for container in pod.spec.containers {
            let resources = container.resources
            let requests = resources.json["requests"]?.objectValue ?? [:]
            let limits = resources.json["limits"]?.objectValue ?? [:]
            for resource in Set(requests.keys).union(limits.keys) where resource.contains("/") {
                guard let value = requests[resource] ?? limits[resource], let n = count(value) else { continue }
                counts[resource, default: 0] += n
            }
        }
        return counts
    }

    /// `status.allocatable`, or `status.capacity` when the node has no allocatable at all (the API server's
    /// defaulting, pkg/apis/core/v1 `SetDefaults_NodeStatus`).
    static func allocatableList(_ node: Node) -> JSONValue? {
        let status = node.json["status"]
        if let allocatable = status?["allocatable"], allocatable.objectValue != nil { return allocatable }
        return status?["capacity"]
    }

    /// A quantity as an integer count: strings as the API writes them, numbers as manifests often carry them.
    static func count(_ value: JSONValue) -> Int? {
        if let text = value.stringValue { return Int(text) }
        return value.intValue.map { Int($0) }
    }
}

extension Node {
    /// One label, read without converting the whole label map.
    func label(_ key: String) -> String? { json[path: "metadata", "labels", key]?.stringValue }
}
