import Foundation
import GantryAPI
import KubeCore

/// A Gantry pod holding GPUs now: bound to a node, not finished, asking for GPU units.
public struct GPUPod: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var node: String
    public var gpus: Int
    /// The pod's `status.startTime` (when the kubelet took it).
    public var startedAt: Date?
    public var owner: OwnerReference?

    public init(namespace: String, name: String, node: String, gpus: Int, startedAt: Date? = nil, owner: OwnerReference? = nil) {
        self.namespace = namespace
        self.name = name
        self.node = node
        self.gpus = gpus
        self.startedAt = startedAt
        self.owner = owner
    }

    /// The Gantry kind the pod works for (its `gantry.dev/kind` label), for metric labels.
    public var kind: String { owner?.kind ?? "Pod" }

    /// The pods of `objects` that hold GPUs now, counted as `gantry_gpus_allocated` counts them.
    public static func holding(_ objects: [JSONValue], gpu: GPUSettings) -> [GPUPod] {
        objects.compactMap { object in
            let gpus = PlatformSnapshot.allocatedGPUs(pod: object, gpu: gpu)
            guard gpus > 0, let name = object.name, let node = object[path: "spec", "nodeName"]?.stringValue else { return nil }
            return GPUPod(namespace: object.namespace ?? "default", name: name, node: node, gpus: gpus,
                          startedAt: object[path: "status", "startTime"]?.stringValue.flatMap(Timestamp.parse),
                          owner: object.controllerReference)
        }
    }
}

/// A budget crossing to announce (an Event on the PlatformConfig and a notification), once per month and namespace.
public struct BudgetNotice: Sendable, Hashable {
    public enum Kind: String, Sendable { case warning = "Warning", exhausted = "Exhausted" }
    public var kind: Kind
    public var usage: NamespaceUsage

    public var reason: String { kind == .warning ? "GPUBudgetWarning" : "GPUBudgetExhausted" }
    public var note: String {
        let used = BudgetStanding.hours(usage.usedGPUHours), budget = BudgetStanding.hours(usage.gpuHoursPerMonth ?? 0)
        switch kind {
        case .warning:
            return "namespace \(usage.namespace) used \(used) of its \(budget) GPU-hours for \(usage.month) (UTC); new TrainingJobs and Notebooks will wait once it is used up"
        case .exhausted:
            return "namespace \(usage.namespace) used all of its \(budget) GPU-hours for \(usage.month) (UTC) (\(used) used): its new TrainingJobs and Notebooks are Queued (BudgetExhausted) until spec.budgets is raised or the month ends; running work is not stopped"
        }
    }
}

/// GPU-hours per namespace and month, kept in the PlatformConfig's status: each accounting adds what every pod
/// holding GPUs held since the last one (`accountedAt`), or since the pod started when it started later, within
/// the current month (UTC). A new month starts from 0. Pure: the same status, pods and time give the same answer.
///
/// Why the status: pods of finished jobs are deleted and Notebooks are culled, so no live object remembers what
/// was used; the status does, and a restarted or newly elected controller continues from it. A pod that started
/// and finished entirely between two accountings is missed, and one that finished counts to the accounting
/// before its end: the figure is exact to the accounting period.
public enum GPUAccounting {
    public static func advance(_ status: PlatformConfigStatus, pods: [GPUPod], spec: PlatformConfigSpec,
                               now: Date) -> (status: PlatformConfigStatus, notices: [BudgetNotice]) {
        let month = BudgetStanding.month(of: now)
        let monthStart = BudgetStanding.monthStart(of: now)
        let since = status.accountedAt.flatMap(Timestamp.parse)
        var usage: [String: NamespaceUsage] = [:]
        for entry in status.budgets ?? [] where entry.month == month { usage[entry.namespace] = entry }
        for pod in pods {
            // From the last accounting, or from the pod's start when it started later (a first accounting counts
            // pods from their start), never before the month.
            let start = pod.startedAt ?? now
            let from = max(monthStart, since.map { max($0, start) } ?? start)
            let seconds = max(0, now.timeIntervalSince(from))
            usage[pod.namespace, default: NamespaceUsage(namespace: pod.namespace, month: month, usedGPUHours: 0)].usedGPUHours += Double(pod.gpus) * seconds / 3600
        }
        for budget in spec.budgets?.namespaces ?? [] where usage[budget.namespace] == nil {
            usage[budget.namespace] = NamespaceUsage(namespace: budget.namespace, month: month, usedGPUHours: 0)
        }
        var notices: [BudgetNotice] = []
        for (namespace, var entry) in usage {
            entry.gpuHoursPerMonth = nil
            entry.state = .unlimited
            if let budget = spec.budgets?.budget(for: namespace) {
                entry.gpuHoursPerMonth = budget.gpuHours
                let exhausted = entry.usedGPUHours >= budget.gpuHours
                let warning = entry.usedGPUHours >= budget.gpuHours * budget.warningFraction
                entry.state = exhausted ? .exhausted : warning ? .warning : .withinBudget
                var sent = entry.notified ?? []
                // A namespace that goes past its whole budget within one period hears of it once, as exhausted.
                if exhausted, !sent.contains(BudgetNotice.Kind.exhausted.rawValue) {
                    notices.append(BudgetNotice(kind: .exhausted, usage: entry))
                    sent = [BudgetNotice.Kind.warning.rawValue, BudgetNotice.Kind.exhausted.rawValue]
                } else if warning, !sent.contains(BudgetNotice.Kind.warning.rawValue) {
                    notices.append(BudgetNotice(kind: .warning, usage: entry))
                    sent.append(BudgetNotice.Kind.warning.rawValue)
                }
                entry.notified = sent.isEmpty ? nil : sent
            }
            usage[namespace] = entry
        }
        var next = status
        next.budgets = usage.isEmpty ? nil : usage.values.sorted { $0.namespace < $1.namespace }
        next.accountedAt = Timestamp.format(now)
        return (next, notices.sorted { $0.usage.namespace < $1.usage.namespace })
    }
}
