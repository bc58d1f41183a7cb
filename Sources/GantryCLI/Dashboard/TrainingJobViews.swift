import GantryAPI
import GantryControllers
import KubeCore

struct TrainingJobListRow: Sendable, Hashable {
    var namespace: String
    var name: String
    var link: String
    var phase: String
    var gpus: String
    var experiment: String
    var experimentLink: String?
    var objective: String
    var started: String
    var finished: String
}

struct ReplicaRow: Sendable, Hashable {
    var index: String
    var pod: String
    var node: String
    var exit: String
    var reason: String
    var message: String
}

struct TrainingJobPage: Sendable, Hashable {
    var title: String
    var facts: [Fact]
    /// The objective first, then each other tracked metric on a chart of its own (their scales differ).
    var charts: [LossChart]
    var replicas: [ReplicaRow]
    var conditions: [ConditionRow]
}

enum TrainingJobViews {
    static func list(_ objects: [JSONValue]) -> [TrainingJobListRow] {
        objects.compactMap { try? TrainingJob($0) }.map { job in
            let status = job.status
            let objective = job.spec.effectiveObjective.metric
            let experiment = job.labels[GantryLabels.experiment]
            return TrainingJobListRow(
                namespace: job.namespace, name: job.name, link: DashboardLinks.trainingJob(job.namespace, job.name),
                phase: status.phase?.rawValue ?? "-", gpus: gpus(status),
                experiment: experiment ?? "-", experimentLink: experiment.map { DashboardLinks.experiment(job.namespace, $0) },
                objective: ExperimentViews.bestValue(of: objective, in: status.metrics).map { "\(objective)=\(DashboardFormat.value($0))" } ?? "-",
                started: status.startTime ?? "-", finished: status.completionTime ?? "-")
        }.sorted { DashboardFormat.inOrder(($0.namespace, $0.name), ($1.namespace, $1.name)) }
    }

    /// GPUs held now of those asked for.
    static func gpus(_ status: TrainingJobStatus) -> String {
        guard let requested = status.requestedGPUs else { return status.gpus.map(String.init) ?? "-" }
        return "\(status.gpus ?? 0)/\(requested)"
    }

    static func page(_ object: JSONValue) throws -> TrainingJobPage {
        let job = try TrainingJob(object)
        let status = job.status
        let objective = job.spec.effectiveObjective
        var facts = [Fact("Namespace", job.namespace), Fact("Phase", status.phase?.rawValue),
                     Fact("GPUs (held/requested)", gpus(status)), Fact("Replicas ready", status.readyReplicas),
                     Fact("Image", job.spec.image), Fact("Objective", "\(objective.metric) (\(objective.effectiveGoal.rawValue))"),
                     Fact("Best", status.metrics?.best.map { "\($0.name) \(DashboardFormat.value($0.value)) at step \($0.step.map(String.init) ?? "-")" }),
                     Fact("Step", status.metrics?.step.map(String.init)),
                     Fact("Hyperparameters", DashboardFormat.hyperparameters(job.spec.hyperparameters ?? [:])),
                     Fact("Started", status.startTime), Fact("Finished", status.completionTime),
                     Fact("GPU-hours", status.gpuHours.map { DashboardFormat.value($0) })]
        if let experiment = job.labels[GantryLabels.experiment] {
            facts.insert(Fact("Experiment", experiment, link: DashboardLinks.experiment(job.namespace, experiment)), at: 1)
        }
        if let queue = status.queue, status.phase == .queued {
            facts.append(Fact("Queue", "position \(queue.position.map(String.init) ?? "-")" + (queue.reason.map { ": \($0)" } ?? "")))
        }
        if let stop = status.earlyStop { facts.append(Fact("Stopped early", stop.message)) }
        if let record = status.recordRef { facts.append(Fact("Record", "ConfigMap \(record)")) }

        var charts = [LossChart(metric: objective.metric, series: [.init(name: job.name, history: status.metrics?.history(of: objective.metric) ?? [])])]
        for extra in status.metrics?.additional ?? [] where extra.name != objective.metric {
            charts.append(LossChart(metric: extra.name, series: [.init(name: job.name, history: extra.history ?? [])]))
        }
        let replicas = (status.replicaStatuses ?? []).map { r in
            ReplicaRow(index: String(r.index), pod: r.podName, node: r.node ?? "-", exit: r.exitCode.map(String.init) ?? "-",
                       reason: r.reason ?? "-", message: r.message ?? "-")
        }
        return TrainingJobPage(title: "TrainingJob \(job.name)", facts: facts, charts: charts, replicas: replicas,
                               conditions: ConditionRow.rows(status.conditions, generation: job.generation))
    }
}
