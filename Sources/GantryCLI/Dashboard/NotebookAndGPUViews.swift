import Foundation
import GantryAPI
import KubeCore

struct NotebookRow: Sendable, Hashable {
    var namespace: String
    var name: String
    var phase: String
    var gpus: String
    var lastActivity: String
    var idleTimeout: String
    var cullingDeadline: String
    var culledAt: String
    var url: String
    var note: String
}

enum NotebookViews {
    static func rows(_ objects: [JSONValue], now: Date) -> [NotebookRow] {
        objects.compactMap { try? Notebook($0) }.map { notebook in
            let status = notebook.status
            let note = status.conditions?.first { $0.type == "Idle" || $0.type == "Culled" }?.message
            return NotebookRow(
                namespace: notebook.namespace, name: notebook.name, phase: status.phase?.rawValue ?? "-",
                gpus: status.gpus.map(String.init) ?? "-", lastActivity: DashboardFormat.relative(status.lastActivity, now: now),
                idleTimeout: status.culling?.idleTimeoutSeconds.map { DashboardFormat.duration($0) } ?? "-",
                cullingDeadline: DashboardFormat.relative(cullingDeadline(status), now: now),
                culledAt: status.culledAt ?? "-", url: status.url ?? "-", note: note ?? "")
        }.sorted { DashboardFormat.inOrder(($0.namespace, $0.name), ($1.namespace, $1.name)) }
    }

    /// When a running notebook is culled if nothing happens before: the idle timeout in force after its last
    /// activity (or its start, whichever is later), as the controller counts it. nil when it is not running or
    /// culling is off (no timeout in status).
    static func cullingDeadline(_ status: NotebookStatus) -> String? {
        guard status.phase == .running, let timeout = status.culling?.idleTimeoutSeconds,
              let started = status.startedAt.flatMap(Timestamp.parse) else { return nil }
        let last = max(status.lastActivity.flatMap(Timestamp.parse) ?? started, started)
        return Timestamp.format(last.addingTimeInterval(Double(timeout)))
    }
}

struct GPUNodeRow: Sendable, Hashable {
    var name: String
    var capacity: String
    var allocated: String
    var free: String
    /// GPUs held by pods past the idle window on this node.
    var idle: String
    var hasIdle: Bool
    var utilization: String
}
struct GPUNamespaceRow: Sendable, Hashable {
    var name: String
    var allocated: String
    var idle: String
    var hasIdle: Bool
    var utilization: String
    var used: String
    var budget: String
    var state: String
    /// Width of the used part of the budget bar, in percent of the bar (capped at 100).
    var barWidth: String
    var hasBudget: Bool
    var overWarning: Bool
}
struct GPUPodRow: Sendable, Hashable { var namespace: String; var pod: String; var owner: String; var node: String; var gpus: String; var utilization: String; var idleSince: String }

struct GPUPage: Sendable, Hashable {
    var nodes: Section<GPUNodeRow>
    var namespaces: Section<GPUNamespaceRow>
    var idlePods: Section<GPUPodRow>
    var idleDetectionOff: Bool
}

enum GPUViews {
    /// The page from `gantry gpus`'s report. Nodes the user may not list show as "no access"; the namespaces then
    /// still show what the pods hold.
    static func page(nodes: Listing, pods: Listing, platform: JSONValue?) -> GPUPage {
        let report = GPUReport(nodes: nodes.items, pods: pods.items, platform: platform)
        let idleByNode = Dictionary(report.pods.filter { $0.idle?.idle == true }.map { ($0.pod.node, $0.pod.gpus) }, uniquingKeysWith: +)
        let nodeRows = report.nodes.map {
            GPUNodeRow(name: $0.name, capacity: String($0.capacity), allocated: String($0.allocated), free: String(max(0, $0.capacity - $0.allocated)),
                       idle: String(idleByNode[$0.name] ?? 0), hasIdle: (idleByNode[$0.name] ?? 0) > 0, utilization: GPUReport.percent($0.utilization))
        }
        let namespaceRows = report.namespaces.map { row in
            let budget = row.usage?.gpuHoursPerMonth
            let fraction = budget.flatMap { $0 > 0 ? (row.usage?.usedGPUHours ?? 0) / $0 : nil }
            return GPUNamespaceRow(
                name: row.name, allocated: String(row.allocated), idle: String(row.idle), hasIdle: row.idle > 0,
                utilization: GPUReport.percent(row.utilization),
                used: row.usage.map { BudgetStanding.hours($0.usedGPUHours) } ?? "-", budget: budget.map(BudgetStanding.hours) ?? "-",
                state: row.usage?.state?.rawValue ?? "-", barWidth: String(format: "%.1f", min(1, fraction ?? 0) * 100),
                hasBudget: fraction != nil, overWarning: row.usage?.state == .warning || row.usage?.state == .exhausted)
        }
        let idle = report.pods.filter { $0.idle?.idle == true }.map { row in
            GPUPodRow(namespace: row.pod.namespace, pod: row.pod.name, owner: row.pod.owner.map { "\($0.kind)/\($0.name)" } ?? "-",
                      node: row.pod.node, gpus: String(row.pod.gpus), utilization: GPUReport.percent(row.idle?.utilizationPercent),
                      idleSince: row.idle?.idleSince ?? "-")
        }
        return GPUPage(nodes: Section(nodeRows, from: nodes), namespaces: Section(namespaceRows, from: pods), idlePods: Section(idle, from: pods),
                       idleDetectionOff: report.idleSettings == nil)
    }
}
