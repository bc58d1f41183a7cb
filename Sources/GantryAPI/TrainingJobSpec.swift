import KubeCore

/// `TrainingJob.spec`: what to train, on which GPUs, how many replicas, and when to stop.
/// Every field is documented in the CRD schema (TrainingJobSchema.swift) and docs/trainingjob.md.
public struct TrainingJobSpec: Codable, Sendable, Hashable {
    public var image: String
    public var command: [String]?
    public var args: [String]?
    public var env: [EnvVar]?
    public var resources: ComputeResources?
    public var gpu: GPURequest?
    public var replicas: Int?
    public var hyperparameters: [String: String]?
    public var dataset: Dataset?
    /// Pod volumes and container mounts, in the Pod API's own shape (passed through unchanged).
    public var volumes: [JSONValue]?
    public var volumeMounts: [JSONValue]?
    public var serviceAccountName: String?
    public var imagePullSecrets: [LocalObjectReference]?
    public var podMetadata: PodMetadata?
    public var nodeSelector: [String: String]?
    public var tolerations: [JSONValue]?
    public var priority: Int?
    public var suspend: Bool?
    public var backoffLimit: Int?
    public var activeDeadlineSeconds: Int?
    public var startupDeadlineSeconds: Int?
    public var ttlSecondsAfterFinished: Int?
    public var distributed: Distributed?
    public var failurePolicy: FailurePolicy?
    public var metrics: MetricsSource?
    public var earlyStopping: EarlyStopping?
    public var tensorboard: TensorBoard?
    /// What happens to this job's pods when it finishes; the PlatformConfig's policy when unset.
    public var finishedPodPolicy: PlatformConfigSpec.FinishedPodPolicy?

    public init(image: String) { self.image = image }

    public var effectiveReplicas: Int { replicas ?? 1 }
    public var effectiveBackoffLimit: Int { backoffLimit ?? 3 }
    public var framework: Distributed.Framework { distributed?.framework ?? .none }

    /// Fields that may change while the job exists; every other field is immutable after creation (the CRD
    /// refuses the change with the field named): a running gang cannot take a new image, size or GPU request
    /// without starting again, and the record must describe what actually ran.
    public static let mutableFields: Set<String> = [
        "suspend", "priority", "backoffLimit", "activeDeadlineSeconds", "startupDeadlineSeconds",
        "ttlSecondsAfterFinished", "failurePolicy", "earlyStopping", "finishedPodPolicy",
    ]
}

public struct EnvVar: Codable, Sendable, Hashable {
    public var name: String
    public var value: String?
    /// `valueFrom` as in the Pod API; Secret values are referenced, never copied into records.
    public var valueFrom: JSONValue?
    public init(name: String, value: String? = nil, valueFrom: JSONValue? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }
}

public struct ComputeResources: Codable, Sendable, Hashable {
    public var cpu: String?
    public var memory: String?
    public init(cpu: String? = nil, memory: String? = nil) {
        self.cpu = cpu
        self.memory = memory
    }
}

public struct Dataset: Codable, Sendable, Hashable {
    public enum Cache: String, Codable, Sendable, Hashable, CaseIterable { case none, node }
    public var uri: String
    public var cache: Cache?
}

public struct LocalObjectReference: Codable, Sendable, Hashable {
    public var name: String
}

public struct PodMetadata: Codable, Sendable, Hashable {
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public init(labels: [String: String]? = nil, annotations: [String: String]? = nil) {
        self.labels = labels
        self.annotations = annotations
    }
}

public struct Distributed: Codable, Sendable, Hashable {
    public enum Framework: String, Codable, Sendable, Hashable, CaseIterable {
        case none, pytorch, tensorflow, mpi
    }
    public var framework: Framework
    /// Rendezvous port of rank 0 (PyTorch `MASTER_PORT`, TensorFlow worker port, MPI ssh-less launcher port).
    public var port: Int?
    public init(framework: Framework, port: Int? = nil) {
        self.framework = framework
        self.port = port
    }
    public var effectivePort: Int { port ?? 29500 }
}

public struct FailurePolicy: Codable, Sendable, Hashable {
    /// Exit codes that fail the job at once instead of restarting the gang.
    public var permanentExitCodes: [Int]?
}

public struct MetricsSource: Codable, Sendable, Hashable {
    public enum Format: String, Codable, Sendable, Hashable, CaseIterable {
        /// `step=120 loss=0.42 val_acc=0.81`
        case keyValue = "KeyValue"
        /// One JSON object per line.
        case json = "JSON"
    }
    public var format: Format?
    /// The key holding the training step (default `step`).
    public var stepKey: String?
    /// Replica whose log is read (default 0, the rank-0 replica).
    public var replica: Int?
    /// The metric that says how good a run is (BEST, records, experiments). Unset: `earlyStopping.metric`, else
    /// `loss` to minimize; the effective one is written to `status.metrics.best.name` and the record.
    public var objective: Objective?
    /// More metrics kept with their best value and history (the objective's and earlyStopping's are kept anyway).
    public var additional: [String]?

    public init() {}

    public struct Objective: Codable, Sendable, Hashable {
        public var metric: String
        public var goal: EarlyStopping.Goal?
        public init(metric: String, goal: EarlyStopping.Goal? = nil) {
            self.metric = metric
            self.goal = goal
        }
        public var effectiveGoal: EarlyStopping.Goal { goal ?? .minimize }
    }
}

extension TrainingJobSpec {
    /// The run's objective: `metrics.objective`, else the early-stopping metric, else `loss` to minimize.
    public var effectiveObjective: MetricsSource.Objective {
        if let objective = metrics?.objective { return MetricsSource.Objective(metric: objective.metric, goal: objective.effectiveGoal) }
        if let stopping = earlyStopping { return MetricsSource.Objective(metric: stopping.metric, goal: stopping.effectiveGoal) }
        return MetricsSource.Objective(metric: "loss", goal: .minimize)
    }
}

public struct EarlyStopping: Codable, Sendable, Hashable {
    public enum Goal: String, Codable, Sendable, Hashable, CaseIterable { case minimize, maximize }
    public struct Patience: Codable, Sendable, Hashable {
        public var evaluations: Int
        public var minDelta: Double?
    }
    public struct Threshold: Codable, Sendable, Hashable {
        /// The run stops when the metric is worse than this after `startStep`.
        public var bound: Double
        public var startStep: Int?
    }
    public struct Median: Codable, Sendable, Hashable {
        /// Other jobs of the experiment that must have reported the same step first.
        public var minTrials: Int?
        public var startStep: Int?
    }
    public var metric: String
    public var goal: Goal?
    public var patience: Patience?
    public var threshold: Threshold?
    public var median: Median?
    /// NaN or Inf stops at once (default true).
    public var stopOnDivergence: Bool?

    public var effectiveGoal: Goal { goal ?? .minimize }
}

public struct TensorBoard: Codable, Sendable, Hashable {
    public var logDir: String
    public var image: String?
}
