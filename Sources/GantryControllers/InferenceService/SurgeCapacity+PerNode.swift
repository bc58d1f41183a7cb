import GantryAPI
import KubeCore

/// `placement: perNode`: the candidate's DaemonSet puts one replica on every node it matches, beside the serving
/// colour's replica there, so its GPUs must be free node by node: spare GPUs on one node do not help another.
extension GPUShortage {
    /// A node that cannot take the candidate's replica beside what runs there.
    public struct NodeShortfall: Sendable, Hashable {
        public var node: String
        public var free: Int
        public var capacity: Int
        /// Units the serving colour's replica holds there.
        public var serving: Int
    }

    /// The shortage of a perNode candidate, or nil when every node it runs on can take its replica (or will once
    /// pods being deleted or `departing` are gone). A node is short when, without a candidate pod bound there,
    /// its free units (counting leaving pods' as free) are fewer than one replica's, or when the scheduler says
    /// the candidate's pod for that node has too little of the resource and nothing there is leaving (GPUs held
    /// by pods Gantry does not manage).
    public static func perNode(candidate: [ServingPod], revision: String, serving: [ServingPod], servingColor: InferenceServiceStatus.Color,
                               placement: GPUPlacement, constraints: SchedulingRules.PodConstraints, usage: GPUUsage,
                               departing: [ServingPod] = []) -> GPUShortage? {
        guard let resource = placement.resourceName, placement.countPerPod > 0 else { return nil }
        let need = placement.countPerPod
        let matchingNodes = usage.nodes.filter { constraints.feasible(on: Node(json: $0)) }
        let free = GangAdmission.freeCapacity(nodes: matchingNodes, used: usage.held)
        let leaving = freedSoon(resource, usage: usage, departing: departing)
        let placed = Set(candidate.compactMap(\.node))
        let refused = Set(candidate.filter { $0.node == nil && $0.unschedulable?.contains("Insufficient \(resource)") == true }.compactMap(\.targetNode))
        var short: [NodeShortfall] = []
        for json in matchingNodes {
            guard let name = Node(json: json).name, !placed.contains(name) else { continue }
            let freeNow = free[name]?[resource] ?? 0
            let soon = freeNow + (leaving[name] ?? 0)
            guard soon < need || (refused.contains(name) && (leaving[name] ?? 0) == 0) else { continue }
            let held = serving.filter { $0.node == name }.reduce(0) { $0 + ($1.extendedResources[resource] ?? 0) }
            short.append(NodeShortfall(node: name, free: max(freeNow, 0), capacity: GPUPlacement.capacity(of: json, resource: resource) ?? 0, serving: held))
        }
        guard !short.isEmpty else { return nil }
        short.sort { $0.node < $1.node }
        return GPUShortage(resource: resource, perReplica: need, unplaced: short.count, matchingNodes: matchingNodes.count,
                           capacity: short.reduce(0) { $0 + $1.capacity }, free: short.reduce(0) { $0 + $1.free },
                           serving: short.reduce(0) { $0 + $1.serving }, servingColor: servingColor, revision: revision, shortNodes: short)
    }

    func perNodeMessage(_ nodes: [NodeShortfall]) -> String {
        let each = nodes.map { node in
            "\(node.node) has \(node.free) free of \(node.capacity)" + (node.serving > 0 ? " (\(servingColor.rawValue) holds \(node.serving))" : "")
        }.joined(separator: ", ")
        let head = "candidate \(revision) needs \(perReplica) \(resource) free on every node it runs on (one replica per node, spec.placement perNode); "
            + "\(nodes.count) of its \(matchingNodes) node\(matchingNodes == 1 ? "" : "s") lack\(nodes.count == 1 ? "s" : "") it: \(each)"
        guard serving > 0 else {
            return head + ", and the serving colour holds none of it: free GPUs on those nodes"
        }
        let held = "\(head); \(servingColor.rawValue), serving, holds \(serving) of them there. Blue/green needs both colours' GPUs on each node at once "
            + "and never takes the serving colour's"
        if nodes.allSatisfy({ $0.free + $0.serving >= perReplica }) {
            return held + ": set spec.rollout.strategy: Recreate (the serving pods stop first: a gap in service) or free GPUs on those nodes"
        }
        return held + "; Recreate would not make room on every one of them either: free GPUs on those nodes"
    }
}
