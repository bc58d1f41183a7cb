import GantryAPI
import KubeCore

/// The checks of a job against the nodes: one replica's GPU request against their labels and allocatable, and the
/// whole gang against the matching nodes as if they were empty. Everything they read of the job is in this value,
/// so jobs of the same shape ask the same question and can share its answer while the nodes stay the same.
public struct NodeCheck: Sendable, Hashable {
    let placement: GPUPlacement
    let nodeSelector: [String: String]
    let tolerations: [JSONValue]
    let replicas: Int

    public init(_ job: TrainingJob, placement: GPUPlacement) {
        self.placement = placement
        nodeSelector = job.spec.nodeSelector ?? [:]
        tolerations = job.spec.tolerations ?? []
        replicas = job.spec.effectiveReplicas
    }

    public func problems(nodes: [JSONValue]) -> [ValidationProblem] {
        guard let resource = placement.resourceName, placement.countPerPod > 0 else { return [] }
        if let none = Self.noNodeCanHold(placement, nodes: nodes) { return [none] }
        let typedNodes = nodes.map(Node.init(json:))
        // The whole gang against the matching nodes as if they were empty: a gang that cannot fit even then
        // would wait forever and, past the starvation bound, hold back every job behind it.
        let constraints = placement.constraints(nodeSelector: nodeSelector, tolerations: placement.tolerations + tolerations)
        let matching = typedNodes.filter(constraints.canEverRun(on:))
        let slots = matching.reduce(0) { $0 + (SchedulingRules.allocatable(of: $1, resource: resource) ?? 0) / placement.countPerPod }
        guard slots < replicas else { return [] }
        return [.init(reason: "GangTooLarge", message: "spec.replicas × spec.gpu.count: the gang needs \(replicas) replicas × \(placement.countPerPod) \(resource), but the \(matching.count) matching node(s) can hold at most \(slots) such replicas even when empty. Lower spec.replicas or spec.gpu.count, or add nodes")]
    }

    /// One pod of the GPU request fits no node, even empty (labels and allocatable; taints and the pod's own
    /// nodeSelector aside): a spec error, named with the largest matching node. Shared by every kind asking for GPUs.
    public static func noNodeCanHold(_ placement: GPUPlacement, nodes: [JSONValue]) -> ValidationProblem? {
        guard let resource = placement.resourceName, placement.countPerPod > 0 else { return nil }
        let typedNodes = nodes.map(Node.init(json:))
        let gpu = placement.constraints()
        guard !typedNodes.contains(where: gpu.matchesLabelsAndResources(of:)) else { return nil }
        let largest = typedNodes.filter(gpu.matchesLabels(of:)).compactMap { SchedulingRules.allocatable(of: $0, resource: resource) }.max()
        var message = "spec.gpu: no node can ever run one replica: it needs \(placement.countPerPod) \(resource)"
        if !placement.matchExpressions.isEmpty { message += " on nodes matching \(TrainingJobValidation.describe(placement.matchExpressions))" }
        if let largest { message += "; the largest matching node has \(largest)" } else { message += "; no node matches" }
        message += ". Lower spec.gpu.count or relax spec.gpu.product / spec.gpu.minMemoryMiB"
        return .init(reason: "NoMatchingGPUNodes", message: message)
    }
}
