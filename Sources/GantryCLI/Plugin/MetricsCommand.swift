import ArgumentParser
import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// `kubectl gantry metrics JOB`: the loss curve in the terminal; `--compare` (or `--experiment X`): every run
/// of the experiment on one plot.
struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Plot a TrainingJob's metric history in the terminal; --compare plots every run of its experiment.",
        discussion: "The history is the job's status.metrics.history (at most 128 points, downsampled) while the job exists, and its record's (the ConfigMap <job>-record) once it is deleted. The objective is plotted unless --metric names another tracked metric (the early-stopping metric or spec.metrics.additional).")

    @Argument(help: "The TrainingJob (optional with --experiment).")
    var job: String?

    @Flag(help: "Plot every run of JOB's experiment (label gantry.dev/experiment) on one plot.")
    var compare = false

    @Option(help: "Plot every run of this experiment.")
    var experiment: String?

    @Option(help: "The metric to plot (default: the objective).")
    var metric: String?

    @Option(help: "Plot width in characters.")
    var width = 64

    @Option(help: "Plot height in lines.")
    var height = 16

    @OptionGroup var cluster: ClusterOptions

    func validate() throws {
        if job == nil && experiment == nil { throw ValidationError("name a TrainingJob, or an experiment with --experiment") }
        if compare && job == nil { throw ValidationError("--compare needs a TrainingJob whose experiment to plot") }
        guard (8...1000).contains(width), (3...500).contains(height) else { throw ValidationError("--width must be 8 to 1000 and --height 3 to 500") }
    }

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        var experiment = self.experiment
        if experiment == nil, let job {
            let run = try await Self.run(client, namespace, job, metric: metric)
            guard compare else {
                print("TrainingJob \(namespace)/\(job): \(run.history.metric) by step")
                print(LinePlot.render([run.history.series], width: width, height: height), terminator: "")
                return
            }
            guard let label = run.experiment else {
                throw PluginError("TrainingJob \(job) belongs to no experiment (label \(GantryLabels.experiment)): --compare plots the runs of one")
            }
            experiment = label
        }
        guard let experiment else { return }
        let runs = try await Self.runs(client, namespace, experiment: experiment, metric: metric)
        guard !runs.isEmpty else { throw PluginError("no runs of experiment \"\(experiment)\" in namespace \"\(namespace)\" (label \(GantryLabels.experiment))") }
        let metrics = Set(runs.map(\.metric)).sorted()
        print("Experiment \(namespace)/\(experiment): \(metrics.joined(separator: ", ")) by step, \(runs.count) runs")
        print(LinePlot.render(runs.map(\.series), width: width, height: height), terminator: "")
    }

    /// One job's history: from the TrainingJob, else from its record.
    static func run(_ client: KubeClient, _ namespace: String, _ job: String, metric: String?) async throws -> (history: RunHistory, experiment: String?) {
        if let object = try await PluginLookup.getIfFound(client, GantryKind.trainingJob, namespace, job) {
            guard let history = try RunHistory.read(trainingJob: object, requested: metric) else { throw noMetric(job) }
            return (history, object.labels[GantryLabels.experiment])
        }
        let recordName = TrainingRecord.name(job: job)
        let configMap: JSONValue
        do {
            configMap = try await client.get(.configMaps, namespace: namespace, name: recordName)
        } catch let error as APIError where error.code == 404 {
            throw PluginError("no TrainingJob \"\(job)\" in namespace \"\(namespace)\", nor its record \(recordName)")
        }
        guard let document = RecordsCommand.row(configMap)?.document, let history = try RunHistory.read(record: document, requested: metric) else {
            throw noMetric(job)
        }
        return (history, document["experiment"]?.stringValue)
    }

    /// Every run labelled with the experiment: live jobs, and the records of jobs deleted since.
    static func runs(_ client: KubeClient, _ namespace: String, experiment: String, metric: String?) async throws -> [RunHistory] {
        let selector = "\(GantryLabels.experiment)=\(experiment)"
        let jobs = try await client.listAll(.trainingJobs, namespace: namespace, options: ListOptions(labelSelector: selector)).items
        // One unreadable run is said on stderr and left out; it does not hide the others.
        func readable(_ read: () throws -> RunHistory?) -> RunHistory? {
            do { return try read() } catch { RecordsCommand.warn("\(error)"); return nil }
        }
        var runs = jobs.compactMap { job in readable { try RunHistory.read(trainingJob: job, requested: metric) } }
        let records = try await client.listAll(.configMaps, namespace: namespace, options: ListOptions(labelSelector: "gantry.dev/record=true,\(selector)")).items
        let live = Set(jobs.compactMap(\.name))
        for record in records {
            guard let document = RecordsCommand.row(record)?.document, let job = document["job"]?.stringValue, !live.contains(job),
                  let history = readable({ try RunHistory.read(record: document, requested: metric) }) else { continue }
            runs.append(history)
        }
        return RunHistory.ordered(runs)
    }

    static func noMetric(_ job: String) -> PluginError {
        PluginError("TrainingJob \(job) has reported no metric yet (nor names an objective)")
    }
}
