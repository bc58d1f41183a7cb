import GantryAPI
import KubeCore

/// The experiments list: Experiment objects, and groups of records labelled `gantry.dev/experiment` by hand
/// (a sweep of TrainingJobs without an Experiment object) that no Experiment owns.
struct ExperimentListRow: Sendable, Hashable {
    var namespace: String
    var name: String
    var link: String
    var phase: String
    var algorithm: String
    var trials: String
    var best: String
}

/// One run of an experiment: a trial TrainingJob, or only its record once the job is gone.
struct ExperimentRun: Sendable, Hashable {
    var name: String
    var link: String?
    var color: String
    var phase: String
    var value: String
    var hyperparameters: String
    var isBest: Bool
    var history: [[Double]]
}

struct RecordsTable: Sendable, Hashable {
    struct Row: Sendable, Hashable { var cells: [String]; var isBest: Bool }
    var headers: [String]
    var rows: [Row]
    var isEmpty: Bool

    /// The columns of `gantry records` (RecordTable), the best mark spelled out.
    init(_ records: [RecordRow]) {
        let sorted = RecordListing.sorted(RecordListing.markingBest(records), by: .objective)
        let table = RecordTable(sorted, withNamespace: false, wide: false)
        headers = ["Best"] + table.header().dropFirst()
        rows = sorted.map { Row(cells: [$0.isBest ? "★ best" : ""] + table.cells($0).dropFirst(), isBest: $0.isBest) }
        isEmpty = rows.isEmpty
    }
}

struct ExperimentPage: Sendable, Hashable {
    var title: String
    var facts: [Fact]
    var chart: LossChart
    var runs: [ExperimentRun]
    var records: RecordsTable
    var conditions: [ConditionRow]
}

enum ExperimentViews {
    /// Record ConfigMaps as rows; a damaged one is left out with a warning on stderr (as `gantry records` does).
    static func recordRows(_ configMaps: [JSONValue]) -> [RecordRow] { configMaps.compactMap(RecordsCommand.row) }

    static func list(experiments: [JSONValue], records: [RecordRow]) -> [ExperimentListRow] {
        var rows: [ExperimentListRow] = []
        var owned: Set<RecordListing.ExperimentKey> = []
        for object in experiments {
            guard let experiment = try? Experiment(object) else { continue }
            owned.insert(.init(namespace: experiment.namespace, experiment: experiment.name))
            let status = experiment.status
            let best = status.bestTrial.map { "\($0.name) (\(experiment.spec.objective.metric) \(DashboardFormat.value($0.value)))" }
            rows.append(ExperimentListRow(
                namespace: experiment.namespace, name: experiment.name, link: DashboardLinks.experiment(experiment.namespace, experiment.name),
                phase: status.phase?.rawValue ?? "-", algorithm: experiment.spec.algorithm.rawValue,
                trials: status.search.map { "\(status.trials?.created ?? 0)/\($0.maxTrials)" } ?? "\(status.trials?.created ?? 0)",
                best: best ?? "-"))
        }
        let byExperiment = Dictionary(grouping: RecordListing.markingBest(records), by: RecordListing.key)
        for (key, group) in byExperiment where key.experiment != nil && !owned.contains(key) {
            let name = key.experiment ?? ""
            let best = group.first(where: \.isBest).map { "\($0.job) (\($0.objective?.metric ?? "-") \(DashboardFormat.value($0.value)))" }
            rows.append(ExperimentListRow(namespace: key.namespace, name: name, link: DashboardLinks.experiment(key.namespace, name),
                                          phase: "-", algorithm: "records only", trials: String(group.count), best: best ?? "-"))
        }
        return rows.sorted { DashboardFormat.inOrder(($0.namespace, $0.name), ($1.namespace, $1.name)) }
    }

    /// The page of one experiment: its runs' curves of the objective on one chart, the best run marked, the records.
    /// nil when there is neither an Experiment of that name nor a run labelled with it.
    static func page(namespace: String, name: String, experiment object: JSONValue?, jobs jobObjects: [JSONValue],
                     records: [RecordRow]) -> ExperimentPage? {
        let experiment = object.flatMap { try? Experiment($0) }
        let jobs = jobObjects.compactMap { try? TrainingJob($0) }
        guard experiment != nil || !jobs.isEmpty || !records.isEmpty else { return nil }
        let marked = RecordListing.markingBest(records)
        let judged = RecordListing.objective(of: records)
        let metric = experiment?.spec.objective.metric ?? judged?.metric ?? jobs.first?.spec.effectiveObjective.metric ?? "loss"
        let goal = experiment?.spec.objective.effectiveGoal ?? judged?.goal ?? jobs.first?.spec.effectiveObjective.effectiveGoal ?? .minimize
        let bestName = experiment?.status.bestTrial?.name ?? marked.first(where: \.isBest)?.job

        // A run's curve from its job's status while the job exists, else from its record.
        var runs: [ExperimentRun] = []
        let recordByJob = Dictionary(marked.map { ($0.job, $0) }, uniquingKeysWith: { a, _ in a })
        let names = Set(jobs.map(\.name)).union(marked.map(\.job))
        let trialIndex = Dictionary(jobs.map { ($0.name, Int($0.labels[GantryLabels.trialIndex] ?? "") ?? Int.max) }, uniquingKeysWith: { a, _ in a })
        for job in names.sorted(by: { (trialIndex[$0] ?? Int.max, $0) < (trialIndex[$1] ?? Int.max, $1) }) {
            let live = jobs.first { $0.name == job }
            let record = recordByJob[job]
            let recordMetrics = (record?.document["metrics"]).flatMap { try? $0.decode(MetricsStatus.self) }
            let metrics = live?.status.metrics ?? recordMetrics
            let value = live.flatMap { Self.bestValue(of: metric, in: $0.status.metrics) } ?? record?.value
            runs.append(ExperimentRun(
                name: job, link: live.map { DashboardLinks.trainingJob($0.namespace, $0.name) },
                color: LossChart.color(runs.count), phase: live?.status.phase?.rawValue ?? record?.phase ?? "Pending",
                value: DashboardFormat.value(value),
                hyperparameters: DashboardFormat.hyperparameters(live?.spec.hyperparameters ?? record?.hyperparameters ?? [:]),
                isBest: job == bestName, history: metrics?.history(of: metric) ?? []))
        }
        let chart = LossChart(metric: metric, series: runs.map { .init(name: $0.name, history: $0.history, emphasized: $0.isBest) })

        var facts = [Fact("Namespace", namespace), Fact("Objective", "\(metric) (\(goal.rawValue))")]
        if let experiment {
            let status = experiment.status
            facts += [Fact("Phase", status.phase?.rawValue), Fact("Algorithm", experiment.spec.algorithm.rawValue),
                      Fact("Trials", status.trials.map { "\($0.created) created, \($0.running) running, \($0.succeeded) succeeded, \($0.earlyStopped) stopped early, \($0.failed) failed" }),
                      Fact("Best trial", status.bestTrial.map { "\($0.name): \(metric) \(DashboardFormat.value($0.value)) (\(DashboardFormat.hyperparameters($0.parameters)))" })]
        } else {
            facts.append(Fact("Source", "records and TrainingJobs labelled \(GantryLabels.experiment)=\(name) (no Experiment object)"))
            facts.append(Fact("Best run", marked.first(where: \.isBest).map { "\($0.job): \(metric) \(DashboardFormat.value($0.value))" }))
        }
        return ExperimentPage(title: "Experiment \(name)", facts: facts, chart: chart, runs: runs, records: RecordsTable(records),
                              conditions: ConditionRow.rows(experiment?.status.conditions, generation: experiment?.generation ?? 0))
    }

    static func bestValue(of metric: String, in metrics: MetricsStatus?) -> Double? {
        if let best = metrics?.best, best.name == metric { return best.value }
        return metrics?.additional?.first { $0.name == metric }?.best?.value
    }
}
