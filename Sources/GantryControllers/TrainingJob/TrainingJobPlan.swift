import GantryAPI
import KubeCore
import KubeRuntime

/// Everything the TrainingJob reconciler observed for one job, gathered from stores before planning.
public struct TrainingJobObservation: Sendable {
    public var job: TrainingJob
    public var pods: [JSONValue]
    public var serviceExists: Bool
    public var hostfileExists: Bool
    public var recordExists: Bool
    /// Whether the TensorBoard Pod and Service (`spec.tensorboard`) exist.
    public var tensorboardPodExists = false
    public var tensorboardServiceExists = false
    /// `dataset.cache: node`: whether the dataset's DaemonSet exists, and the nodes where its cache is ready.
    public var datasetCacheExists = false
    public var datasetCacheReadyNodes: [String] = []
    /// Whether the job carries Gantry's finalizer (its record is written before it may go).
    public var hasFinalizer = true
    public var platform: PlatformConfigSpec
    public var nodes: [JSONValue]
    /// The job's `NodeCheck`, answered from the shared Node cache by the reconciler; nil: checked here from `nodes`.
    public var nodeProblems: [ValidationProblem]?
    public var admission: GangAdmission.Decision
    /// Last log lines of finished pods, read by the reconciler before the pods are deleted.
    public var logTails: [String: [String]]
    /// Metrics read from the metrics replica's log so far, and an early-stopping decision if a rule fired.
    public var metrics: MetricsSnapshot?
    public var now: Double

    public init(job: TrainingJob, pods: [JSONValue], serviceExists: Bool, hostfileExists: Bool, recordExists: Bool,
                platform: PlatformConfigSpec, nodes: [JSONValue], admission: GangAdmission.Decision,
                logTails: [String: [String]], metrics: MetricsSnapshot? = nil, now: Double) {
        self.job = job
        self.pods = pods
        self.serviceExists = serviceExists
        self.hostfileExists = hostfileExists
        self.recordExists = recordExists
        self.platform = platform
        self.nodes = nodes
        self.admission = admission
        self.logTails = logTails
        self.metrics = metrics
        self.now = now
    }
}

/// The writes one reconcile should make, and the status it should leave.
public struct TrainingJobPlan: Sendable {
    /// Children to create or correct, pods to delete, and (for a finished job) Services pruned by ownership.
    public var children = ChildPlan()
    /// Add Gantry's finalizer before any child exists; remove it once a deleted job's record is written.
    public var addFinalizer = false
    public var removeFinalizer = false
    public var status: TrainingJobStatus
    public var events: [PlannedEvent] = []
    /// TTL after finishing has passed: delete the TrainingJob itself.
    public var deleteJob = false
    public var requeueAfter: Double?

    mutating func event(_ type: PlannedEvent.Kind, _ reason: String, _ note: String) {
        events.append(PlannedEvent(type, reason, note))
    }

    /// Pods to delete gracefully (by name: same-named pods of a later attempt are only created once these are gone).
    mutating func deletePods(_ names: [String], of job: TrainingJob) {
        children.delete += names.map { ChildRef(type: .pods, namespace: job.namespace, name: $0) }
    }

    /// Names of the pods this plan deletes.
    public var deletedPods: [String] { children.delete.filter { $0.type == .pods }.map(\.name) }

    mutating func requeue(after seconds: Double) {
        requeueAfter = min(requeueAfter ?? seconds, max(0.1, seconds))
    }
}
