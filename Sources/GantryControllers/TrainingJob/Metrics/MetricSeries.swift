import GantryAPI

/// What is known of one job's metrics: latest values, the watched metric's best, its history (bounded,
/// downsampled for plots and for the median rule), and how long since it last improved.
public struct MetricSeries: Sendable, Hashable {
    public struct Point: Sendable, Hashable, Codable {
        public var step: Int
        public var value: Double
        public init(step: Int, value: Double) {
            self.step = step
            self.value = value
        }
    }

    public var metric: String
    public var goal: EarlyStopping.Goal
    public var minDelta: Double
    public private(set) var step: Int = 0
    public private(set) var latest: [String: Double] = [:]
    public private(set) var best: Point?
    /// Evaluations of `metric` since the last improvement of at least `minDelta`.
    public private(set) var sinceImprovement = 0
    public private(set) var history: [Point] = []
    /// Points kept at most; when full every other one is dropped (a plot keeps its shape).
    public static let historyLimit = 128
    private var stride = 1
    private var baseline: Double?
    private var evaluations = 0

    public init(metric: String, goal: EarlyStopping.Goal, minDelta: Double = 0) {
        self.metric = metric
        self.goal = goal
        self.minDelta = minDelta
    }

    /// Folds one metric line in; returns the watched metric's value when the line carried it.
    @discardableResult
    public mutating func record(_ line: MetricLine) -> Double? {
        // Saturating: a log may claim a step near Int.max and then print lines without one.
        step = line.step ?? min(step, .max - 1) + 1
        for (k, v) in line.values { latest[k] = v }
        guard let value = line.values[metric] else { return nil }
        evaluations += 1
        if value.isFinite {
            if best.map({ isBetter(value, than: $0.value) }) ?? true { best = Point(step: step, value: value) }
            // Patience counts from the last improvement of at least minDelta (Keras' EarlyStopping semantics):
            // a crawl of tiny gains does not reset it.
            if let baseline, !improves(value, over: baseline, by: minDelta) {
                sinceImprovement += 1
            } else {
                baseline = value
                sinceImprovement = 0
            }
        }
        if evaluations % stride == 0 {
            history.append(Point(step: step, value: value))
            if history.count > Self.historyLimit {
                history = history.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
                stride *= 2
            }
        }
        return value
    }

    public func isBetter(_ a: Double, than b: Double) -> Bool { goal == .minimize ? a < b : a > b }

    func improves(_ value: Double, over best: Double, by delta: Double) -> Bool {
        goal == .minimize ? value < best - delta || (delta == 0 && value < best) : value > best + delta || (delta == 0 && value > best)
    }

    /// Best value at or before `step` (what the median rule compares).
    public func bestUpTo(step: Int) -> Double? {
        history.filter { $0.step <= step && $0.value.isFinite }.map(\.value).reduce(nil as Double?) { acc, v in
            guard let acc else { return v }
            return isBetter(v, than: acc) ? v : acc
        }
    }

    public var status: MetricsStatus {
        var s = MetricsStatus()
        s.step = step
        s.latest = latest.filter { $0.value.isFinite }
        s.best = best.map { BestMetric(name: metric, value: $0.value, step: $0.step) }
        s.history = history.filter { $0.value.isFinite }.map { [Double($0.step), $0.value] }
        return s
    }
}

/// What the metrics follower knows of a job when the reconciler plans.
public struct MetricsSnapshot: Sendable, Hashable {
    public var metrics: MetricsStatus
    public var earlyStop: EarlyStopStatus?
    /// The whole log has been read (its container ended).
    public var complete: Bool
    public init(metrics: MetricsStatus, earlyStop: EarlyStopStatus?, complete: Bool = false) {
        self.metrics = metrics
        self.earlyStop = earlyStop
        self.complete = complete
    }
}
