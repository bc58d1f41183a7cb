import KubeCore

/// One case of the scheduling table: may this pod be placed on this (otherwise empty) node?
///
/// The expected answers come from upstream's documented semantics (k8s.io/component-helpers nodeaffinity,
/// apimachinery `labels.Requirement.Matches`, core/v1 `Toleration.ToleratesTaint`, the scheduler's NodeUnschedulable,
/// TaintToleration and NodeResourcesFit filters, `SetDefaults_NodeStatus`), not from either implementation.
public struct SchedulingCase: Sendable, CustomStringConvertible {
    public var name: String
    public var node: JSONValue
    public var nodeSelector: [String: String] = [:]
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; nil when the pod has no required affinity.
    public var nodeSelectorTerms: [JSONValue]? = nil
    public var tolerations: [JSONValue] = []
    /// Extended resources as integer counts, set as the container's limits (requests default from limits).
    public var requests: [String: Int] = [:]
    public var feasible: Bool

    public var description: String { name }

    /// `requiredDuringSchedulingIgnoredDuringExecution`, nil when absent.
    public var requiredAffinity: JSONValue? { nodeSelectorTerms.map { ["nodeSelectorTerms": .array($0)] } }

    /// The pod as a client would create it.
    public var pod: JSONValue {
        var limits: [String: JSONValue] = [:]
        for (resource, count) in requests { limits[resource] = .string(String(count)) }
        var spec: JSONValue = ["containers": [["name": "main", "image": "busybox", "resources": ["limits": .object(limits)]]]]
        if !nodeSelector.isEmpty { spec["nodeSelector"] = .object(nodeSelector.mapValues(JSONValue.string)) }
        if let requiredAffinity { spec["affinity"] = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": requiredAffinity]] }
        if !tolerations.isEmpty { spec["tolerations"] = .array(tolerations) }
        return ["apiVersion": "v1", "kind": "Pod",
                "metadata": ["name": .string("case"), "namespace": "default", "uid": "uid-case",
                             "creationTimestamp": "2026-01-01T00:00:00Z"],
                "spec": spec]
    }
}

/// The table both scheduling implementations run: GantryControllers' `SchedulingRules` (GantryControllersTests,
/// `SchedulingTableTests`) and the embedded cluster's `NodeMatching`/`Scheduler`, the independent oracle
/// (EmbeddedClusterTests, `SchedulingOracleTableTests`). A case the two answer differently is a bug in one of them;
/// decide which from the upstream source named in the case, never by copying the other side.
public enum SchedulingCases {
    /// A ready node named `node-a` with room for pods; `allocatable` and `capacity` are added to the node's lists.
    public static func node(labels: [String: String] = [:], taints: [JSONValue] = [], allocatable: [String: JSONValue]? = [:],
                            capacity: [String: JSONValue] = [:], ready: String? = "True", unschedulable: Bool = false) -> JSONValue {
        var base: [String: JSONValue] = ["cpu": "8", "memory": "32Gi", "pods": "110"]
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node",
                               "metadata": ["name": "node-a", "labels": .object(labels.mapValues(JSONValue.string))]]
        if unschedulable { node[path: "spec", "unschedulable"] = true }
        if !taints.isEmpty { node[path: "spec", "taints"] = .array(taints) }
        for (k, v) in capacity { base[k] = v }
        node[path: "status", "capacity"] = .object(base)
        if let allocatable {
            var list: [String: JSONValue] = ["cpu": "8", "memory": "32Gi", "pods": "110"]
            for (k, v) in allocatable { list[k] = v }
            node[path: "status", "allocatable"] = .object(list)
        }
        if let ready { node[path: "status", "conditions"] = [["type": "Ready", "status": .string(ready)]] }
        return node
    }

    static func expression(_ key: String, _ op: String, _ values: [String] = []) -> JSONValue {
        var e: JSONValue = ["key": .string(key), "operator": .string(op)]
        if !values.isEmpty { e["values"] = .array(values.map(JSONValue.string)) }
        return e
    }

    /// One term of match expressions.
    static func term(_ expressions: JSONValue...) -> JSONValue { ["matchExpressions": .array(expressions)] }

    static func taint(_ key: String, _ value: String? = nil, _ effect: String) -> JSONValue {
        var t: JSONValue = ["key": .string(key), "effect": .string(effect)]
        if let value { t["value"] = .string(value) }
        return t
    }

    static func toleration(key: String? = nil, op: String? = nil, value: String? = nil, effect: String? = nil) -> JSONValue {
        var t: JSONValue = .emptyObject
        if let key { t["key"] = .string(key) }
        if let op { t["operator"] = .string(op) }
        if let value { t["value"] = .string(value) }
        if let effect { t["effect"] = .string(effect) }
        return t
    }

    static let zone = ["zone": "a"]
    static let gpu = "nvidia.com/gpu"

    public static let all: [SchedulingCase] = nodeSelectorCases + operatorCases + termCases + taintCases + nodeCases + resourceCases

    // nodeSelector: labels.SelectorFromSet, every pair must be present with exactly the value.
    static let nodeSelectorCases: [SchedulingCase] = [
        .init(name: "nodeSelector: label present with the value", node: node(labels: zone), nodeSelector: zone, feasible: true),
        .init(name: "nodeSelector: label with another value", node: node(labels: ["zone": "b"]), nodeSelector: zone, feasible: false),
        .init(name: "nodeSelector: label absent", node: node(), nodeSelector: zone, feasible: false),
        .init(name: "nodeSelector: every pair must match", node: node(labels: ["zone": "a", "disk": "hdd"]),
              nodeSelector: ["zone": "a", "disk": "ssd"], feasible: false),
    ]

    // Node selector operators: labels.Requirement.Matches (NotIn and DoesNotExist match an absent label; Gt and Lt
    // parse the label as an int64, and a label that is not an integer does not match).
    static let operatorCases: [SchedulingCase] = [
        .init(name: "In: value listed", node: node(labels: zone), nodeSelectorTerms: [term(expression("zone", "In", ["a", "b"]))], feasible: true),
        .init(name: "In: value not listed", node: node(labels: ["zone": "c"]), nodeSelectorTerms: [term(expression("zone", "In", ["a", "b"]))], feasible: false),
        .init(name: "In: label absent", node: node(), nodeSelectorTerms: [term(expression("zone", "In", ["a"]))], feasible: false),
        .init(name: "NotIn: value listed", node: node(labels: zone), nodeSelectorTerms: [term(expression("zone", "NotIn", ["a"]))], feasible: false),
        .init(name: "NotIn: value not listed", node: node(labels: ["zone": "b"]), nodeSelectorTerms: [term(expression("zone", "NotIn", ["a"]))], feasible: true),
        .init(name: "NotIn: label absent matches", node: node(), nodeSelectorTerms: [term(expression("zone", "NotIn", ["a"]))], feasible: true),
        .init(name: "Exists: label present, even empty", node: node(labels: ["spot": ""]), nodeSelectorTerms: [term(expression("spot", "Exists"))], feasible: true),
        .init(name: "Exists: label absent", node: node(), nodeSelectorTerms: [term(expression("spot", "Exists"))], feasible: false),
        .init(name: "DoesNotExist: label absent", node: node(), nodeSelectorTerms: [term(expression("spot", "DoesNotExist"))], feasible: true),
        .init(name: "DoesNotExist: label present", node: node(labels: ["spot": "true"]), nodeSelectorTerms: [term(expression("spot", "DoesNotExist"))], feasible: false),
        .init(name: "Gt: label greater", node: node(labels: ["gpu.memory": "81920"]), nodeSelectorTerms: [term(expression("gpu.memory", "Gt", ["40959"]))], feasible: true),
        .init(name: "Gt: equal is not greater", node: node(labels: ["gpu.memory": "40960"]), nodeSelectorTerms: [term(expression("gpu.memory", "Gt", ["40960"]))], feasible: false),
        .init(name: "Gt: negative integers compare as integers", node: node(labels: ["offset": "-3"]), nodeSelectorTerms: [term(expression("offset", "Gt", ["-5"]))], feasible: true),
        .init(name: "Gt: a label that is not an integer does not match", node: node(labels: ["gpu.memory": "80Gi"]), nodeSelectorTerms: [term(expression("gpu.memory", "Gt", ["1"]))], feasible: false),
        .init(name: "Gt: label absent", node: node(), nodeSelectorTerms: [term(expression("gpu.memory", "Gt", ["1"]))], feasible: false),
        .init(name: "Lt: label smaller", node: node(labels: ["gpu.count": "2"]), nodeSelectorTerms: [term(expression("gpu.count", "Lt", ["4"]))], feasible: true),
        .init(name: "Lt: equal is not smaller", node: node(labels: ["gpu.count": "4"]), nodeSelectorTerms: [term(expression("gpu.count", "Lt", ["4"]))], feasible: false),
        .init(name: "Lt: a label that is not an integer does not match", node: node(labels: ["gpu.count": "two"]), nodeSelectorTerms: [term(expression("gpu.count", "Lt", ["4"]))], feasible: false),
        .init(name: "Lt: label absent", node: node(), nodeSelectorTerms: [term(expression("gpu.count", "Lt", ["4"]))], feasible: false),
    ]

    // Terms are ORed, the requirements of one term ANDed; an empty term matches nothing (nodeaffinity
    // LazyErrorNodeSelector); matchFields knows metadata.name (In/NotIn, one value); nodeSelector and affinity both hold.
    static let termCases: [SchedulingCase] = [
        .init(name: "expressions of a term are ANDed", node: node(labels: ["zone": "a", "disk": "hdd"]),
              nodeSelectorTerms: [term(expression("zone", "In", ["a"]), expression("disk", "In", ["ssd"]))], feasible: false),
        .init(name: "terms are ORed", node: node(labels: ["zone": "b"]),
              nodeSelectorTerms: [term(expression("zone", "In", ["a"])), term(expression("zone", "In", ["b"]))], feasible: true),
        .init(name: "an empty term matches nothing", node: node(labels: zone), nodeSelectorTerms: [.emptyObject], feasible: false),
        .init(name: "an empty term beside a matching term", node: node(labels: zone),
              nodeSelectorTerms: [.emptyObject, term(expression("zone", "Exists"))], feasible: true),
        .init(name: "nodeSelector and affinity must both hold", node: node(labels: zone), nodeSelector: ["disk": "ssd"],
              nodeSelectorTerms: [term(expression("zone", "In", ["a"]))], feasible: false),
        .init(name: "matchFields: metadata.name In the node's name", node: node(),
              nodeSelectorTerms: [["matchFields": [expression("metadata.name", "In", ["node-a"])]]], feasible: true),
        .init(name: "matchFields: metadata.name In another name", node: node(),
              nodeSelectorTerms: [["matchFields": [expression("metadata.name", "In", ["node-b"])]]], feasible: false),
        .init(name: "matchFields: metadata.name NotIn the node's name", node: node(),
              nodeSelectorTerms: [["matchFields": [expression("metadata.name", "NotIn", ["node-a"])]]], feasible: false),
        .init(name: "matchFields and matchExpressions of a term are ANDed", node: node(labels: ["zone": "b"]),
              nodeSelectorTerms: [["matchFields": [expression("metadata.name", "In", ["node-a"])],
                                   "matchExpressions": [expression("zone", "In", ["a"])]]], feasible: false),
    ]

    // Taints: NoSchedule and NoExecute must be tolerated, PreferNoSchedule only scores (TaintToleration filter).
    // Tolerations: Toleration.ToleratesTaint (empty effect matches every effect, empty key with Exists every taint,
    // an omitted operator means Equal, Equal compares values with "" for an absent one).
    static let taintCases: [SchedulingCase] = [
        .init(name: "taint NoSchedule not tolerated", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]), feasible: false),
        .init(name: "taint NoExecute not tolerated", node: node(taints: [taint("dedicated", "ml", "NoExecute")]), feasible: false),
        .init(name: "taint PreferNoSchedule not tolerated is still feasible", node: node(taints: [taint("dedicated", "ml", "PreferNoSchedule")]), feasible: true),
        .init(name: "toleration Exists on the key, any value", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "dedicated", op: "Exists", effect: "NoSchedule")], feasible: true),
        .init(name: "toleration Equal, same value", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "dedicated", op: "Equal", value: "ml", effect: "NoSchedule")], feasible: true),
        .init(name: "toleration Equal, another value", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "dedicated", op: "Equal", value: "web", effect: "NoSchedule")], feasible: false),
        .init(name: "toleration without operator means Equal: same value", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "dedicated", value: "ml")], feasible: true),
        .init(name: "toleration without operator means Equal: another value", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "dedicated", value: "web")], feasible: false),
        .init(name: "toleration Equal without value tolerates a taint without value", node: node(taints: [taint("gpu", nil, "NoSchedule")]),
              tolerations: [toleration(key: "gpu", op: "Equal", effect: "NoSchedule")], feasible: true),
        .init(name: "empty key with Exists tolerates every taint", node: node(taints: [taint("a", "1", "NoSchedule"), taint("b", nil, "NoExecute")]),
              tolerations: [toleration(op: "Exists")], feasible: true),
        .init(name: "toleration without effect matches every effect", node: node(taints: [taint("dedicated", "ml", "NoExecute")]),
              tolerations: [toleration(key: "dedicated", op: "Exists")], feasible: true),
        .init(name: "toleration of NoSchedule does not cover NoExecute", node: node(taints: [taint("dedicated", "ml", "NoExecute")]),
              tolerations: [toleration(key: "dedicated", op: "Exists", effect: "NoSchedule")], feasible: false),
        .init(name: "toleration of another key", node: node(taints: [taint("dedicated", "ml", "NoSchedule")]),
              tolerations: [toleration(key: "gpu", op: "Exists")], feasible: false),
        .init(name: "every NoSchedule/NoExecute taint must be tolerated", node: node(taints: [taint("a", nil, "NoSchedule"), taint("b", nil, "NoSchedule")]),
              tolerations: [toleration(key: "a", op: "Exists")], feasible: false),
    ]

    // Nodes that take no new pods: cordoned (NodeUnschedulable), not ready (the node lifecycle controller's
    // node.kubernetes.io/not-ready or unreachable NoSchedule taint; a node that never reported Ready counts as not ready).
    static let nodeCases: [SchedulingCase] = [
        .init(name: "cordoned node", node: node(unschedulable: true), feasible: false),
        .init(name: "node Ready=False", node: node(ready: "False"), feasible: false),
        .init(name: "node Ready=Unknown", node: node(ready: "Unknown"), feasible: false),
        .init(name: "node without a Ready condition", node: node(ready: nil), feasible: false),
    ]

    // Extended resources: integer counts against status.allocatable (NodeResourcesFit); a node without allocatable
    // gets its capacity (SetDefaults_NodeStatus).
    static let resourceCases: [SchedulingCase] = [
        .init(name: "request equal to allocatable", node: node(allocatable: [gpu: "8"], capacity: [gpu: "8"]), requests: [gpu: 8], feasible: true),
        .init(name: "request above allocatable", node: node(allocatable: [gpu: "8"], capacity: [gpu: "8"]), requests: [gpu: 9], feasible: false),
        .init(name: "resource absent from the node", node: node(), requests: [gpu: 1], feasible: false),
        .init(name: "allocatable, not capacity, counts", node: node(allocatable: [gpu: "4"], capacity: [gpu: "8"]), requests: [gpu: 8], feasible: false),
        .init(name: "no allocatable at all: capacity counts", node: node(allocatable: nil, capacity: [gpu: "8"]), requests: [gpu: 8], feasible: true),
        .init(name: "allocatable written as a number", node: node(allocatable: [gpu: 8], capacity: [gpu: 8]), requests: [gpu: 8], feasible: true),
        .init(name: "a GPU pod as Gantry builds it", node: node(labels: ["nvidia.com/gpu.product": "A100", "nvidia.com/gpu.memory": "81920", "zone": "a"],
                                                                   taints: [taint(gpu, "present", "NoSchedule")], allocatable: [gpu: "8"], capacity: [gpu: "8"]),
              nodeSelector: zone,
              nodeSelectorTerms: [term(expression("nvidia.com/gpu.product", "In", ["A100"]), expression("nvidia.com/gpu.memory", "Gt", ["40959"]))],
              tolerations: [toleration(key: gpu, op: "Exists", effect: "NoSchedule")], requests: [gpu: 4], feasible: true),
    ]
}
