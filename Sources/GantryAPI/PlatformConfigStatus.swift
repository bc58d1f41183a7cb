import Foundation
import KubeCore

/// `PlatformConfig.status`: what the controller counted. The GPU-hours of each namespace live here, so a
/// restarted or newly elected controller continues from them instead of starting the month again.
public struct PlatformConfigStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    /// Usage of every namespace that held GPUs this month, sorted by namespace.
    public var budgets: [NamespaceUsage]?
    /// The time up to which usage is counted.
    public var accountedAt: String?
    /// Pods whose GPUs stayed below the idle threshold for the window (only with `spec.idleGPUs`).
    public var idleGPUs: [IdleGPUPod]?
    /// Mean utilisation of the GPUs the last check read, per node and per namespace (only with `spec.idleGPUs`).
    public var utilization: [UtilizationLevel]?

    public init() {}

    public func usage(of namespace: String) -> NamespaceUsage? { budgets?.first { $0.namespace == namespace } }
}

public struct NamespaceUsage: Codable, Sendable, Hashable {
    public enum State: String, Codable, Sendable, Hashable, CaseIterable {
        /// No budget applies.
        case unlimited = "Unlimited"
        case withinBudget = "WithinBudget"
        /// Past the warning fraction.
        case warning = "Warning"
        /// Used all of it: new GPU work waits.
        case exhausted = "Exhausted"
    }
    public var namespace: String
    /// The month counted, `YYYY-MM` (UTC).
    public var month: String
    public var usedGPUHours: Double
    public var gpuHoursPerMonth: Double?
    public var state: State?
    /// Notices sent this month (`Warning`, `Exhausted`): each is sent once per month.
    public var notified: [String]?

    public init(namespace: String, month: String, usedGPUHours: Double) {
        self.namespace = namespace
        self.month = month
        self.usedGPUHours = usedGPUHours
    }
}

public struct IdleGPUPod: Codable, Sendable, Hashable {
    public var namespace: String
    public var pod: String
    public var node: String?
    /// The Gantry object the pod belongs to (`TrainingJob`, `Notebook`, `InferenceService`) and its name.
    public var ownerKind: String?
    public var ownerName: String?
    public var gpus: Int
    /// The highest utilisation of the pod's GPUs at the last check (percent).
    public var utilizationPercent: Double?
    /// Since when every GPU of the pod has been below the threshold.
    public var idleSince: String
    /// True once the idle window passed (Event and notification sent); false while it is only below the threshold.
    public var idle: Bool

    public init(namespace: String, pod: String, gpus: Int, idleSince: String, idle: Bool) {
        self.namespace = namespace
        self.pod = pod
        self.gpus = gpus
        self.idleSince = idleSince
        self.idle = idle
    }
}

public struct UtilizationLevel: Codable, Sendable, Hashable {
    public enum Scope: String, Codable, Sendable, Hashable { case node = "Node", namespace = "Namespace" }
    public var scope: Scope
    public var name: String
    public var gpus: Int
    public var meanPercent: Double
    public init(scope: Scope, name: String, gpus: Int, meanPercent: Double) {
        self.scope = scope
        self.name = name
        self.gpus = gpus
        self.meanPercent = meanPercent
    }
}

/// Whether a namespace may start new GPU work, from the spec's budget (so a raised budget releases at once) and
/// the status's usage of the current month (so a new month releases at once).
public struct BudgetStanding: Sendable, Hashable {
    public var namespace: String
    public var month: String
    public var usedGPUHours: Double
    public var gpuHours: Double

    public init(namespace: String, month: String, usedGPUHours: Double, gpuHours: Double) {
        self.namespace = namespace
        self.month = month
        self.usedGPUHours = usedGPUHours
        self.gpuHours = gpuHours
    }

    /// Nil when the namespace has no budget or has not used it all.
    public static func exhausted(_ namespace: String, spec: PlatformConfigSpec, status: PlatformConfigStatus?, now: Date) -> BudgetStanding? {
        guard let budget = spec.budgets?.budget(for: namespace) else { return nil }
        let month = Self.month(of: now)
        guard let usage = status?.usage(of: namespace), usage.month == month, usage.usedGPUHours >= budget.gpuHours else { return nil }
        return BudgetStanding(namespace: namespace, month: month, usedGPUHours: usage.usedGPUHours, gpuHours: budget.gpuHours)
    }

    /// Every namespace exhausted now (what admission decisions depend on).
    public static func exhaustedNamespaces(spec: PlatformConfigSpec, status: PlatformConfigStatus?, now: Date) -> [String: BudgetStanding] {
        var result: [String: BudgetStanding] = [:]
        for usage in status?.budgets ?? [] {
            if let standing = exhausted(usage.namespace, spec: spec, status: status, now: now) { result[usage.namespace] = standing }
        }
        return result
    }

    public static let reason = "BudgetExhausted"

    /// What a waiting workload says: the numbers and the two ways out.
    public var message: String {
        "namespace \(namespace) used \(Self.hours(usedGPUHours)) of its \(Self.hours(gpuHours)) GPU-hours for \(month) (UTC); "
            + "new GPU work waits until an admin raises spec.budgets in PlatformConfig \(PlatformConfigSpec.singletonName) "
            + "or the month ends (\(Self.nextMonthStart(month))). Running work is not stopped"
    }

    public static func hours(_ value: Double) -> String { String(format: "%.4g", value) }

    /// Budgets run by calendar month in UTC, whatever the controller's time zone.
    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? .current
        return calendar
    }()

    /// `YYYY-MM` of `date` in UTC.
    public static func month(of date: Date) -> String {
        let c = calendar.dateComponents([.year, .month], from: date)
        return String(format: "%04d-%02d", c.year ?? 1970, c.month ?? 1)
    }

    /// The first instant of the month `date` is in (UTC).
    public static func monthStart(of date: Date) -> Date {
        calendar.date(from: calendar.dateComponents([.year, .month], from: date)) ?? date
    }

    static func nextMonthStart(_ month: String) -> String {
        let parts = month.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 else { return month }
        let (year, next) = parts[1] == 12 ? (parts[0] + 1, 1) : (parts[0], parts[1] + 1)
        return String(format: "%04d-%02d-01T00:00:00Z", year, next)
    }
}
