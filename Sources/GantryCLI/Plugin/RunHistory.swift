import GantryAPI
import GantryControllers
import KubeCore

/// A run's history of one metric, read from where it lives: a TrainingJob's `status.metrics` while the job
/// exists, its record's `metrics` (`<job>-record`, record.json) once it is gone. Pure.
struct RunHistory: Sendable, Hashable {
    var job: String
    var metric: String
    var phase: String?
    var points: [PlotSeries.Point]
    var best: BestMetric?
    /// The trial's place in its Experiment, for ordering the legend as the search ran.
    var trialIndex: Int?

    /// The history of `requested`, or of the run's objective. nil when the run tracks no such metric; a metrics
    /// section that does not decode is an error naming the run, never an empty plot.
    /// `metrics` is a `MetricsStatus` (the job's status and the record hold the same shape).
    static func read(job: String, metrics: JSONValue?, objective: String?, phase: String?, requested: String?, trialIndex: Int? = nil) throws -> RunHistory? {
        let status: MetricsStatus
        do {
            status = try (metrics ?? .emptyObject).decode(MetricsStatus.self)
        } catch {
            throw PluginError("the metrics of \(job) cannot be read: \(error)")
        }
        guard let metric = requested ?? status.best?.name ?? objective else { return nil }
        let pairs = status.history(of: metric) ?? []
        let points = pairs.compactMap { pair in pair.count == 2 ? PlotSeries.Point(x: pair[0], y: pair[1]) : nil }
        let best = status.best?.name == metric ? status.best : status.additional?.first { $0.name == metric }?.best
        return RunHistory(job: job, metric: metric, phase: phase, points: points, best: best, trialIndex: trialIndex)
    }

    /// From a TrainingJob object.
    static func read(trainingJob object: JSONValue, requested: String?) throws -> RunHistory? {
        try read(job: object.name ?? "", metrics: object[path: "status", "metrics"],
             objective: object[path: "spec", "metrics", "objective", "metric"]?.stringValue,
             phase: object[path: "status", "phase"]?.stringValue, requested: requested,
             trialIndex: object.labels[GantryLabels.trialIndex].flatMap { Int($0) })
    }

    /// From a record document (record.json).
    static func read(record document: JSONValue, requested: String?) throws -> RunHistory? {
        try read(job: document["job"]?.stringValue ?? "", metrics: document["metrics"],
             objective: document[path: "objective", "metric"]?.stringValue,
             phase: document["phase"]?.stringValue, requested: requested)
    }

    /// `mnist-3  loss=0.0912 at step 390 (Succeeded)`: the legend line of this run.
    var label: String {
        let value = best.map { "\(metric)=\(RecordTable.format($0.value))" + ($0.step.map { " at step \($0)" } ?? "") } ?? "\(metric): no value yet"
        return "\(job)  \(value)" + (phase.map { " (\($0))" } ?? "")
    }

    var series: PlotSeries { PlotSeries(label: label, points: points) }

    /// Trials in search order, other runs by name after them.
    static func ordered(_ runs: [RunHistory]) -> [RunHistory] {
        runs.sorted { ($0.trialIndex ?? .max, $0.job) < ($1.trialIndex ?? .max, $1.job) }
    }
}
