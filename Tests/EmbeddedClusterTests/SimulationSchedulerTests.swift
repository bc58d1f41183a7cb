import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

/// Test fixtures shared by the simulation suites.
enum SimFixtures {
    static let now = Date(timeIntervalSince1970: 1_780_000_000)

    static func nodes(_ spec: String) -> [JSONValue] {
        (try? NodeFactory.nodes(spec: spec, now: now)) ?? []
    }

    static func pod(
        _ name: String, namespace: String = "default", requests: JSONValue = [:], tolerations: [JSONValue] = [],
        nodeSelector: JSONValue? = nil, affinity: JSONValue? = nil, nodeName: String? = nil, created: String = "2026-01-01T00:00:00Z",
        image: String = "busybox", annotations: [String: String] = [:], labels: [String: String] = [:]
    ) -> JSONValue {
        var pod: JSONValue = [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "uid": .string("uid-\(name)"),
                         "creationTimestamp": .string(created)],
            "spec": ["containers": [["name": "main", "image": .string(image), "resources": ["requests": requests]]]],
        ]
        if !tolerations.isEmpty { pod[path: "spec", "tolerations"] = .array(tolerations) }
        if let nodeSelector { pod[path: "spec", "nodeSelector"] = nodeSelector }
        if let affinity { pod[path: "spec", "affinity"] = affinity }
        if let nodeName { pod[path: "spec", "nodeName"] = .string(nodeName) }
        pod.annotations = annotations
        pod.labels = labels
        return pod
    }

    static let gpuToleration: JSONValue = ["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]
}

@Suite struct SimulationSchedulerTests {
    let cluster = SimFixtures.nodes("2x{gpu: 8, product: A100}, 1x{cpu: 16}")

    @Test func gpuPodMessageMatchesKubeScheduler() {
        let pod = SimFixtures.pod("big", requests: ["nvidia.com/gpu": "16"], tolerations: [SimFixtures.gpuToleration])
        let result = Scheduler.schedule(pending: [pod], nodes: cluster, bound: [])
        #expect(result.bindings.isEmpty)
        #expect(result.unschedulable.first?.message ==
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. "
            + "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
    }

    @Test func untoleratedTaintAndShortfall() {
        // 8 GPUs fit a node in size, but both GPU nodes are full; the CPU node has no GPUs at all.
        let full = ["gpu-a100-0", "gpu-a100-1"].map {
            SimFixtures.pod("hog-\($0)", requests: ["nvidia.com/gpu": 8], tolerations: [SimFixtures.gpuToleration], nodeName: $0)
        }
        let untolerant = SimFixtures.pod("p", requests: ["nvidia.com/gpu": 1])
        let r1 = Scheduler.schedule(pending: [untolerant], nodes: cluster, bound: full)
        #expect(r1.unschedulable.first?.message ==
            "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 2 node(s) had untolerated taint {nvidia.com/gpu: present}. "
            + "preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")
        let tolerant = SimFixtures.pod("q", requests: ["nvidia.com/gpu": 1], tolerations: [SimFixtures.gpuToleration])
        let r2 = Scheduler.schedule(pending: [tolerant], nodes: cluster, bound: full)
        #expect(r2.unschedulable.first?.message ==
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. "
            + "preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod.")
    }

    @Test func bindsAndCountsEarlierBindings() {
        let pods = (0..<3).map { SimFixtures.pod("w\($0)", requests: ["nvidia.com/gpu": 6, "cpu": "1"], tolerations: [SimFixtures.gpuToleration]) }
        let r = Scheduler.schedule(pending: pods, nodes: cluster, bound: [])
        #expect(r.bindings.map(\.node) == ["gpu-a100-0", "gpu-a100-1"])
        #expect(r.unschedulable.map(\.pod.name) == ["w2"])
    }

    @Test func leastAllocatedSpreadsWithNameTieBreak() {
        let pods = (0..<2).map { SimFixtures.pod("c\($0)", requests: ["cpu": "1"], nodeSelector: ["kubernetes.io/os": "linux"]) }
        let nodes = SimFixtures.nodes("2x{cpu: 8}")
        let r = Scheduler.schedule(pending: pods, nodes: nodes, bound: [])
        #expect(r.bindings.map(\.node) == ["cpu-0", "cpu-1"])
    }

    @Test func nodeSelectorAndAffinity() {
        let bySelector = SimFixtures.pod("s", nodeSelector: ["nvidia.com/gpu.product": "H100"])
        let r = Scheduler.schedule(pending: [bySelector], nodes: cluster, bound: [])
        #expect(r.unschedulable.first?.message.hasPrefix(
            "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint") == true)
        let affinity: JSONValue = ["nodeAffinity": ["requiredDuringSchedulingIgnoredDuringExecution": ["nodeSelectorTerms": [
            ["matchExpressions": [["key": "nvidia.com/gpu.count", "operator": "Gt", "values": ["4"]],
                                  ["key": "spot", "operator": "DoesNotExist"]]],
        ]]]]
        let r2 = Scheduler.schedule(pending: [SimFixtures.pod("a", tolerations: [SimFixtures.gpuToleration], affinity: affinity)],
                                    nodes: cluster, bound: [])
        #expect(r2.bindings.first?.node == "gpu-a100-0")
    }

    /// Preferred node affinity outweighs spreading (NodeAffinity weight 2, LeastAllocated weight 1), and the
    /// heavier matching preference wins among several.
    @Test func preferredNodeAffinityScores() {
        func prefers(_ terms: [(Int64, String)]) -> JSONValue {
            ["nodeAffinity": ["preferredDuringSchedulingIgnoredDuringExecution": .array(terms.map { weight, node in
                ["weight": .int(weight), "preference": ["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]]
            })]]
        }
        let nodes = SimFixtures.nodes("3x{cpu: 8}")
        let busy = SimFixtures.pod("busy", requests: ["cpu": "4"], nodeName: "cpu-2")
        let pod = SimFixtures.pod("p", requests: ["cpu": "1"], affinity: prefers([(10, "cpu-1"), (80, "cpu-2")]))
        #expect(Scheduler.schedule(pending: [pod], nodes: nodes, bound: [busy]).bindings.first?.node == "cpu-2")
        let light = SimFixtures.pod("q", requests: ["cpu": "1"], affinity: prefers([(10, "cpu-1")]))
        #expect(Scheduler.schedule(pending: [light], nodes: nodes, bound: [busy]).bindings.first?.node == "cpu-1")
        // A preference for a node that does not fit changes nothing.
        let unfit = SimFixtures.pod("r", requests: ["cpu": "6"], affinity: prefers([(100, "cpu-2")]))
        #expect(Scheduler.schedule(pending: [unfit], nodes: nodes, bound: [busy]).bindings.first?.node == "cpu-0")
    }

    /// PreferNoSchedule steers pods away unless they tolerate it (TaintToleration ×3).
    @Test func preferNoScheduleTaintsAreAvoided() {
        var nodes = SimFixtures.nodes("2x{cpu: 8}")
        nodes[0][path: "spec", "taints"] = [["key": "maintenance", "value": "soon", "effect": "PreferNoSchedule"]]
        let pod = SimFixtures.pod("p", requests: ["cpu": "1"])
        #expect(Scheduler.schedule(pending: [pod], nodes: nodes, bound: []).bindings.first?.node == "cpu-1")
        let tolerant = SimFixtures.pod("t", requests: ["cpu": "1"], tolerations: [["key": "maintenance", "operator": "Exists"]])
        #expect(Scheduler.schedule(pending: [tolerant], nodes: nodes, bound: []).bindings.first?.node == "cpu-0")
    }

    @Test func requirementOperators() {
        let labels = ["a": "1", "b": "x"]
        func m(_ op: String, _ key: String, _ values: [String] = []) -> Bool {
            NodeMatching.matches(requirement: ["key": .string(key), "operator": .string(op), "values": .array(values.map(JSONValue.string))],
                                 value: labels[key])
        }
        #expect(m("In", "b", ["x", "y"]) && !m("In", "c", ["x"]))
        #expect(m("NotIn", "b", ["y"]) && m("NotIn", "c", ["x"]) && !m("NotIn", "b", ["x"]))
        #expect(m("Exists", "a") && m("DoesNotExist", "c"))
        #expect(m("Gt", "a", ["0"]) && m("Lt", "a", ["2"]) && !m("Gt", "b", ["0"]))
        #expect(!m("Bogus", "a"))
    }

    @Test func tolerationSemantics() {
        let t = Taint(key: "k", value: "v", effect: "NoSchedule")
        #expect(NodeMatching.tolerates(["key": "k", "value": "v"], t))
        #expect(NodeMatching.tolerates(["key": "k", "operator": "Equal", "value": "v", "effect": "NoSchedule"], t))
        #expect(!NodeMatching.tolerates(["key": "k", "value": "w"], t))
        #expect(NodeMatching.tolerates(["operator": "Exists"], t))
        #expect(!NodeMatching.tolerates(["key": "k", "operator": "Exists", "effect": "NoExecute"], t))
    }

    @Test func cordonedAndNotReadyNodes() {
        var nodes = SimFixtures.nodes("2x{cpu: 4}")
        nodes[0][path: "spec", "unschedulable"] = true
        nodes[1][path: "status", "conditions"] = [["type": "Ready", "status": "False"]]
        let r = Scheduler.schedule(pending: [SimFixtures.pod("p")], nodes: nodes, bound: [])
        #expect(r.unschedulable.first?.message ==
            "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. "
            + "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.")
    }

    @Test func requestsUseInitContainerMaxAndLimits() {
        let pod: JSONValue = ["spec": [
            "containers": [["name": "a", "resources": ["requests": ["cpu": "1"]]],
                           ["name": "b", "resources": ["limits": ["cpu": "500m", "nvidia.com/gpu": 2]]]],
            "initContainers": [["name": "i", "resources": ["requests": ["cpu": "2", "memory": "1Gi"]]]],
        ]]
        let r = PodRequests.of(pod)
        #expect(r["cpu"]?.description == "2")
        #expect(r["memory"]?.description == "1Gi")
        #expect(r["nvidia.com/gpu"]?.description == "2")
    }

    @Test func tooManyPodsAndNoNodes() {
        let nodes = SimFixtures.nodes("{cpu: 4, pods: 1}")
        let bound = [SimFixtures.pod("x", nodeName: "cpu-0")]
        let r = Scheduler.schedule(pending: [SimFixtures.pod("p")], nodes: nodes, bound: bound)
        #expect(r.unschedulable.first?.message.hasPrefix("0/1 nodes are available: 1 Too many pods.") == true)
        #expect(Scheduler.schedule(pending: [SimFixtures.pod("p")], nodes: [], bound: []).unschedulable.first?.message
            == "no nodes available to schedule pods")
    }

    @Test func preemptionPolicyNever() {
        var pod = SimFixtures.pod("p", requests: ["cpu": "100"])
        pod[path: "spec", "preemptionPolicy"] = "Never"
        let r = Scheduler.schedule(pending: [pod], nodes: SimFixtures.nodes("{cpu: 4}"), bound: [])
        #expect(r.unschedulable.first?.message == "0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.")
    }
}
