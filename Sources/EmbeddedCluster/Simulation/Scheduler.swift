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
        var usage = NodeUsage(nodes: nodes, pods: bound, requests: requests)
        var result = Result()
        let ordered = pending.sorted { a, b in
            let pa = a[path: "spec", "priority"]?.intValue ?? 0, pb = b[path: "spec", "priority"]?.intValue ?? 0
            if pa != pb { return pa > pb }
            let ca = a.creationTimestamp ?? "", cb = b.creationTimestamp ?? ""
            if ca != cb { return ca < cb }
            return a.objectKey < b.objectKey
        }
        let sortedNodes = nodes.sorted { ($0.name ?? "") < ($1.name ?? "") }.compactMap(NodeFacts.init)
        // What does not depend on the pods already placed (cordon, taints, affinity and their scores) is the
        // same for every pod with the same placement constraints: judged once per node for each such shape,
        // not once per pod and node (a burst of identical pods on hundreds of nodes).
        var fixedByShape: [JSONValue: [FixedFit]] = [:]
        for pod in ordered {
            let shape = placementShape(pod)
            let fixed = fixedByShape[shape] ?? sortedNodes.map { fixedFit(pod: pod, node: $0) }
            fixedByShape[shape] = fixed
            let podRequests = requests(pod)
            switch place(pod: pod, requests: podRequests, nodes: sortedNodes, fixed: fixed, usage: usage) {
            case .success(let node):
                usage.add(requests: podRequests, to: node)
                result.bindings.append(Binding(pod: pod.objectKey, node: node))
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

    static func place(pod: JSONValue, requests: ResourceList, nodes: [NodeFacts], fixed: [FixedFit],
                      usage: NodeUsage) -> Swift.Result<String, FitFailure> {
        if nodes.isEmpty { return .failure(FitFailure(message: "no nodes available to schedule pods")) }
        let scored = NodeUsage.nonZero(requests)
        var verdicts: [NodeVerdict] = []
        var feasible: [(name: String, leastAllocated: Int64, affinity: Int64, intolerable: Int64)] = []
        for (node, fit) in zip(nodes, fixed) {
            if let verdict = fit.verdict ?? resourceVerdict(requests: requests, node: node.name, usage: usage) {
                verdicts.append(verdict)
                continue
            }
            feasible.append((node.name, leastAllocatedScore(nonZeroRequests: scored, node: node.name, usage: usage),
                             fit.affinity, fit.intolerable))
        }
        let maxAffinity = feasible.map(\.affinity).max() ?? 0
        let maxIntolerable = feasible.map(\.intolerable).max() ?? 0
        var best: (name: String, score: Int64)?
        for node in feasible {
            let affinity = maxAffinity > 0 ? node.affinity * 100 / maxAffinity : 0
            let taints = maxIntolerable > 0 ? 100 - node.intolerable * 100 / maxIntolerable : 100
            let score = 3 * taints + 2 * affinity + node.leastAllocated
            if best == nil || score > (best?.score ?? 0) { best = (node.name, score) }
        }
        if let best { return .success(best.name) }
        return .failure(FitFailure(message: fitErrorMessage(pod: pod, nodeCount: nodes.count, verdicts: verdicts)))
    }

    /// `nil` when the node passes every filter.
    static func filter(pod: JSONValue, requests: ResourceList, node: JSONValue, usage: NodeUsage) -> NodeVerdict? {
        guard let facts = NodeFacts(node) else { return nil }
        return fixedFit(pod: pod, node: facts).verdict ?? resourceVerdict(requests: requests, node: facts.name, usage: usage)
    }

    /// NodeResourcesFit: `nil` when the pod's requests fit beside what the node already holds.
    static func resourceVerdict(requests: ResourceList, node name: String, usage: NodeUsage) -> NodeVerdict? {
        let allocatable = usage.allocatable[name] ?? [:]
        let used = usage.requested[name] ?? [:]
        var reasons: [String] = []
        var resolvable = true
        if Int64(usage.podCount[name] ?? 0) + 1 > (allocatable["pods"]?.intValue ?? 0) { reasons.append("Too many pods") }
        // Resources in the order NodeResourcesFit checks them: cpu, memory, ephemeral-storage, then extended ones.
        let fixed = ["cpu", "memory", "ephemeral-storage"]
        let names = fixed.filter { requests[$0] != nil } + requests.keys.filter { !fixed.contains($0) && $0 != "pods" }.sorted()
        for resource in names {
            guard let want = requests[resource], want > .zero else { continue }
            let have = allocatable[resource] ?? .zero
            if want + (used[resource] ?? .zero) > have {
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
    static func leastAllocatedScore(nonZeroRequests: ResourceList, node: String, usage: NodeUsage) -> Int64 {
        let allocatable = usage.allocatable[node] ?? [:]
        let used = usage.nonZeroRequested[node] ?? [:]
        let scored = nonZeroRequests.filter { $0.key != "pods" && $0.key != "ephemeral-storage" }
        var total: Int64 = 0
        for (resource, want) in scored {
            let cap = allocatable[resource]?.milliValue ?? 0
            guard cap > 0 else { continue }
            let after = (used[resource]?.milliValue ?? 0) + want.milliValue
            total += max(0, cap - after) * 100 / cap
        }
        return scored.isEmpty ? 0 : total / Int64(scored.count)
    }
}
