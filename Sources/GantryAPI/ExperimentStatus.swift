import KubeCore

/// `Experiment.status`: the search's memory. Each trial's values are recorded here before the trial is
/// created, so a restarted controller continues the same search without repeating or skipping a trial.
public struct ExperimentStatus: ConditionedStatus {
    public enum Phase: String, Codable, Sendable, Hashable, CaseIterable {
        case running = "Running", completing = "Completing", succeeded = "Succeeded", failed = "Failed", suspended = "Suspended"
    }

    /// The search settings in force (spec values, or what Gantry derived for the unset ones).
    public struct Search: Codable, Sendable, Hashable {
        public var algorithm: String
        public var seed: Int
        /// Trials that will run in all (maxTrials, or the grid's size).
        public var maxTrials: Int
        /// TPE: trials drawn at random before the model is used.
        public var startupTrials: Int?
        public var gridSize: Int?
        public init(algorithm: String, seed: Int, maxTrials: Int, startupTrials: Int? = nil, gridSize: Int? = nil) {
            self.algorithm = algorithm; self.seed = seed; self.maxTrials = maxTrials
            self.startupTrials = startupTrials; self.gridSize = gridSize
        }
    }

    /// Trials by phase of their TrainingJob.
    public struct TrialCounts: Codable, Sendable, Hashable {
        public var created = 0
        public var queued = 0
        public var running = 0
        public var succeeded = 0
        public var failed = 0
        public var earlyStopped = 0
        public init() {}
    }

    public struct Trial: Codable, Sendable, Hashable {
        public var name: String
        /// 1, 2, …: the trial's place in the search.
        public var index: Int
        public var parameters: [String: String]
        /// The TrainingJob's phase (Pending until it has one).
        public var phase: String
        public var value: Double?
        public var step: Int?
        /// Why a failed trial failed (its job's condition message).
        public var message: String?
        public init(name: String, index: Int, parameters: [String: String], phase: String) {
            self.name = name; self.index = index; self.parameters = parameters; self.phase = phase
        }
    }

    public struct BestTrial: Codable, Sendable, Hashable {
        public var name: String
        public var parameters: [String: String]
        public var value: Double
        public var step: Int?
        public init(name: String, parameters: [String: String], value: Double, step: Int?) {
            self.name = name; self.parameters = parameters; self.value = value; self.step = step
        }
    }

    /// A point of the optimum's history: when a trial first held the best value.
    public struct OptimumPoint: Codable, Sendable, Hashable {
        public var trial: String
        public var value: Double
        public var time: String
        public init(trial: String, value: Double, time: String) { self.trial = trial; self.value = value; self.time = time }
    }

    public var observedGeneration: Int64?
    public var conditions: [Condition]?
    public var phase: Phase?
    public var search: Search?
    public var trials: TrialCounts?
    public var trialResults: [Trial]?
    public var bestTrial: BestTrial?
    public var currentOptimum: [OptimumPoint]?
    public var startTime: String?
    public var completionTime: String?

    public init() {}
}
