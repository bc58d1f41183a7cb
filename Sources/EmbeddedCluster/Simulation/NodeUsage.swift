import Foundation
import KubeCore

/// What is already placed on each node: the scheduler's view of `NodeInfo` (requested resources and pod count).
/// Pods in phase Succeeded or Failed hold nothing, as in kube-scheduler's cache; terminating pods still do.
struct NodeUsage: Sendable {
    var allocatable: [String: ResourceList] = [:]
    var requested: [String: ResourceList] = [:]
    var nonZeroRequested: [String: ResourceList] = [:]
    var podCount: [String: Int] = [:]

    init(nodes: [JSONValue], pods: [JSONValue], requests: (JSONValue) -> ResourceList = PodRequests.of) {
        for node in nodes {
            guard let name = node.name else { continue }
            allocatable[name] = ResourceList(json: node[path: "status", "allocatable"])
        }
        for pod in pods {
            guard let node = pod[path: "spec", "nodeName"]?.stringValue, !node.isEmpty, !Self.isTerminal(pod) else { continue }
            add(requests: requests(pod), to: node)
        }
    }

    static func isTerminal(_ pod: JSONValue) -> Bool {
        let phase = pod[path: "status", "phase"]?.stringValue
        return phase == "Succeeded" || phase == "Failed"
    }

    mutating func add(requests r: ResourceList, to node: String) {
        requested[node] = (requested[node] ?? [:]).adding(r)
        nonZeroRequested[node] = (nonZeroRequested[node] ?? [:]).adding(Self.nonZero(r))
        podCount[node, default: 0] += 1
    }

    /// The scheduler scores a pod that requests no cpu or memory as if it asked for 100m and 200Mi
    /// (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest).
    static let defaultCPU = ResourceQuantity(Decimal(string: "0.1") ?? 0)
    static let defaultMemory = ResourceQuantity(Decimal(200 * 1_048_576), format: .binarySI)

    static func nonZero(_ r: ResourceList) -> ResourceList {
        var out = r
        if out["cpu"] == nil { out["cpu"] = defaultCPU }
        if out["memory"] == nil { out["memory"] = defaultMemory }
        return out
    }
}
