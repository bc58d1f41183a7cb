import Foundation
import KubeCore

/// Turns node pools into the Node objects a real GPU cluster would show.
///
/// Labels are those NVIDIA GPU Feature Discovery and the cloud providers set (`nvidia.com/gpu.product`,
/// `nvidia.com/gpu.memory` in MiB, `nvidia.com/gpu.count`, `node.kubernetes.io/instance-type`,
/// `topology.kubernetes.io/zone`), so controllers that read them behave as in production.
/// Allocatable equals capacity (no system reservation), as in KWOK.
enum NodeFactory {
    static let kubeletVersion = "v1.32.0"

    /// Well-known per-GPU memory in MiB, used when `gpuMemory` is not given.
    static let productMemoryMiB: [String: Int] = [
        "A100": 81920, "H100": 81920, "H200": 144384, "B200": 184320, "L4": 23034, "L40S": 46068,
        "A10": 23028, "A10G": 23028, "T4": 15360, "V100": 16384,
    ]

    /// One plan per node: pool, name and cluster-wide index (the index gives the pod CIDR and node IP).
    struct PlannedNode: Sendable, Hashable {
        var name: String
        var index: Int
        var pool: NodePoolSpec
    }

    /// Names are `<prefix>-<n>` numbered per prefix across pools: `gpu-a100-0`, `gpu-a100-1`, `cpu-0`.
    static func plan(_ pools: [NodePoolSpec]) -> [PlannedNode] {
        var next: [String: Int] = [:]
        var out: [PlannedNode] = []
        for pool in pools {
            let prefix = pool.namePrefix ?? defaultPrefix(pool)
            for _ in 0..<pool.count {
                let n = next[prefix, default: 0]
                next[prefix] = n + 1
                out.append(PlannedNode(name: "\(prefix)-\(n)", index: out.count, pool: pool))
            }
        }
        return out
    }

    static func defaultPrefix(_ pool: NodePoolSpec) -> String {
        pool.gpu > 0 ? "gpu-" + labelSafe(pool.product).lowercased() : "cpu"
    }

    /// Label values allow `[A-Za-z0-9._-]`; GFD writes products as `NVIDIA-A100-SXM4-80GB`.
    static func labelSafe(_ s: String) -> String {
        String(s.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" ? $0 : "-" }.prefix(63))
    }

    static func capacity(_ pool: NodePoolSpec) -> ResourceList {
        let cpu = pool.cpu ?? ResourceQuantity(Int64(pool.gpu > 0 ? 12 * pool.gpu : 16))
        let defaultMemoryGi = pool.gpu > 0 ? Int64(120 * pool.gpu) : Int64(4 * max(1, cpu.intValue))
        var list: ResourceList = [
            "cpu": cpu,
            "memory": pool.memory ?? ResourceQuantity(Decimal(defaultMemoryGi) * 1_073_741_824, format: .binarySI),
            "pods": ResourceQuantity(Int64(pool.pods)),
            "ephemeral-storage": ResourceQuantity(Decimal(500) * 1_073_741_824, format: .binarySI),
        ]
        if pool.gpu > 0 {
            if !pool.mig.isEmpty {
                for (profile, n) in pool.mig { list["nvidia.com/mig-\(profile)"] = ResourceQuantity(Int64(n * pool.gpu)) }
            } else if let replicas = pool.sharedGpu {
                list["nvidia.com/gpu.shared"] = ResourceQuantity(Int64(replicas * pool.gpu))
            } else {
                list["nvidia.com/gpu"] = ResourceQuantity(Int64(pool.gpu))
            }
        }
        return list
    }

    static func labels(_ node: PlannedNode) -> [String: String] {
        let pool = node.pool
        var l: [String: String] = [
            "kubernetes.io/hostname": node.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "topology.kubernetes.io/zone": pool.zone,
            "topology.kubernetes.io/region": "sim-region",
            "node.kubernetes.io/instance-type": pool.instanceType ?? defaultInstanceType(pool),
            "gantry.dev/simulated": "true",
        ]
        if pool.gpu > 0 {
            l["nvidia.com/gpu.present"] = "true"
            l["nvidia.com/gpu.product"] = labelSafe(pool.product)
            l["nvidia.com/gpu.count"] = String(pool.gpu)
            l["nvidia.com/gpu.memory"] = String(pool.gpuMemoryMiB ?? productMemoryMiB[pool.product.uppercased()] ?? 81920)
            if !pool.mig.isEmpty {
                l["nvidia.com/mig.strategy"] = "mixed"
                for (profile, n) in pool.mig { l["nvidia.com/mig-\(profile).count"] = String(n * pool.gpu) }
            }
            if let replicas = pool.sharedGpu {
                l["nvidia.com/gpu.replicas"] = String(replicas)
                l["nvidia.com/gpu.sharing-strategy"] = "time-slicing"
            }
        }
        if pool.spot {
            l["karpenter.sh/capacity-type"] = "spot"
            l["node.kubernetes.io/lifecycle"] = "spot"
        }
        for (k, v) in pool.labels { l[k] = v }
        return l
    }

    static func defaultInstanceType(_ pool: NodePoolSpec) -> String {
        pool.gpu > 0 ? "sim-\(pool.gpu)x\(labelSafe(pool.product).lowercased())" : "sim-cpu-\(capacity(pool)["cpu"]?.description ?? "16")"
    }

    static func taints(_ pool: NodePoolSpec) -> [Taint] {
        pool.taints ?? (pool.gpu > 0 ? [Taint.gpuDefault] : [])
    }

    /// The node's internal IP: 10.0.x.y from its index (x.y stay below 255 for up to 64k nodes).
    static func nodeIP(index: Int) -> String { "10.0.\((index + 1) / 250).\((index + 1) % 250 + 2)" }
    /// Pod CIDR 10.244.<index>.0/24 as kubeadm's default cluster CIDR hands out.
    static func podCIDR(index: Int) -> String { "10.244.\(index % 256).0/24" }

    static func node(_ planned: PlannedNode, now: Date) -> JSONValue {
        let pool = planned.pool
        let ts = JSONValue.string(Timestamp.format(now))
        let capacity = capacity(pool).json
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": .string(status), "reason": .string(reason), "message": .string(message),
             "lastHeartbeatTime": ts, "lastTransitionTime": ts]
        }
        var node: JSONValue = [
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": ["name": .string(planned.name)],
            "spec": ["podCIDR": .string(podCIDR(index: planned.index)), "podCIDRs": [.string(podCIDR(index: planned.index))]],
            "status": [
                "capacity": capacity,
                "allocatable": capacity,
                "conditions": [
                    condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                    condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                    condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                    condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
                ],
                "addresses": [
                    ["type": "InternalIP", "address": .string(nodeIP(index: planned.index))],
                    ["type": "Hostname", "address": .string(planned.name)],
                ],
                "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]],
                "nodeInfo": [
                    "kubeletVersion": .string(kubeletVersion),
                    "kubeProxyVersion": .string(kubeletVersion),
                    "containerRuntimeVersion": "containerd://1.7.24",
                    "operatingSystem": "linux",
                    "architecture": "amd64",
                    "osImage": "Gantry simulated node",
                    "kernelVersion": "6.8.0-sim",
                    "machineID": .string(FakeDigest.hex(planned.name, length: 32)),
                    "systemUUID": .string(FakeDigest.uuid(planned.name)),
                    "bootID": .string(FakeDigest.uuid("boot/" + planned.name)),
                ],
            ],
        ]
        node.labels = labels(planned)
        if pool.imagePullSeconds > 0 { node.annotations = [NodePoolSpec.imagePullAnnotation: String(pool.imagePullSeconds)] }
        let taints = taints(pool)
        if !taints.isEmpty { node[path: "spec", "taints"] = .array(taints.map(\.json)) }
        return node
    }

    /// Node objects for a spec string (the default pool when nil or empty).
    static func nodes(spec: String?, now: Date) throws(NodeSpecError) -> [JSONValue] {
        plan(try NodePoolSpec.parseList(spec ?? "")).map { node($0, now: now) }
    }
}
