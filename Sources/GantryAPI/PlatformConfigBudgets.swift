/// GPU-hour budgets per namespace and calendar month (UTC): past its budget a namespace's new TrainingJobs and
/// Notebooks wait (`BudgetExhausted`); running work is never stopped. docs/budgets-and-idle-gpus.md.
public struct GPUBudgets: Codable, Sendable, Hashable {
    /// Budget of every namespace without an entry in `namespaces` (unset: those namespaces are unlimited).
    public var defaultGPUHoursPerMonth: Double?
    /// Fraction of the budget at which a warning is sent (default 0.8).
    public var warningFraction: Double?
    public var namespaces: [NamespaceBudget]?
    /// How often usage is counted and written to the PlatformConfig's status (default 60).
    public var accountingPeriodSeconds: Int?

    public init() {}

    public static let defaultWarningFraction = 0.8
    public var effectiveAccountingPeriodSeconds: Int { accountingPeriodSeconds ?? 60 }

    /// The budget in force for `namespace`: its own entry, else the default; nil when it is unlimited.
    public func budget(for namespace: String) -> (gpuHours: Double, warningFraction: Double)? {
        if let entry = namespaces?.first(where: { $0.namespace == namespace }) {
            return (entry.gpuHoursPerMonth, entry.warningFraction ?? warningFraction ?? Self.defaultWarningFraction)
        }
        return defaultGPUHoursPerMonth.map { ($0, warningFraction ?? Self.defaultWarningFraction) }
    }
}

public struct NamespaceBudget: Codable, Sendable, Hashable {
    public var namespace: String
    public var gpuHoursPerMonth: Double
    /// Overrides the budgets' `warningFraction` for this namespace.
    public var warningFraction: Double?
    public init(namespace: String, gpuHoursPerMonth: Double, warningFraction: Double? = nil) {
        self.namespace = namespace
        self.gpuHoursPerMonth = gpuHoursPerMonth
        self.warningFraction = warningFraction
    }
}

/// Idle-GPU detection: every Gantry pod holding GPUs whose utilisation stays below the threshold for the window
/// is reported (an Event on its owner, a notification, `status.idleGPUs`, `gantry gpus`). Never stops anything.
public struct IdleGPUSettings: Codable, Sendable, Hashable {
    /// Utilisation (percent) below which a GPU counts as idle (default 5).
    public var utilizationThresholdPercent: Double?
    /// How long every GPU of a pod must stay below the threshold (default 1800).
    public var windowSeconds: Int?
    /// How often the pods are asked (default 60).
    public var checkPeriodSeconds: Int?
    /// Where the per-GPU gauge is read: each pod's metrics endpoint through the API server's pod proxy (the
    /// default), or a Prometheus server that scrapes dcgm-exporter (when set, the pods are not asked).
    public var podMetrics: PodMetricsSource?
    public var prometheus: PrometheusSource?

    public init() {}

    public var effectiveThreshold: Double { utilizationThresholdPercent ?? 5 }
    public var effectiveWindowSeconds: Int { windowSeconds ?? 1800 }
    public var effectiveCheckPeriodSeconds: Int { checkPeriodSeconds ?? 60 }
    public var effectivePodMetrics: PodMetricsSource { podMetrics ?? PodMetricsSource() }
}

/// A Prometheus server's instant-query API: `query` answers one sample per GPU labelled with the pod's
/// `namespace` and `pod` (dcgm-exporter's pod attribution; `exported_namespace`/`exported_pod` when the scrape
/// renamed them).
public struct PrometheusSource: Codable, Sendable, Hashable {
    public var url: String
    public var query: String?
    public init(url: String, query: String? = nil) {
        self.url = url
        self.query = query
    }
    public var effectiveQuery: String { query ?? "DCGM_FI_DEV_GPU_UTIL" }
}

/// dcgm-exporter's endpoint and gauge (`DCGM_FI_DEV_GPU_UTIL`, percent, one sample per GPU) on each pod.
public struct PodMetricsSource: Codable, Sendable, Hashable {
    public var port: Int?
    public var path: String?
    public var metric: String?
    public init() {}
    public var effectivePort: Int { port ?? 9400 }
    public var effectivePath: String { path ?? "/metrics" }
    public var effectiveMetric: String { metric ?? "DCGM_FI_DEV_GPU_UTIL" }
}
