import GantryAPI
import KubeCore

/// One walk of the admission queue in order (GangAdmission's rules), as a value that can be continued: the
/// AdmissionLedger keeps the pass of its last full computation and decides a job created later by considering
/// it next, without walking the whole queue again.
public struct AdmissionPass: Sendable {
    typealias Candidate = GangAdmission.Candidate

    let nodes: [JSONValue]
    let platform: PlatformConfigSpec
    /// Namespaces past their GPU-hour budget: their new GPU jobs wait (admitted ones keep running).
    let exhausted: [String: BudgetStanding]
    let now: Double
    var free: [String: [String: Int]]
    var nsUsed: [String: Int] = [:]
    var blockers: [GangAdmission.Blocker] = []
    var position = 0
    /// The latest in order of the candidates considered: a new one continues the pass if it sorts after it.
    private(set) var last: Candidate?
    /// Eligible nodes by placement: jobs of a sweep share one placement, and node labels are read once.
    private var eligibleByPlacement: [Eligibility: [String]] = [:]

    struct Eligibility: Hashable {
        var placement: GPUPlacement
        var tolerations: [JSONValue]
        var nodeSelector: [String: String]
    }

    public init(nodes: [JSONValue], used: [String: [String: Int]], platform: PlatformConfigSpec,
                exhausted: [String: BudgetStanding] = [:], now: Double) {
        self.nodes = nodes
        self.platform = platform
        self.exhausted = exhausted
        self.now = now
        self.free = GangAdmission.freeCapacity(nodes: nodes, used: used)
    }

    /// An admitted job: holds its quota, and capacity for its pods not yet bound to a node.
    mutating func hold(_ c: Candidate) {
        nsUsed[c.job.namespace, default: 0] += c.gpus
        let unbound = max(0, c.job.spec.effectiveReplicas - c.boundPods)
        _ = GangAdmission.place(c, replicas: unbound, eligible: eligible(c), free: &free)
    }

    /// The next queued job in order: admitted when its whole gang fits the quota and the free capacity left by
    /// every job before it, unless a job starved past the bound waits for the same resources.
    mutating func consider(_ c: Candidate) -> GangAdmission.Decision {
        if last.map({ GangAdmission.order($0, c) }) ?? true { last = c }
        // Before the queue: a job its budget holds back takes no place in it and holds back nobody.
        if c.gpus > 0, let budget = exhausted[c.job.namespace] { return .budgetExhausted(message: budget.message) }
        position += 1
        let eligible = eligible(c)
        if let blocker = blockers.first(where: { $0.holdsBack(c, eligible: eligible) }) {
            return .queued(position: position, reason: "waiting behind \(blocker.name), which has waited longer than \(Int(GangAdmission.starvationBound))s for the same \(blocker.what)")
        }
        let used = nsUsed[c.job.namespace, default: 0]
        if let quota = platform.quota(for: c.job.namespace), used + c.gpus > quota {
            if GangAdmission.starved(c, now: now) { blockers.append(.init(c, scope: .quota(c.job.namespace))) }
            return .queued(position: position, reason: "namespace GPU quota: \(used) of \(quota) in use, this job needs \(c.gpus)")
        }
        var trial = free
        if GangAdmission.place(c, replicas: c.job.spec.effectiveReplicas, eligible: eligible, free: &trial) {
            free = trial
            nsUsed[c.job.namespace, default: 0] += c.gpus
            position -= 1
            return .admitted
        }
        if GangAdmission.starved(c, now: now), let name = c.placement.resourceName {
            blockers.append(.init(c, scope: .pool(resource: name, nodes: Set(eligible))))
        }
        let resource = c.placement.resourceName ?? "GPU"
        return .queued(position: position, reason: "not enough free \(resource): the gang needs \(c.job.spec.effectiveReplicas) × \(c.placement.countPerPod) on matching nodes")
    }

    /// Every job considered so far was admitted (or held back by its budget, which holds nobody back).
    var nobodyWaits: Bool { position == 0 && blockers.isEmpty }

    mutating func eligible(_ c: Candidate) -> [String] {
        guard c.placement.resourceName != nil else { return [] }
        let key = Eligibility(placement: c.placement, tolerations: c.tolerations, nodeSelector: c.job.spec.nodeSelector ?? [:])
        if let known = eligibleByPlacement[key] { return known }
        let names = GangAdmission.eligibleNodes(c, nodes: nodes)
        eligibleByPlacement[key] = names
        return names
    }
}
