import KubeCore

/// `Experiment.spec`: a search over `parameters`, each trial a TrainingJob made from `template` with the
/// trial's values as its hyperparameters. Documented in the CRD schema (ExperimentSchema.swift) and
/// docs/experiment.md.
public struct ExperimentSpec: Codable, Sendable, Hashable {
    public enum Algorithm: String, Codable, Sendable, Hashable, CaseIterable {
        /// Every combination of the parameters' values, in order (the last parameter varies fastest).
        case grid
        /// Independent uniform draws (log-uniform with `scale: log`).
        case random
        /// Tree-structured Parzen Estimator: random for the first trials, then values likelier among the
        /// best trials than among the rest.
        case tpe
    }

    public var template: TrainingJobSpec
    public var parameters: [SearchParameter]
    public var objective: ExperimentObjective
    public var algorithm: Algorithm
    /// Seed of random and TPE draws; unset: derived from the experiment's uid (reported in status.search.seed).
    public var seed: Int?
    /// Trials to run in all; unset with `grid`: every combination.
    public var maxTrials: Int?
    public var parallelTrials: Int?
    public var maxFailedTrials: Int?
    /// Given to every trial; the median rule compares the trials of this experiment.
    public var earlyStopping: EarlyStopping?
    public var suspend: Bool?

    public init(template: TrainingJobSpec, parameters: [SearchParameter], objective: ExperimentObjective, algorithm: Algorithm) {
        self.template = template
        self.parameters = parameters
        self.objective = objective
        self.algorithm = algorithm
    }

    public var effectiveParallelTrials: Int { max(1, parallelTrials ?? 1) }
    public var effectiveMaxFailedTrials: Int { maxFailedTrials ?? 3 }

    /// Fields that may change while the experiment runs; the others would make the search a different one.
    public static let mutableFields: Set<String> = ["maxTrials", "parallelTrials", "maxFailedTrials", "suspend", "earlyStopping"]
}

/// One searched hyperparameter.
public struct SearchParameter: Codable, Sendable, Hashable {
    public enum ValueType: String, Codable, Sendable, Hashable, CaseIterable { case double, int, categorical, discrete }
    public enum Scale: String, Codable, Sendable, Hashable, CaseIterable { case linear, log }

    public var name: String
    public var type: ValueType
    public var min: Double?
    public var max: Double?
    /// Spacing of the values (grid points; random and TPE values are rounded to it).
    public var step: Double?
    public var scale: Scale?
    /// The values of a categorical or discrete parameter.
    public var values: [String]?

    public init(name: String, type: ValueType, min: Double? = nil, max: Double? = nil, step: Double? = nil,
                scale: Scale? = nil, values: [String]? = nil) {
        self.name = name; self.type = type; self.min = min; self.max = max; self.step = step
        self.scale = scale; self.values = values
    }

    public var effectiveScale: Scale { scale ?? .linear }
}

public struct ExperimentObjective: Codable, Sendable, Hashable {
    /// A metric of the trials' training log (it becomes each trial's spec.metrics.objective).
    public var metric: String
    public var goal: EarlyStopping.Goal?
    /// The search stops (no new trials) once a trial's best value reaches it.
    public var target: Double?

    public init(metric: String, goal: EarlyStopping.Goal? = nil, target: Double? = nil) {
        self.metric = metric; self.goal = goal; self.target = target
    }

    public var effectiveGoal: EarlyStopping.Goal { goal ?? .minimize }

    /// True when `a` is better than `b` for this goal.
    public func isBetter(_ a: Double, than b: Double) -> Bool { effectiveGoal == .minimize ? a < b : a > b }

    public func reaches(_ value: Double) -> Bool {
        guard let target else { return false }
        return effectiveGoal == .minimize ? value <= target : value >= target
    }
}
