import Foundation
import KubeCore

/// What is already placed on each node: the scheduler's view of `NodeInfo` (requested resources and pod count).
/// Pods in phase Succeeded or Failed hold nothing, as in kube-scheduler's cache; terminating pods still do.
///
/// Held in kube-scheduler's integer units (`framework.Resource`: cpu in millicores, everything else in whole units,
/// each request rounded up) and by node position: a burst of pods on hundreds of nodes checks and scores every node
/// for every pod, and exact `Decimal` arithmetic there was a fifth of the API server's CPU in the burst bench.
struct NodeUsage: Sendable {
    struct Node: Sendable {
        var name: String
        var allocatable: [String: Int64] = [:]
        var requested: [String: Int64] = [:]
        var nonZeroRequested: [String: Int64] = [:]
        var pods: Int64 = 0
    }

    private(set) var nodes: [Node] = []
    private var positions: [String: Int] = [:]

    /// `nodes` keep their order (positions are indices into it); nodes without a name are left out.
    init(nodes: [JSONValue], pods: [JSONValue], requests: (JSONValue) -> ResourceList = PodRequests.of) {
        for node in nodes {
            guard let name = node.name else { continue }
            positions[name] = self.nodes.count
            self.nodes.append(Node(name: name, allocatable: PodDemand.units(ResourceList(json: node[path: "status", "allocatable"]))))
        }
        for pod in pods {
            guard let node = pod[path: "spec", "nodeName"]?.stringValue, let at = positions[node], !Self.isTerminal(pod) else { continue }
            add(PodDemand(requests(pod)), at: at)
        }
    }

    func position(of node: String) -> Int? { positions[node] }

    static func isTerminal(_ pod: JSONValue) -> Bool {
        let phase = pod[path: "status", "phase"]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    mutating func add(_ demand: PodDemand, at position: Int) {
        for (resource, amount) in demand.requests { nodes[position].requested[resource, default: 0] += amount }
        for (resource, amount) in demand.nonZero { nodes[position].nonZeroRequested[resource, default: 0] += amount }
        nodes[position].pods += 1
    }
}

/// A pod's requests in the scheduler's integer units, worked out once per pod and pass rather than per node.
struct PodDemand: Sendable {
    var requests: [String: Int64]
    /// With the scheduler's defaults for a pod that requests no cpu or memory: 100m and 200Mi
    /// (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest), used for scoring only.
    var nonZero: [String: Int64]
    /// Positive requests in the order NodeResourcesFit checks them: cpu, memory, ephemeral-storage, then extended ones.
    var fitOrder: [(resource: String, amount: Int64)]
    /// What LeastAllocated scores: the non-zero requests but pods and ephemeral-storage.
    var scored: [(resource: String, amount: Int64)]

    static let defaultMilliCPU: Int64 = 100
    static let defaultMemory: Int64 = 200 * 1_048_576

    init(_ list: ResourceList) {
        let requests = Self.units(list)
        self.requests = requests
        var nonZero = requests
        if nonZero["cpu"] == nil { nonZero["cpu"] = Self.defaultMilliCPU }
        if nonZero["memory"] == nil { nonZero["memory"] = Self.defaultMemory }
        self.nonZero = nonZero
        let fixed = ["cpu", "memory", "ephemeral-storage"]
        let names = fixed.filter { requests[$0] != nil } + requests.keys.filter { !fixed.contains($0) && $0 != "pods" }.sorted()
        fitOrder = names.compactMap { name in requests[name].flatMap { $0 > 0 ? (name, $0) : nil } }
        scored = nonZero.filter { $0.key != "pods" && $0.key != "ephemeral-storage" }.map { ($0.key, $0.value) }
    }

    /// kube-scheduler compares cpu as `MilliValue()` and every other resource as `Value()`, both rounded up.
    static func units(_ list: ResourceList) -> [String: Int64] {
        var out: [String: Int64] = [:]
        for (name, quantity) in list { out[name] = name == "cpu" ? quantity.milliValue : quantity.intValue }
        return out
    }
}
