import KubeCore

/// The simulated kube-scheduler: pure, one pass over the pending pods.
///
/// Filters run in kube-scheduler's default order (pkg/scheduler/apis/config/v1/default_plugins.go):
/// NodeUnschedulable, TaintToleration, NodeAffinity, NodeResourcesFit; a node reports the reasons of the first
/// filter it fails, as the framework stops at the first failing plugin. The failure message reproduces
/// `FitError.Error()` (pkg/scheduler/framework/types.go): `0/N nodes are available: <count> <reason>, …` with the
/// histogram sorted as strings, then the DefaultPreemption post-filter message, e.g.
/// `0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}.
/// preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not
/// helpful for scheduling.` (format checked against real reports in NVIDIA/k8s-device-plugin#421, #430 and
/// Project-HAMi/HAMi#1527). Taint, affinity and cordon failures are "unresolvable" (preemption cannot help);
/// resource shortfalls are not, and since the simulation does not preempt they say "No preemption victims".
///
/// Scoring, with the default profile's plugin weights: TaintToleration (weight 3) counts the `PreferNoSchedule`
/// taints the pod does not tolerate, normalised to 0–100 reversed (fewer is better); NodeAffinity (weight 2)
/// sums the weights of the preferred node-affinity terms a node matches, normalised to 0–100; NodeResourcesFit
/// LeastAllocated (weight 1) over cpu, memory and every extended resource the pod requests, with the scheduler's
/// non-zero defaults (100m cpu, 200Mi memory) for pods that request nothing. Ties go to the node whose name
/// sorts first, so the choice is deterministic.
enum Scheduler {
    struct Binding: Sendable, Hashable {
        var pod: ObjectKey
        var node: String
    }

    struct Unschedulable: Sendable, Hashable {
        var pod: ObjectKey
        var message: String
    }

    struct Result: Sendable, Hashable {
        var bindings: [Binding] = []
        var unschedulable: [Unschedulable] = []
    }

    /// One node's verdict for a pod: the reasons it is filtered out, and whether preemption could help.
    struct NodeVerdict: Sendable, Hashable {
        var reasons: [String]
        var resolvable: Bool
    }

    /// Schedules `pending` (pods without `spec.nodeName`) in priority order, then creation time, then name;
    /// each binding counts against the node for the pods after it. `bound` are the pods already on nodes;
    /// `requests` reads a pod's requests (the driver passes a cache: pods' requests do not change).
    static func schedule(pending: [JSONValue], nodes: [JSONValue], bound: [JSONValue],
                         requests: (JSONValue) -> ResourceList = PodRequests.of) -> Result {
        let sortedJSON = nodes.filter { $0.name != nil }.sorted { ($0.name ?? "") < ($1.name ?? "") }
        // Positions in `usage` are positions in `sortedNodes`: both keep every named node in name order.
        var usage = NodeUsage(nodes: sortedJSON, pods: bound, requests: requests)
        var result = Result()
        // Sort keys read once per pod, not on every comparison (10,000 pending pods made the sort's lookups a
        // third of an idle server's CPU).
        let ordered = pending.map { pod in
            (pod: pod, priority: pod[path: "spec", "priority"]?.intValue ?? 0, created: pod.creationTimestamp ?? "", key: pod.objectKey.description)
        }.sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            if a.created != b.created { return a.created < b.created }
            return a.key < b.key
        }.map(\.pod)
        let sortedNodes = sortedJSON.compactMap(NodeFacts.init)
        // What does not depend on the pods already placed (cordon, taints, affinity and their scores) is the
        // same for every pod with the same placement constraints: judged once per node for each such shape,
        // not once per pod and node (a burst of identical pods on hundreds of nodes).
        var fixedByShape: [JSONValue: [FixedFit]] = [:]
        for pod in ordered {
            let shape = placementShape(pod)
            let fixed = fixedByShape[shape] ?? sortedNodes.map { fixedFit(pod: pod, node: $0) }
            fixedByShape[shape] = fixed
            let demand = PodDemand(requests(pod))
            switch place(pod: pod, demand: demand, fixed: fixed, usage: usage) {
            case .success(let position):
                usage.add(demand, at: position)
                result.bindings.append(Binding(pod: pod.objectKey, node: usage.nodes[position].name))
            case .failure(let failure):
                result.unschedulable.append(Unschedulable(pod: pod.objectKey, message: failure.message))
            }
        }
        return result
    }

    struct FitFailure: Error, Sendable { var message: String }

    /// A node as the filters read it, parsed once per pass.
    struct NodeFacts {
        var name: String
        var node: JSONValue
        var taints: [Taint]
        var unschedulable: Bool

        init?(_ node: JSONValue) {
            guard let name = node.name else { return nil }
            self.name = name
            self.node = node
            taints = NodeMatching.effectiveTaints(node: node)
            unschedulable = NodeMatching.isUnschedulable(node)
        }
    }

    /// A node's verdict from the filters that do not count resources, and its affinity and taint scores.
    struct FixedFit {
        var verdict: NodeVerdict?
        var affinity: Int64 = 0
        var intolerable: Int64 = 0
    }

    /// The fields the fixed filters and scores read.
    static func placementShape(_ pod: JSONValue) -> JSONValue {
        let spec = pod["spec"]
        return [spec?["tolerations"] ?? .null, spec?["nodeSelector"] ?? .null, spec?["affinity"] ?? .null]
    }

    static func fixedFit(pod: JSONValue, node: NodeFacts) -> FixedFit {
        let tolerations = pod[path: "spec", "tolerations"]?.arrayValue ?? []
        if node.unschedulable {
            let cordon = Taint(key: "node.kubernetes.io/unschedulable", effect: "NoSchedule")
            if !tolerations.contains(where: { NodeMatching.tolerates($0, cordon) }) {
                return FixedFit(verdict: NodeVerdict(reasons: ["node(s) were unschedulable"], resolvable: false))
            }
        }
        if let taint = NodeMatching.untoleratedTaint(pod: pod, taints: node.taints) {
            return FixedFit(verdict: NodeVerdict(reasons: ["node(s) had untolerated taint {\(taint.key): \(taint.value)}"], resolvable: false))
        }
        if !NodeMatching.matchesNodeSelectorAndAffinity(pod: pod, node: node.node) {
            return FixedFit(verdict: NodeVerdict(reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false))
        }
        return FixedFit(verdict: nil, affinity: NodeMatching.preferredAffinityWeight(pod: pod, node: node.node),
                        intolerable: NodeMatching.intolerablePreferNoSchedule(pod: pod, node: node.node))
    }

    /// The position in `usage` of the node the pod goes to; `fixed` holds a verdict for each of `usage`'s nodes.
    static func place(pod: JSONValue, demand: PodDemand, fixed: [FixedFit], usage: NodeUsage) -> Swift.Result<Int, FitFailure> {
        if usage.nodes.isEmpty { return .failure(FitFailure(message: "no nodes available to schedule pods")) }
        var verdicts: [NodeVerdict] = []
        var feasible: [(position: Int, leastAllocated: Int64, affinity: Int64, intolerable: Int64)] = []
        for (position, fit) in fixed.enumerated() {
            let node = usage.nodes[position]
            if let verdict = fit.verdict ?? resourceVerdict(demand, node: node) {
                verdicts.append(verdict)
                continue
            }
            feasible.append((position, leastAllocatedScore(demand, node: node), fit.affinity, fit.intolerable))
        }
        let maxAffinity = feasible.map(\.affinity).max() ?? 0
        let maxIntolerable = feasible.map(\.intolerable).max() ?? 0
        var best: (position: Int, score: Int64)?
        for node in feasible {
            let affinity = maxAffinity > 0 ? node.affinity * 100 / maxAffinity : 0
            let taints = maxIntolerable > 0 ? 100 - node.intolerable * 100 / maxIntolerable : 100
            let score = 3 * taints + 2 * affinity + node.leastAllocated
            if best == nil || score > (best?.score ?? 0) { best = (node.position, score) }
        }
        if let best { return .success(best.position) }
        return .failure(FitFailure(message: fitErrorMessage(pod: pod, nodeCount: usage.nodes.count, verdicts: verdicts)))
    }

    /// `nil` when the node passes every filter.
    static func filter(pod: JSONValue, requests: ResourceList, node: JSONValue, usage: NodeUsage) -> NodeVerdict? {
        guard let facts = NodeFacts(node), let position = usage.position(of: facts.name) else { return nil }
        return fixedFit(pod: pod, node: facts).verdict ?? resourceVerdict(PodDemand(requests), node: usage.nodes[position])
    }

    /// NodeResourcesFit: `nil` when the pod's requests fit beside what the node already holds.
    static func resourceVerdict(_ demand: PodDemand, node: NodeUsage.Node) -> NodeVerdict? {
        var reasons: [String] = []
        var resolvable = true
        if node.pods + 1 > (node.allocatable["pods"] ?? 0) { reasons.append("Too many pods") }
        for (resource, want) in demand.fitOrder {
            let have = node.allocatable[resource] ?? 0
            if want > have - (node.requested[resource] ?? 0) {
                reasons.append("Insufficient \(resource)")
                // More than the node could ever offer: no eviction helps (NodeResourcesFit marks it Unresolvable).
                if want > have { resolvable = false }
            }
        }
        return reasons.isEmpty ? nil : NodeVerdict(reasons: reasons, resolvable: resolvable)
    }

    static func fitErrorMessage(pod: JSONValue, nodeCount: Int, verdicts: [NodeVerdict]) -> String {
        var histogram: [String: Int] = [:]
        for v in verdicts { for r in v.reasons { histogram[r, default: 0] += 1 } }
        var message = "0/\(nodeCount) nodes are available"
        let filterMsg = histogram.map { "\($0.value) \($0.key)" }.sorted()
        message += ": " + filterMsg.joined(separator: ", ") + "."
        if pod[path: "spec", "preemptionPolicy"]?.stringValue == "Never" {
            return message + " preemption: not eligible due to preemptionPolicy=Never."
        }
        let helpless = verdicts.filter { !$0.resolvable }.count
        let noVictims = verdicts.count - helpless
        var post: [String] = []
        if noVictims > 0 { post.append("\(noVictims) No preemption victims found for incoming pod") }
        if helpless > 0 { post.append("\(helpless) Preemption is not helpful for scheduling") }
        return message + " preemption: 0/\(nodeCount) nodes are available: " + post.sorted().joined(separator: ", ") + "."
    }

    /// kube-scheduler's LeastAllocated: mean over resources of free share × 100 after placing the pod.
    static func leastAllocatedScore(_ demand: PodDemand, node: NodeUsage.Node) -> Int64 {
        var total: Int64 = 0
        for (resource, want) in demand.scored {
            let cap = node.allocatable[resource] ?? 0
            guard cap > 0 else { continue }
            let after = (node.nonZeroRequested[resource] ?? 0) + want
            total += max(0, cap - after) * 100 / cap
        }
        return demand.scored.isEmpty ? 0 : total / Int64(demand.scored.count)
    }
}
