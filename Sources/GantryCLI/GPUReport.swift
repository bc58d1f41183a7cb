import Foundation
import GantryAPI
import GantryControllers
import KubeCore

/// What `gantry gpus` shows, from what a user can read: nodes (GPU capacity), Gantry's pods (GPUs held now) and
/// the PlatformConfig's status (utilisation and idle pods from the last idle check, GPU-hours of the month).
/// Pure: objects in, report out.
struct GPUReport: Sendable {
    struct NodeRow: Sendable, Hashable { var name: String; var capacity: Int; var allocated: Int; var utilization: Double? }
    struct NamespaceRow: Sendable, Hashable {
        var name: String
        var allocated: Int
        var idle: Int
        var utilization: Double?
        var usage: NamespaceUsage?
    }
    struct PodRow: Sendable, Hashable {
        var pod: GPUPod
        var idle: IdleGPUPod?
    }

    var nodes: [NodeRow] = []
    var namespaces: [NamespaceRow] = []
    var pods: [PodRow] = []
    var idleSettings: IdleGPUSettings?

    init(nodes nodeObjects: [JSONValue], pods podObjects: [JSONValue], platform: JSONValue?) {
        let spec = (try? (platform?["spec"] ?? .emptyObject).decode(PlatformConfigSpec.self)) ?? PlatformConfigSpec()
        let status = try? (platform?["status"] ?? .emptyObject).decode(PlatformConfigStatus.self)
        let gpu = spec.effectiveGPU
        idleSettings = spec.idleGPUs
        let holding = GPUPod.holding(podObjects, gpu: gpu)
        let idle = Dictionary((status?.idleGPUs ?? []).map { ("\($0.namespace)/\($0.pod)", $0) }, uniquingKeysWith: { a, _ in a })
        func level(_ scope: UtilizationLevel.Scope, _ name: String) -> Double? {
            status?.utilization?.first { $0.scope == scope && $0.name == name }?.meanPercent
        }
        pods = holding.map { PodRow(pod: $0, idle: idle["\($0.namespace)/\($0.name)"]) }
            .sorted { ($0.pod.namespace, $0.pod.name) < ($1.pod.namespace, $1.pod.name) }
        for object in nodeObjects {
            let node = Node(json: object)
            guard let name = node.name else { continue }
            let capacity = SchedulingRules.extendedResources(of: node).filter { resource, _ in
                resource == gpu.effectiveResourceName || resource == gpu.effectiveSharedResourceName || resource.hasPrefix(gpu.effectiveMIGResourcePrefix)
            }.values.reduce(0, +)
            let allocated = holding.filter { $0.node == name }.map(\.gpus).reduce(0, +)
            guard capacity > 0 || allocated > 0 else { continue }
            nodes.append(NodeRow(name: name, capacity: capacity, allocated: allocated, utilization: level(.node, name)))
        }
        nodes.sort { $0.name < $1.name }
        let names = Set(holding.map(\.namespace)).union((status?.budgets ?? []).map(\.namespace))
        namespaces = names.sorted().map { name in
            let mine = pods.filter { $0.pod.namespace == name }
            return NamespaceRow(name: name, allocated: mine.map(\.pod.gpus).reduce(0, +),
                                idle: mine.filter { $0.idle?.idle == true }.map(\.pod.gpus).reduce(0, +),
                                utilization: level(.namespace, name), usage: status?.usage(of: name))
        }
    }

    static func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0) } ?? "-" }

    func render(wide: Bool) -> String {
        var text = TextTable.render([["NODE", "GPUS", "ALLOCATED", "UTILIZATION"]]
            + nodes.map { [$0.name, String($0.capacity), String($0.allocated), Self.percent($0.utilization)] })
        text += "\n" + TextTable.render([["NAMESPACE", "ALLOCATED", "IDLE", "UTILIZATION", "USED GPU-HOURS", "BUDGET", "STATE"]]
            + namespaces.map { row in
                [row.name, String(row.allocated), String(row.idle), Self.percent(row.utilization),
                 row.usage.map { BudgetStanding.hours($0.usedGPUHours) } ?? "-",
                 row.usage?.gpuHoursPerMonth.map(BudgetStanding.hours) ?? "-", row.usage?.state?.rawValue ?? "-"]
            })
        let listed = wide ? pods : pods.filter { $0.idle?.idle == true }
        guard !listed.isEmpty else {
            return text + (idleSettings == nil ? "\nIdle-GPU detection is off (PlatformConfig spec.idleGPUs).\n" : "\nNo idle GPUs.\n")
        }
        text += "\n" + TextTable.render([["NAMESPACE", "POD", "OWNER", "NODE", "GPUS", "UTILIZATION", "IDLE", "BELOW THRESHOLD SINCE"]]
            + listed.map { row in
                [row.pod.namespace, row.pod.name, row.pod.owner.map { "\($0.kind)/\($0.name)" } ?? "-", row.pod.node, String(row.pod.gpus),
                 Self.percent(row.idle?.utilizationPercent), row.idle?.idle == true ? "yes" : "no", row.idle?.idleSince ?? "-"]
            })
        return text
    }

    var json: JSONValue {
        func number(_ value: Double?) -> JSONValue { value.map(JSONValue.double) ?? .null }
        return [
            "nodes": .array(nodes.map { ["name": .string($0.name), "gpus": .int(Int64($0.capacity)), "allocated": .int(Int64($0.allocated)),
                                         "utilizationPercent": number($0.utilization)] }),
            "namespaces": .array(namespaces.map { row in
                ["name": .string(row.name), "allocated": .int(Int64(row.allocated)), "idle": .int(Int64(row.idle)),
                 "utilizationPercent": number(row.utilization), "usedGPUHours": number(row.usage?.usedGPUHours),
                 "gpuHoursPerMonth": number(row.usage?.gpuHoursPerMonth), "budgetState": row.usage?.state.map { .string($0.rawValue) } ?? .null,
                 "month": row.usage.map { .string($0.month) } ?? .null]
            }),
            "pods": .array(pods.map { row in
                ["namespace": .string(row.pod.namespace), "name": .string(row.pod.name), "node": .string(row.pod.node),
                 "gpus": .int(Int64(row.pod.gpus)), "ownerKind": row.pod.owner.map { .string($0.kind) } ?? .null,
                 "ownerName": row.pod.owner.map { .string($0.name) } ?? .null, "utilizationPercent": number(row.idle?.utilizationPercent),
                 "idle": .bool(row.idle?.idle == true), "belowThresholdSince": row.idle.map { .string($0.idleSince) } ?? .null]
            }),
        ]
    }
}
