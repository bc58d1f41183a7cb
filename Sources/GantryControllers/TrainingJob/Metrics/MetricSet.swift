import GantryAPI

/// Every metric one job tracks, each a MetricSeries with its own best and history: the objective (BEST, the
/// record, experiments), the early-stopping metric when it is another one (its series drives the rules), and
/// `spec.metrics.additional`.
public struct MetricSet: Sendable, Hashable {
    public private(set) var objective: MetricSeries
    /// The early-stopping rules' series when its metric or goal differs from the objective's.
    public private(set) var stopping: MetricSeries?
    public private(set) var additional: [MetricSeries]

    public init(_ spec: TrainingJobSpec) {
        let objective = spec.effectiveObjective
        let minDelta = spec.earlyStopping?.patience?.minDelta ?? 0
        let rulesFollowObjective = spec.earlyStopping.map { $0.metric == objective.metric && $0.effectiveGoal == objective.effectiveGoal } ?? true
        self.objective = MetricSeries(metric: objective.metric, goal: objective.effectiveGoal, minDelta: rulesFollowObjective ? minDelta : 0)
        self.stopping = rulesFollowObjective ? nil : spec.earlyStopping.map {
            MetricSeries(metric: $0.metric, goal: $0.effectiveGoal, minDelta: minDelta)
        }
        var names = Set([objective.metric] + (stopping.map { [$0.metric] } ?? []))
        additional = (spec.metrics?.additional ?? []).compactMap { name in
            guard names.insert(name).inserted else { return nil }
            return MetricSeries(metric: name, goal: .minimize)
        }
    }

    /// The series the early-stopping rules read.
    public var rules: MetricSeries { stopping ?? objective }

    /// What the set tracks: a follow with another signature reads the log again.
    public var signature: [String] {
        ([objective] + (stopping.map { [$0] } ?? []) + additional).map { "\($0.metric):\($0.goal.rawValue):\($0.minDelta)" }
    }

    /// Folds one line into every series; returns the rules metric's value when the line carried it.
    @discardableResult
    public mutating func record(_ line: MetricLine) -> Double? {
        let objectiveValue = objective.record(line)
        let stoppingValue = stopping?.record(line)
        for i in additional.indices { additional[i].record(line) }
        return stopping == nil ? objectiveValue : stoppingValue
    }

    public var status: MetricsStatus {
        var s = objective.status
        s.best?.goal = objective.goal
        let extras = (stopping.map { [$0] } ?? []) + additional
        if !extras.isEmpty {
            s.additional = extras.map { series in
                let st = series.status
                var best = st.best
                best?.goal = series.goal
                return MetricHistory(name: series.metric, goal: series.goal, best: best, history: st.history)
            }
        }
        return s
    }
}
