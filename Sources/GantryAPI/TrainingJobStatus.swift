import KubeCore

/// `TrainingJob.status`: everything the controller observed; the spec is never written by Gantry.
public struct TrainingJobStatus: Codable, Sendable, Hashable {
    public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
        case queued = "Queued", admitted = "Admitted", running = "Running", succeeded = "Succeeded",
             failed = "Failed", earlyStopped = "EarlyStopped", suspended = "Suspended",
             /// The spec can never run as written (a gang larger than every matching node together, a product
             /// no node has, a name clash): the `Invalid` condition names the field and the fix.
             invalid = "Invalid"

        public var isFinished: Bool { self == .succeeded || self == .failed || self == .earlyStopped }
    }

    public var phase: Phase?
    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    /// Replicas whose pods are ready, as `ready/total` for the printer column.
    public var readyReplicas: String?
    public var replicas: ReplicaCounts?
    /// GPUs the whole job holds now (all replicas): 0 while queued, suspended or finished.
    public var gpus: Int?
    /// GPUs the whole job asks for (replicas × GPUs per replica), whatever its phase.
    public var requestedGPUs: Int?
    /// Gang restarts counted against `backoffLimit`, and those caused by evictions (not counted).
    public var restarts: Int?
    public var evictionRestarts: Int?
    public var startTime: String?
    public var completionTime: String?
    public var queue: QueueStatus?
    /// The effective platform defaults this job received (never written into the spec).
    public var appliedDefaults: AppliedDefaults?
    public var metrics: MetricsStatus?
    public var replicaStatuses: [ReplicaStatus]?
    public var earlyStop: EarlyStopStatus?
    /// Name of the ConfigMap holding the experiment record.
    public var recordRef: String?
    public var gpuHours: Double?

    public init() {}
}

public struct ReplicaCounts: Codable, Sendable, Hashable {
    public var total: Int
    public var active: Int
    public var ready: Int
    public var succeeded: Int
    public var failed: Int

    public init(total: Int, active: Int, ready: Int, succeeded: Int, failed: Int) {
        self.total = total; self.active = active; self.ready = ready; self.succeeded = succeeded; self.failed = failed
    }
}

public struct QueueStatus: Codable, Sendable, Hashable {
    public var position: Int?
    public var reason: String?

    public init(position: Int?, reason: String?) { self.position = position; self.reason = reason }
}


public struct AppliedDefaults: Codable, Sendable, Hashable {
    public var gpuResourceName: String?
    public var tolerations: [JSONValue]?
    public var finishedPodPolicy: String?
    public var namespaceGPUQuota: Int?
    /// The securityContext profile the pods received (PlatformConfig spec.podPolicy.securityContext).
    public var securityContext: String?

    public init(gpuResourceName: String?, tolerations: [JSONValue]?, finishedPodPolicy: String?, namespaceGPUQuota: Int?,
                securityContext: String? = nil) {
        self.gpuResourceName = gpuResourceName; self.tolerations = tolerations
        self.finishedPodPolicy = finishedPodPolicy; self.namespaceGPUQuota = namespaceGPUQuota
        self.securityContext = securityContext
    }
}

public struct MetricsStatus: Codable, Sendable, Hashable {
    public var step: Int?
    public var latest: [String: Double]?
    public var best: BestMetric?
    /// `[step, value]` pairs of the objective, downsampled to at most 128 points.
    public var history: [[Double]]?
    /// The early-stopping metric (when it is not the objective) and `spec.metrics.additional`, each with its own
    /// best value and history.
    public var additional: [MetricHistory]?

    public init() {}

    /// The history of one tracked metric, whether it is the objective or an additional one.
    public func history(of metric: String) -> [[Double]]? {
        if let extra = additional?.first(where: { $0.name == metric }) { return extra.history }
        return best == nil || best?.name == metric ? history : nil
    }
}

/// One more tracked metric: its goal, best value and downsampled history.
public struct MetricHistory: Codable, Sendable, Hashable {
    public var name: String
    public var goal: EarlyStopping.Goal?
    public var best: BestMetric?
    public var history: [[Double]]?
    public init(name: String, goal: EarlyStopping.Goal?, best: BestMetric?, history: [[Double]]?) {
        self.name = name
        self.goal = goal
        self.best = best
        self.history = history
    }
}

public struct BestMetric: Codable, Sendable, Hashable {
    public var name: String
    public var value: Double
    public var step: Int?
    /// Whether lower or higher is better for this metric.
    public var goal: EarlyStopping.Goal?

    public init(name: String, value: Double, step: Int?, goal: EarlyStopping.Goal? = nil) {
        self.name = name
        self.value = value
        self.step = step
        self.goal = goal
    }
}

/// What is kept of a replica once its pod is deleted, so nothing needed for debugging is lost.
public struct ReplicaStatus: Codable, Sendable, Hashable {
    public var index: Int
    public var podName: String
    public var node: String?
    public var exitCode: Int?
    public var reason: String?
    public var message: String?
    public var lastLogLines: [String]?

    public init(index: Int, podName: String, node: String?, exitCode: Int?, reason: String?, message: String?, lastLogLines: [String]?) {
        self.index = index; self.podName = podName; self.node = node; self.exitCode = exitCode
        self.reason = reason; self.message = message; self.lastLogLines = lastLogLines
    }
}

public struct EarlyStopStatus: Codable, Sendable, Hashable {
    public var rule: String
    public var step: Int?
    public var value: Double?
    public var message: String

    public init(rule: String, step: Int?, value: Double?, message: String) {
        self.rule = rule; self.step = step; self.value = value; self.message = message
    }
}
extension TrainingJobStatus: ConditionedStatus {}
