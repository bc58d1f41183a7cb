import GantryAPI
import KubeCore

/// The GPUs of the cluster as the operator's caches see them: every node, and what the pods Gantry manages hold
/// on each (bound and not finished). Pods Gantry does not manage are not cached, so `free` may be more than the
/// scheduler finds; the scheduler's own verdict on the candidate's pods covers that (GPUShortage).
public struct GPUUsage: Sendable, Hashable {
    public var nodes: [JSONValue]
    /// Extended resources held per node by bound, unfinished pods.
    public var held: [String: [String: Int]]
    /// The part of `held` that pods being deleted hold: free soon.
    public var leaving: [String: [String: Int]]

    public init(nodes: [JSONValue] = [], pods: [JSONValue] = []) {
        self.nodes = nodes
        var held: [String: [String: Int]] = [:]
        var leaving: [String: [String: Int]] = [:]
        for object in pods {
            let pod = Pod(json: object)
            guard let node = pod.spec.nodeName, pod.status.phase != "Succeeded", pod.status.phase != "Failed" else { continue }
            for (resource, count) in SchedulingRules.extendedRequests(of: pod) {
                held[node, default: [:]][resource, default: 0] += count
                if pod.deletionTimestamp != nil { leaving[node, default: [:]][resource, default: 0] += count }
            }
        }
        self.held = held
        self.leaving = leaving
    }
}

/// A blue/green candidate whose pods cannot all be placed for want of GPUs: the numbers the status reports
/// (issue #10: "InsufficientGPUForSurge with the numbers instead of leaving pods Pending forever").
public struct GPUShortage: Sendable, Hashable {
    public var resource: String
    public var perReplica: Int
    /// Candidate replicas not yet on a node.
    public var unplaced: Int
    /// Schedulable nodes one candidate replica may run on (GPU labels and capacity, taints, nodeSelector).
    public var matchingNodes: Int
    /// Allocatable and free units of `resource` on those nodes.
    public var capacity: Int
    public var free: Int
    /// Units the serving colour's pods hold on those nodes.
    public var serving: Int
    public var servingColor: InferenceServiceStatus.Color
    public var revision: String
    /// `placement: perNode`: the nodes that cannot take the candidate's replica (the totals above are theirs).
    public var shortNodes: [NodeShortfall]?

    public var needed: Int { unplaced * perReplica }
    /// The serving colour holds GPUs the candidate could use: a surge shortage, which Recreate avoids.
    public var reason: String { serving > 0 ? "InsufficientGPUForSurge" : "InsufficientGPU" }

    public var message: String {
        if let shortNodes { return perNodeMessage(shortNodes) }
        let replicas = unplaced == 1 ? "its replica" : "its \(unplaced) replicas"
        let nodes = matchingNodes == 0 ? "no schedulable node matches its GPU request, nodeSelector and tolerations"
            : "the \(matchingNodes) node\(matchingNodes == 1 ? "" : "s") it may run on \(matchingNodes == 1 ? "has" : "have") \(free) free of \(capacity)"
        let head = "candidate \(revision) needs \(needed) \(resource) for \(replicas) not yet placed (\(perReplica) each); \(nodes)"
        guard serving > 0 else {
            return head + ", and the serving colour holds none of them: add GPU nodes or free GPUs"
        }
        let held = "\(head), and \(servingColor.rawValue), serving, holds \(serving) of them. Blue/green needs both colours' GPUs at once "
            + "and never takes the serving colour's"
        if free + serving >= needed {
            return held + ": set spec.rollout.strategy: Recreate (the serving pods stop first: a gap in service) or add GPU nodes"
        }
        return held + "; Recreate would not make room either (\(free + serving) for \(needed)): add GPU nodes"
    }

    /// The shortage of a candidate, or nil when its pods fit (or will once pods being deleted are gone).
    /// Reported when the unplaced replicas cannot be packed into the free GPUs of the nodes they may run on, counting
    /// what leaving pods hold as free (the caches see only Gantry's pods, so this never cries wolf), or when the
    /// scheduler says a candidate pod has too little of the resource and nothing on those nodes is leaving.
    /// `departing`: the service's own pods this reconcile removes (a superseded candidate, a warm colour giving
    /// way), whose GPUs are free soon like those of pods being deleted.
    public static func of(candidate: [ServingPod], revision: String, replicas: Int, serving: [ServingPod],
                          servingColor: InferenceServiceStatus.Color, placement: GPUPlacement,
                          constraints: SchedulingRules.PodConstraints, usage: GPUUsage, departing: [ServingPod] = []) -> GPUShortage? {
        guard let resource = placement.resourceName, placement.countPerPod > 0 else { return nil }
        let unplaced = replicas - candidate.filter { $0.node != nil }.count
        guard unplaced > 0 else { return nil }
        let matchingNodes = usage.nodes.filter { constraints.feasible(on: Node(json: $0)) }
        let matching = matchingNodes.compactMap { Node(json: $0).name }
        let names = Set(matching)
        let free = GangAdmission.freeCapacity(nodes: matchingNodes, used: usage.held)
        let leavingByNode = freedSoon(resource, usage: usage, departing: departing)
        var soon = free
        for node in matching { soon[node]?[resource, default: 0] += leavingByNode[node] ?? 0 }
        let fitsSoon = GangAdmission.bestFit(unplaced, of: placement.countPerPod, resource, on: matching, free: &soon)
        let leaving = matching.reduce(0) { $0 + (leavingByNode[$1] ?? 0) }
        let schedulerSays = candidate.contains { $0.unschedulable?.contains("Insufficient \(resource)") == true }
        guard !fitsSoon || (schedulerSays && leaving == 0) else { return nil }
        return GPUShortage(
            resource: resource, perReplica: placement.countPerPod, unplaced: unplaced, matchingNodes: matching.count,
            capacity: matchingNodes.reduce(0) { $0 + (GPUPlacement.capacity(of: $1, resource: resource) ?? 0) },
            free: matching.reduce(0) { $0 + max(free[$1]?[resource] ?? 0, 0) },
            serving: serving.filter { $0.node.map(names.contains) ?? false }.reduce(0) { $0 + ($1.extendedResources[resource] ?? 0) },
            servingColor: servingColor, revision: revision)
    }

    /// Units of `resource` soon free per node: held by pods being deleted, or by `departing` pods this reconcile removes.
    static func freedSoon(_ resource: String, usage: GPUUsage, departing: [ServingPod]) -> [String: Int] {
        var byNode = usage.leaving.compactMapValues { $0[resource] }
        for pod in departing where !pod.deleting {
            guard let node = pod.node, let count = pod.extendedResources[resource] else { continue }
            byNode[node, default: 0] += count
        }
        return byNode
    }
}
