import GantryAPI
import KubeCore
import Metrics

/// The budget and idle-GPU gauges (docs/observability.md), from the status the accountant last wrote. Like
/// PlatformGauges, a label set once published drops to 0 when it empties, and `clear()` removes every gauge
/// (leadership lost, or the PlatformConfig deleted). Owned by one task (GPUAccountant.run).
struct BudgetGauges {
    let factory: any MetricsFactory
    private var published: [String: Set<[String]>] = [:]

    init(factory: any MetricsFactory) { self.factory = factory }

    /// `holding`: the pods holding GPUs now (each namespace and kind of them shows an idle level, 0 included).
    mutating func publish(_ object: JSONValue, spec: PlatformConfigSpec, holding: [GPUPod]) {
        guard let status = try? (object["status"] ?? .emptyObject).decode(PlatformConfigStatus.self) else { return }
        var levels: [String: [[String]: Double]] = [:]
        for usage in status.budgets ?? [] {
            levels[PlatformMetricNames.budgetUsed, default: [:]][[usage.namespace]] = usage.usedGPUHours * 3600
            if let budget = usage.gpuHoursPerMonth {
                levels[PlatformMetricNames.budgetLimit, default: [:]][[usage.namespace]] = budget * 3600
                levels[PlatformMetricNames.budgetRatio, default: [:]][[usage.namespace]] = budget > 0 ? usage.usedGPUHours / budget : 1
            }
        }
        if spec.idleGPUs != nil {
            // Every namespace and kind holding GPUs is shown, at 0 when none of its GPUs is idle.
            for pod in holding { levels[PlatformMetricNames.gpusIdle, default: [:]][[pod.namespace, pod.kind]] = 0 }
            for pod in status.idleGPUs ?? [] {
                levels[PlatformMetricNames.gpusIdle, default: [:]][[pod.namespace, pod.ownerKind ?? "Pod"], default: 0] += pod.idle ? Double(pod.gpus) : 0
            }
        }
        for name in Set(levels.keys).union(published.keys) {
            let current = levels[name] ?? [:]
            for labels in published[name, default: []] where current[labels] == nil { gauge(name, labels).record(0) }
            for (labels, value) in current { gauge(name, labels).record(value) }
            published[name, default: []].formUnion(current.keys)
        }
    }

    mutating func clear() {
        for (name, sets) in published { for labels in sets { gauge(name, labels).destroy() } }
        published = [:]
    }

    private func gauge(_ name: String, _ labels: [String]) -> Gauge {
        let names = name == PlatformMetricNames.gpusIdle ? ["namespace", "kind"] : ["namespace"]
        return Gauge(label: name, dimensions: Array(zip(names, labels)), factory: factory)
    }
}
