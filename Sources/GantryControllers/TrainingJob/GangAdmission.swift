import GantryAPI
import KubeCore

/// Decides which queued TrainingJobs may start: a job is admitted only when its whole gang fits both the
/// namespace's GPU quota and the free GPUs of schedulable nodes, all replicas at once, so two distributed
/// jobs can never each hold half of what they need (the deadlock Kueue's all-or-nothing admission avoids).
///
/// Order: priority (high first), then creation time, then name. Smaller jobs may start ahead of a larger
/// one that does not fit (backfill) until that one has waited `starvationBound`; from then on nothing
/// behind it is admitted until it is. Pure: the same observation gives the same answer in every replica.
public enum GangAdmission {
    public enum Decision: Sendable, Hashable {
        case admitted
        case queued(position: Int, reason: String)
        /// Its namespace used its GPU-hour budget this month: waits, outside the queue's order, until the budget is
        /// raised or the month ends.
        case budgetExhausted(message: String)
    }

    public struct Candidate: Sendable {
        public var job: TrainingJob
        public var placement: GPUPlacement
        public var tolerations: [JSONValue]
        /// Already admitted (or running): holds its quota and capacity.
        public var admitted: Bool
        /// Pods of this job already bound to nodes (their GPUs are counted on the node already).
        public var boundPods: Int
        public var waitingSince: Double?
        public init(job: TrainingJob, placement: GPUPlacement, tolerations: [JSONValue], admitted: Bool, boundPods: Int, waitingSince: Double?) {
            self.job = job
            self.placement = placement
            self.tolerations = tolerations
            self.admitted = admitted
            self.boundPods = boundPods
            self.waitingSince = waitingSince
        }
        var gpus: Int { placement.countPerPod * job.spec.effectiveReplicas }
    }

    public static let starvationBound: Double = 600

    public static func decide(candidates: [Candidate], nodes: [JSONValue], usedGPUs: [String: [String: Int]],
                              platform: PlatformConfigSpec, exhausted: [String: BudgetStanding] = [:], now: Double) -> [ObjectKey: Decision] {
        var pass = AdmissionPass(nodes: nodes, used: usedGPUs, platform: platform, exhausted: exhausted, now: now)
        var decisions: [ObjectKey: Decision] = [:]
        // Admitted jobs first: they hold quota, and their not-yet-bound pods hold capacity.
        for c in candidates where c.admitted {
            pass.hold(c)
            decisions[c.job.key] = .admitted
        }
        for c in candidates.filter({ !$0.admitted }).sorted(by: order) {
            decisions[c.job.key] = pass.consider(c)
        }
        return decisions
    }

    /// A job starved past the bound holds back only the jobs competing for what it waits for: the same
    /// namespace quota, or the same GPU resource on overlapping nodes. CPU-only jobs are never held back.
    struct Blocker {
        enum Scope { case quota(String), pool(resource: String, nodes: Set<String>) }
        var name: String
        var scope: Scope
        init(_ c: Candidate, scope: Scope) {
            name = "\(c.job.namespace)/\(c.job.name)"
            self.scope = scope
        }
        var what: String {
            switch scope {
            case .quota(let namespace): return "GPU quota of namespace \(namespace)"
            case .pool(let resource, _): return "\(resource) nodes"
            }
        }
        func holdsBack(_ c: Candidate, eligible: [String]) -> Bool {
            guard c.gpus > 0 else { return false }
            switch scope {
            case .quota(let namespace): return c.job.namespace == namespace
            case .pool(let resource, let pool):
                return c.placement.resourceName == resource && !pool.isDisjoint(with: eligible)
            }
        }
    }

    static func starved(_ c: Candidate, now: Double) -> Bool {
        guard let since = c.waitingSince else { return false }
        return now - since >= starvationBound
    }

    static func order(_ a: Candidate, _ b: Candidate) -> Bool {
        let pa = a.job.spec.priority ?? 0, pb = b.job.spec.priority ?? 0
        if pa != pb { return pa > pb }
        let ta = a.job.creationTimestamp ?? "", tb = b.job.creationTimestamp ?? ""
        if ta != tb { return ta < tb }
        return a.job.key < b.job.key
    }

    /// Free count of each extended resource per schedulable node.
    static func freeCapacity(nodes: [JSONValue], used: [String: [String: Int]]) -> [String: [String: Int]] {
        var free: [String: [String: Int]] = [:]
        for json in nodes {
            let node = Node(json: json)
            guard let name = node.name, SchedulingRules.schedulable(node) else { continue }
            var resources = SchedulingRules.extendedResources(of: node)
            for (resource, total) in resources { resources[resource] = total - (used[name]?[resource] ?? 0) }
            free[name] = resources
        }
        return free
    }

    /// Places `replicas` pods best-fit (fewest free GPUs that still fit) on `eligible` nodes, subtracting from `free`.
    static func place(_ c: Candidate, replicas: Int, eligible: [String], free: inout [String: [String: Int]]) -> Bool {
        guard replicas > 0, let resource = c.placement.resourceName, c.placement.countPerPod > 0 else { return true }
        return bestFit(replicas, of: c.placement.countPerPod, resource, on: eligible, free: &free)
    }

    /// Places `replicas` pods of `need` units of `resource` each, best-fit (the node with the fewest free units
    /// that still fit, ties to the first name), on `eligible` nodes, subtracting from `free`; false when one
    /// does not fit (`free` then holds the pods placed before it).
    static func bestFit(_ replicas: Int, of need: Int, _ resource: String, on eligible: [String], free: inout [String: [String: Int]]) -> Bool {
        for _ in 0..<max(replicas, 0) {
            // One pass per replica, one lookup per node: this runs for every queued job in a full computation.
            var best: (units: Int, name: String)?
            for name in eligible {
                guard let units = free[name]?[resource], units >= need else { continue }
                if let known = best, (known.units, known.name) <= (units, name) { continue }
                best = (units, name)
            }
            guard let node = best?.name else { return false }
            free[node]?[resource, default: 0] -= need
        }
        return true
    }

    /// Nodes one replica of the candidate could ever run on: GPU labels and capacity, tolerations, nodeSelector.
    static func eligibleNodes(_ c: Candidate, nodes: [JSONValue]) -> [String] {
        let constraints = c.placement.constraints(nodeSelector: c.job.spec.nodeSelector ?? [:], tolerations: c.tolerations)
        return nodes.compactMap { json in
            let node = Node(json: json)
            return constraints.canEverRun(on: node) ? node.name : nil
        }
    }
}
