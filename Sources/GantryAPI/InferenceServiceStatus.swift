import KubeCore

/// What the InferenceService controller observed and decided. The active and previous revisions are the
/// controller's memory across reconciles: which colour serves, and which one is kept warm for a rollback.
public struct InferenceServiceStatus: ConditionedStatus {
    public enum Color: String, Codable, Sendable, Hashable, CaseIterable {
        case blue, green
        public var other: Color { self == .blue ? .green : .blue }
    }

    /// One pod template, by the hash of everything that shapes its pods (not `replicas`).
    public struct Revision: Codable, Sendable, Hashable {
        public var hash: String
        public var color: Color
        public var image: String
        public var modelVersion: String?
        /// The run that produced the model (`spec.model.fromTrainingJob`), copied from its experiment record.
        public var source: ModelProvenance?
        public init(hash: String, color: Color, image: String, modelVersion: String?, source: ModelProvenance? = nil) {
            self.hash = hash
            self.color = color
            self.image = image
            self.modelVersion = modelVersion
            self.source = source
        }
    }

    /// What a TrainingJob's experiment record says about the run that produced a revision's model.
    public struct ModelProvenance: Codable, Sendable, Hashable {
        public var trainingJob: String
        /// The record ConfigMap (`<job>-record`), which outlives the job.
        public var record: String
        /// The job's uid: a job deleted and created again under the same name is another run.
        public var uid: String?
        /// Succeeded, or EarlyStopped with a best value of its objective.
        public var phase: String
        public var image: String?
        /// The training image's resolved digest (`imageID` of its pods).
        public var imageID: String?
        public var gitCommit: String?
        public var dataset: String?
        public var hyperparameters: [String: String]?
        /// The best value of the run's objective.
        public var bestMetric: BestMetric?
        public var completionTime: String?
        public init(trainingJob: String, record: String, phase: String) {
            self.trainingJob = trainingJob
            self.record = record
            self.phase = phase
        }
    }

    public struct Candidate: Codable, Sendable, Hashable {
        public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
            case progressing = "Progressing"
            /// `spec.prepull`: its image is being pulled on the nodes; no candidate pod exists yet.
            case prepulling = "Prepulling"
            /// Ready; the validation requests are being sent to the preview.
            case validating = "Validating"
            case awaitingPromotion = "AwaitingPromotion"
            case failed = "Failed"
        }
        public var revision: Revision
        public var phase: Phase
        public var ready: Int
        public var desired: Int
        public var startedAt: String
        /// Why it waits or failed, CamelCase (InsufficientGPUForSurge, ProgressDeadlineExceeded, ValidationFailed).
        public var reason: String?
        public var message: String?
        public var validation: ValidationOutcome?
        /// `spec.prepull`: how the pull of its image on the nodes went.
        public var prepull: Prepull?
        public init(revision: Revision, phase: Phase, ready: Int, desired: Int, startedAt: String, message: String? = nil) {
            self.revision = revision
            self.phase = phase
            self.ready = ready
            self.desired = desired
            self.startedAt = startedAt
            self.message = message
        }
    }

    /// The short-lived DaemonSet that pulls a candidate's image before its pods start (`spec.prepull`).
    public struct Prepull: Codable, Sendable, Hashable {
        public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
            case pulling = "Pulling", pulled = "Pulled", timedOut = "TimedOut"
        }
        public var phase: Phase
        public var daemonSet: String
        /// Nodes that should pull, and those whose prepull pod is ready (pulled).
        public var desired: Int
        public var ready: Int
        public var startedAt: String
        public var finishedAt: String?
        public init(phase: Phase, daemonSet: String, desired: Int, ready: Int, startedAt: String) {
            self.phase = phase
            self.daemonSet = daemonSet
            self.desired = desired
            self.ready = ready
            self.startedAt = startedAt
        }
    }

    /// One colour's DaemonSet (`placement: perNode`): nodes that should run a replica, and replicas ready there.
    public struct NodeReplicas: Codable, Sendable, Hashable {
        public var color: Color
        public var revision: String
        public var daemonSet: String
        public var desired: Int
        public var ready: Int
        /// Nodes its DaemonSet counts that can never hold one replica (not counted in `desired`).
        public var unfit: [UnfitNode]?
        public init(color: Color, revision: String, daemonSet: String, desired: Int, ready: Int, unfit: [UnfitNode]? = nil) {
            self.color = color
            self.revision = revision
            self.daemonSet = daemonSet
            self.desired = desired
            self.ready = ready
            self.unfit = unfit
        }
    }

    /// A node a perNode DaemonSet places a pod on (Kubernetes' DaemonSet controller looks at labels and taints, not
    /// resources) whose allocatable is below one replica's request: the pod there stays Pending.
    public struct UnfitNode: Codable, Sendable, Hashable {
        public var node: String
        /// What it has against what one replica asks: `1 nvidia.com/gpu allocatable, one replica needs 2`.
        public var message: String
        public init(node: String, message: String) {
            self.node = node
            self.message = message
        }
    }

    /// What the candidate answered to `rollout.validation.requests`, and how its validation job ended.
    public struct ValidationOutcome: Codable, Sendable, Hashable {
        public var revision: String
        /// The requests' expectations held (and the job, once it ran, exited 0).
        public var passed: Bool
        public var at: String
        public var results: [ValidationResult]
        public var job: ValidationJobResult?
        public init(revision: String, passed: Bool, at: String, results: [ValidationResult], job: ValidationJobResult? = nil) {
            self.revision = revision
            self.passed = passed
            self.at = at
            self.results = results
            self.job = job
        }
    }

    /// The validation job's pod: running (no `passed` yet), or how it ended.
    public struct ValidationJobResult: Codable, Sendable, Hashable {
        public var pod: String
        public var passed: Bool?
        public var startedAt: String?
        public var finishedAt: String?
        public var exitCode: Int?
        public var message: String
        /// The last lines of its log, when it failed.
        public var logTail: [String]?
        public init(pod: String, passed: Bool?, message: String) {
            self.pod = pod
            self.passed = passed
            self.message = message
        }
    }

    public struct ValidationResult: Codable, Sendable, Hashable {
        /// `POST /v1/models/m:predict`.
        public var request: String
        public var code: Int?
        public var latencyMilliseconds: Int?
        public var passed: Bool
        public var message: String
        public init(request: String, code: Int?, latencyMilliseconds: Int?, passed: Bool, message: String) {
            self.request = request
            self.code = code
            self.latencyMilliseconds = latencyMilliseconds
            self.passed = passed
            self.message = message
        }
    }

    public struct Swap: Codable, Sendable, Hashable {
        public var from: String?
        public var to: String
        public var at: String
        /// Swapped, RolledBack, Recreated.
        public var reason: String
        public init(from: String?, to: String, at: String, reason: String) {
            self.from = from
            self.to = to
            self.at = at
            self.reason = reason
        }
    }

    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    /// The alias Service's URL inside the cluster.
    public var url: String?
    public var activeColor: Color?
    public var activeRevision: Revision?
    /// The revision served before the last swap, kept up until `warmUntil`.
    public var previousRevision: Revision?
    public var warmUntil: String?
    public var candidate: Candidate?
    public var lastSwap: Swap?
    public var replicas: Int?
    public var readyReplicas: Int?
    /// Label selector of the serving pods, for the scale subresource.
    public var selector: String?
    /// The analysis of the last swap (spec.rollout.analysis).
    public var analysis: AnalysisStatus?
    /// What the autoscaler read and decided (spec.autoscaling).
    public var autoscaling: AutoscalingStatus?
    /// `placement: perNode`: each live colour's DaemonSet, desired and ready.
    public var perNode: [NodeReplicas]?

    public init() {}
}

/// What the analysis after a swap saw.
public struct AnalysisStatus: Codable, Sendable, Hashable {
    /// Inconclusive: the window ended without a single reading (nothing was judged, nothing swapped back).
    public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
        case running = "Running", passed = "Passed", failed = "Failed", inconclusive = "Inconclusive"
    }
    /// Counters summed over the analysed colour's pods, and the highest latency gauge.
    public struct Reading: Codable, Sendable, Hashable {
        public var requests: Double
        public var errors: Double?
        public var latencySeconds: Double?
        public init(requests: Double, errors: Double?, latencySeconds: Double?) {
            self.requests = requests; self.errors = errors; self.latencySeconds = latencySeconds
        }
    }
    /// The revision analysed (the one swapped to).
    public var revision: String
    /// The revision swapped back to on a breach.
    public var from: String?
    public var phase: Phase
    public var startedAt: String
    public var until: String
    public var lastCheck: String?
    /// The counters at the start of the window (the first reading).
    public var baseline: Reading?
    public var last: Reading?
    public var errorRatio: Double?
    public var message: String?
    public init(revision: String, from: String?, phase: Phase, startedAt: String, until: String) {
        self.revision = revision; self.from = from; self.phase = phase; self.startedAt = startedAt; self.until = until
    }
}

