import GantryAPI
import KubeCore

/// What a GPU request compiles to on a pod: the extended resource in limits, node affinity on the GPU feature
/// labels, and the tolerations GPU pools need. Shared by every Gantry kind.
public struct GPUPlacement: Sendable, Hashable {
    /// Extended resource name and count per pod (empty for CPU-only pods).
    public var limits: [String: Int]
    /// `requiredDuringSchedulingIgnoredDuringExecution` match expressions (empty when nothing is required).
    public var matchExpressions: [JSONValue]
    public var tolerations: [JSONValue]

    public init(request: GPURequest?, settings: GPUSettings) {
        guard let request, request.count > 0 else {
            limits = [:]
            matchExpressions = []
            tolerations = []
            return
        }
        switch request.effectiveSharing {
        case .exclusive: limits = [settings.effectiveResourceName: request.count]
        case .timeSliced: limits = [settings.effectiveSharedResourceName: request.count]
        case .mig: limits = [settings.effectiveMIGResourcePrefix + (request.migProfile ?? ""): request.count]
        }
        var expressions: [JSONValue] = []
        if let product = request.product {
            expressions.append(["key": .string(settings.effectiveProductLabel), "operator": "In", "values": [.string(product)]])
        }
        if let minMemory = request.minMemoryMiB {
            // Gt is strict: "more than minMemory - 1" is "at least minMemory".
            expressions.append(["key": .string(settings.effectiveMemoryLabel), "operator": "Gt", "values": [.string(String(minMemory - 1))]])
        }
        matchExpressions = expressions
        tolerations = settings.effectiveTolerations
    }

    public var resourceName: String? { limits.keys.first }
    public var countPerPod: Int { limits.values.first ?? 0 }

    /// The pod's `affinity`, or nil when no GPU label is required.
    public var affinity: JSONValue? {
        guard !matchExpressions.isEmpty else { return nil }
        return ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [["matchExpressions": .array(matchExpressions)]],
        ]]]
    }

    /// The required node affinity of per-node pods (DaemonSets, which ignore resources when choosing nodes): the
    /// placement's expressions, and for a GPU request without any a node carrying `productLabel` (every GPU node
    /// does), so no daemon pod lands on a CPU node it could never run on.
    public func daemonAffinity(productLabel: String) -> JSONValue? {
        var expressions = matchExpressions
        if countPerPod > 0, expressions.isEmpty {
            expressions = [["key": .string(productLabel), "operator": "Exists"]]
        }
        guard !expressions.isEmpty else { return nil }
        return ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": [
            "nodeSelectorTerms": [["matchExpressions": .array(expressions)]],
        ]]]
    }

    /// The placement's constraints on a node, with the pod's own nodeSelector and tolerations added.
    public func constraints(nodeSelector: [String: String] = [:], tolerations: [JSONValue] = []) -> SchedulingRules.PodConstraints {
        // One term of matchExpressions, as `affinity` gives the pods.
        let affinity = matchExpressions.isEmpty ? nil
            : SchedulingRules.NodeSelector(terms: SchedulingRules.Term(json: ["matchExpressions": .array(matchExpressions)]).map { [$0] } ?? [])
        return .init(nodeSelector: nodeSelector, affinity: affinity, tolerations: tolerations.map(Pod.Toleration.init(json:)), requests: limits)
    }

    /// Whether a node could ever hold one pod of this request (labels match and capacity suffices),
    /// ignoring what currently runs there.
    public func fits(node: JSONValue) -> Bool {
        constraints().matchesLabelsAndResources(of: Node(json: node))
    }

    /// Allocatable count of an extended resource on a node (integers only: extended resources are counts).
    public static func capacity(of node: JSONValue, resource: String) -> Int? {
        SchedulingRules.allocatable(of: Node(json: node), resource: resource)
    }
}
