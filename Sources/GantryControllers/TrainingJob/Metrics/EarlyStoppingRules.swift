import GantryAPI

/// The early-stopping rules of `spec.earlyStopping`; any one stops the run. Pure: a series (and, for the median
/// rule, the other trials of the experiment) in, a decision out.
public enum EarlyStoppingRules {
    /// Another job of the same experiment, as far as it has reported: its watched metric per step.
    public struct Peer: Sendable {
        public var name: String
        public var history: [MetricSeries.Point]
        public var lastStep: Int
        public init(name: String, history: [MetricSeries.Point], lastStep: Int) {
            self.name = name
            self.history = history
            self.lastStep = lastStep
        }
    }

    public static func evaluate(_ series: MetricSeries, lastValue: Double, rules: EarlyStopping, peers: [Peer]) -> EarlyStopStatus? {
        let metric = rules.metric
        let step = series.step
        if rules.stopOnDivergence ?? true, !lastValue.isFinite {
            return EarlyStopStatus(rule: "divergence", step: step, value: nil,
                                   message: "\(metric) became \(lastValue.isNaN ? "NaN" : "infinite") at step \(step): the run diverged")
        }
        if let threshold = rules.threshold, step >= (threshold.startStep ?? 0), series.isBetter(threshold.bound, than: lastValue) {
            return EarlyStopStatus(rule: "threshold", step: step, value: lastValue,
                                   message: "\(metric) = \(format(lastValue)) at step \(step) is worse than the bound \(format(threshold.bound)) (spec.earlyStopping.threshold, from step \(threshold.startStep ?? 0))")
        }
        if let patience = rules.patience, series.sinceImprovement >= patience.evaluations, let best = series.best {
            return EarlyStopStatus(rule: "patience", step: step, value: lastValue,
                                   message: "\(metric) has not improved by at least \(format(patience.minDelta ?? 0)) for \(series.sinceImprovement) evaluations (best \(format(best.value)) at step \(best.step)); spec.earlyStopping.patience.evaluations is \(patience.evaluations)")
        }
        if let median = rules.median, let stop = medianRule(series, median: median, metric: metric, peers: peers) {
            return stop
        }
        return nil
    }

    /// Katib's median stopping rule: the best value so far, compared with the median of the other trials'
    /// best values up to the same step. Trials run side by side and report at slightly different moments, so
    /// the comparison is made at the latest step that `minTrials` others have reached (never later than this
    /// trial's own step): waiting for every peer to pass our exact step would delay the decision to their end.
    static func medianRule(_ series: MetricSeries, median: EarlyStopping.Median, metric: String, peers: [Peer]) -> EarlyStopStatus? {
        let needed = median.minTrials ?? 3
        let reporting = peers.filter { !$0.history.isEmpty }.sorted { $0.lastStep > $1.lastStep }
        guard needed > 0, reporting.count >= needed else { return nil }
        let step = min(series.step, reporting[needed - 1].lastStep)
        guard step >= (median.startStep ?? 0), let best = series.bestUpTo(step: step) else { return nil }
        let values = reporting.filter { $0.lastStep >= step }.compactMap { peer -> Double? in
            let upTo = peer.history.filter { $0.step <= step && $0.value.isFinite }.map(\.value)
            guard let first = upTo.first else { return nil }
            return upTo.reduce(first) { series.isBetter($1, than: $0) ? $1 : $0 }
        }
        guard values.count >= needed else { return nil }
        let m = medianOf(values)
        guard series.isBetter(m, than: best) else { return nil }
        return EarlyStopStatus(rule: "median", step: step, value: best,
                               message: "best \(metric) so far \(format(best)) at step \(step) is worse than the median \(format(m)) of \(values.count) other trials of the experiment at that step")
    }

    static func medianOf(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 0 ? (sorted[mid - 1] + sorted[mid]) / 2 : sorted[mid]
    }

    static func format(_ v: Double) -> String {
        // A log may report 1e300 or inf: only values Int can hold go through it (Int(1e300) traps).
        guard v.isFinite, abs(v) < 1e15 else { return String(v) }
        let rounded = (v * 10000).rounded() / 10000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
