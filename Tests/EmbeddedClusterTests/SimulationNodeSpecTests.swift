import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

@Suite struct SimulationQuantityTests {
    @Test(arguments: [
        ("500m", "500m"), ("2", "2"), ("1Gi", "1Gi"), ("640Gi", "640Gi"), ("1e3", "1e3"), ("128974848", "128974848"),
        ("1024Mi", "1Gi"), ("1000", "1k"), ("0.5", "500m"), ("1.5Gi", "1536Mi"), ("100M", "100M"), ("0", "0"),
    ])
    func roundTrips(input: String, canonical: String) throws {
        #expect(try ResourceQuantity.parse(input).description == canonical)
    }

    @Test func exactValues() throws {
        #expect(try ResourceQuantity.parse("500m").milliValue == 500)
        #expect(try ResourceQuantity.parse("1Gi").intValue == 1_073_741_824)
        #expect(try ResourceQuantity.parse("1e3") == ResourceQuantity.parse("1k"))
        #expect(try ResourceQuantity.parse("128974848") == ResourceQuantity.parse("123Mi"))
        #expect(try ResourceQuantity.parse("0.1") + ResourceQuantity.parse("0.2") == ResourceQuantity.parse("300m"))
        #expect(try ResourceQuantity.parse("1Ki") > ResourceQuantity.parse("1k"))
    }

    @Test(arguments: ["", "abc", "1.2.3", "5 Gi", "Gi", "1Qi", "--1"])
    func rejectsGarbage(input: String) {
        #expect(throws: ResourceQuantity.ParseError.self) { try ResourceQuantity.parse(input) }
    }
}

@Suite struct SimulationNodeSpecTests {
    let now = Date(timeIntervalSince1970: 1_780_000_000)

    @Test func parsesPoolsWithCounts() throws {
        let pools = try NodePoolSpec.parseList("4x{gpu: 8, product: A100, memory: 640Gi}, 2x{cpu: 32}")
        #expect(pools.count == 2)
        #expect(pools[0].count == 4 && pools[0].gpu == 8 && pools[0].memory?.description == "640Gi")
        #expect(pools[1].count == 2 && pools[1].cpu?.description == "32")
    }

    @Test func gpuNodeHasCapacityLabelsAndDefaultTaint() throws {
        let nodes = try NodeFactory.nodes(spec: "2x{gpu: 8, product: H100, gpuMemory: 81920, zone: us-east-1a}", now: now)
        #expect(nodes.map(\.name) == ["gpu-h100-0", "gpu-h100-1"])
        let n = nodes[0]
        #expect(n[path: "status", "capacity", "nvidia.com/gpu"] == "8")
        #expect(n[path: "status", "allocatable", "pods"] == "110")
        #expect(n[path: "status", "capacity", "cpu"] == "96")
        #expect(n.labels["nvidia.com/gpu.product"] == "H100")
        #expect(n.labels["nvidia.com/gpu.memory"] == "81920")
        #expect(n.labels["nvidia.com/gpu.count"] == "8")
        #expect(n.labels["kubernetes.io/hostname"] == "gpu-h100-0")
        #expect(n.labels["topology.kubernetes.io/zone"] == "us-east-1a")
        #expect(n.labels["node.kubernetes.io/instance-type"] == "sim-8xh100")
        #expect(n[path: "spec", "taints"] == [["key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"]])
        #expect(n[path: "status", "nodeInfo", "kubeletVersion"] == "v1.32.0")
        #expect(NodeMatching.isReady(n))
    }

    @Test func migSharedSpotLabelsAndTaints() throws {
        let nodes = try NodeFactory.nodes(spec: """
            {gpu: 2, mig: {1g.10gb: 7, 3g.40gb: 2}, spot: true, labels: {team: ml}, taints: []},
            {gpu: 4, sharedGpu: 4, taints: [dedicated=infer:NoSchedule, spare:NoExecute], name: shared}
            """, now: now)
        let mig = nodes[0]
        #expect(mig[path: "status", "capacity", "nvidia.com/mig-1g.10gb"] == "14")
        #expect(mig[path: "status", "capacity", "nvidia.com/mig-3g.40gb"] == "4")
        #expect(mig[path: "status", "capacity", "nvidia.com/gpu"] == nil)
        #expect(mig.labels["karpenter.sh/capacity-type"] == "spot")
        #expect(mig.labels["team"] == "ml")
        #expect(mig[path: "spec", "taints"] == nil)
        let shared = nodes[1]
        #expect(shared.name == "shared-0")
        #expect(shared[path: "status", "capacity", "nvidia.com/gpu.shared"] == "16")
        #expect(shared[path: "spec", "taints"] == [
            ["key": "dedicated", "value": "infer", "effect": "NoSchedule"], ["key": "spare", "effect": "NoExecute"],
        ])
    }

    @Test func defaultPool() throws {
        let nodes = try NodeFactory.nodes(spec: nil, now: now)
        #expect(nodes.map(\.name) == ["gpu-a100-0", "gpu-a100-1", "cpu-0"])
        #expect(nodes[2][path: "status", "capacity", "cpu"] == "16")
        #expect(nodes[2][path: "spec", "taints"] == nil)
        #expect(nodes[0][path: "spec", "podCIDR"] == "10.244.0.0/24")
        #expect(nodes[2][path: "spec", "podCIDR"] == "10.244.2.0/24")
    }

    @Test(arguments: [
        ("4{gpu: 8}", 2, "expected 'x'"),
        ("2x{gpus: 8}", 3, "did you mean gpu?"),
        ("2x{gpu: eight}", 3, "gpu must be a whole number"),
        ("2x{cpu: 32} 1x{cpu: 4}", 13, "expected ','"),
        ("2x{cpu: 32", 11, "expected ',' or '}'"),
        ("2x{memory: lots}", 3, "positive quantity"),
        ("x{cpu: 1}", 1, "expected '{'"),
        ("1x{taints: [gpu]}", 3, "key=value:Effect"),
        ("1x{mig: {1g.10gb: 7}}", 3, "mig needs gpu"),
    ])
    func badSpecsNamePositionAndFix(spec: String, column: Int, fragment: String) {
        do {
            _ = try NodePoolSpec.parseList(spec)
            Issue.record("expected an error for \(spec)")
        } catch {
            #expect(error.column == column, "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
    }
}
