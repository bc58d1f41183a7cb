import GantryAPI
import KubeCore

/// The experiment record: an immutable ConfigMap `<job>-record` with the conditions of a run (what code, data,
/// parameters and hardware produced which result). It has no owner, so it outlives the job and its pods.
public enum TrainingRecord {
    public static func name(_ job: TrainingJob) -> String { name(job: job.name) }
    /// The record ConfigMap of the job named `job` (it outlives the job, so the name is all a reader has).
    public static func name(job: String) -> String { ChildNaming.name(job, "record") }

    public static func replicaStatuses(_ pods: [ObservedPod], logTails: [String: [String]], previous: [ReplicaStatus]?) -> [ReplicaStatus] {
        var byIndex: [Int: ReplicaStatus] = [:]
        for old in previous ?? [] { byIndex[old.index] = old }
        for pod in pods {
            guard let index = pod.index else { continue }
            let old = byIndex[index]
            byIndex[index] = ReplicaStatus(
                index: index, podName: pod.name, node: pod.node ?? old?.node, exitCode: pod.exitCode ?? old?.exitCode,
                reason: pod.reason ?? old?.reason, message: pod.message ?? old?.message,
                lastLogLines: logTails[pod.name] ?? old?.lastLogLines)
        }
        return byIndex.keys.sorted().compactMap { byIndex[$0] }
    }

    public static func document(_ job: TrainingJob, status: TrainingJobStatus, pods: [ObservedPod], deleted: Bool = false) -> JSONValue {
        let spec = job.spec
        // Values from Secrets or ConfigMaps are referenced by name only: a record must never leak a secret.
        let env: [JSONValue] = (spec.env ?? []).map { e in
            if let value = e.value { return ["name": .string(e.name), "value": .string(value)] }
            return ["name": .string(e.name), "valueFrom": e.valueFrom ?? .null]
        }
        var record: JSONValue = [
            "job": .string(job.name),
            "namespace": .string(job.namespace),
            "uid": .string(job.uid),
            "generation": .int(job.generation),
            "image": .string(spec.image),
            // A run deleted before it finished is kept as `Deleted`, so cancelled runs stay in the history.
            "phase": .string(deleted ? "Deleted" : status.phase?.rawValue ?? ""),
            "replicas": .int(Int64(spec.effectiveReplicas)),
            "gpusPerReplica": .int(Int64(spec.gpu?.count ?? 0)),
        ]
        let objective = spec.effectiveObjective
        record["objective"] = ["metric": .string(objective.metric), "goal": .string(objective.effectiveGoal.rawValue)]
        if let digest = pods.compactMap(\.imageID).first { record["imageID"] = .string(digest) }
        if let product = spec.gpu?.product { record["gpuProduct"] = .string(product) }
        if let command = spec.command { record["command"] = .array(command.map(JSONValue.string)) }
        if let args = spec.args { record["args"] = .array(args.map(JSONValue.string)) }
        if !env.isEmpty { record["env"] = .array(env) }
        if let hp = spec.hyperparameters { record["hyperparameters"] = .object(hp.mapValues(JSONValue.string)) }
        if let dataset = spec.dataset { record["dataset"] = .string(dataset.uri) }
        if let commit = job.annotations[GantryLabels.gitCommit] { record["gitCommit"] = .string(commit) }
        if let experiment = job.labels[GantryLabels.experiment] { record["experiment"] = .string(experiment) }
        let nodes = Set(pods.compactMap(\.node)).sorted()
        if !nodes.isEmpty { record["nodes"] = .array(nodes.map(JSONValue.string)) }
        if let start = status.startTime { record["startTime"] = .string(start) }
        if let end = status.completionTime { record["completionTime"] = .string(end) }
        if let hours = status.gpuHours { record["gpuHours"] = .double(hours) }
        if let metrics = status.metrics, let value = try? JSONValue(encoding: metrics) { record["metrics"] = value.droppingNulls() }
        if let stop = status.earlyStop, let value = try? JSONValue(encoding: stop) { record["earlyStop"] = value.droppingNulls() }
        if let replicas = status.replicaStatuses {
            record["exitReasons"] = .array(replicas.map { r in
                var v: JSONValue = ["index": .int(Int64(r.index)), "pod": .string(r.podName)]
                if let code = r.exitCode { v["exitCode"] = .int(Int64(code)) }
                if let reason = r.reason { v["reason"] = .string(reason) }
                return v
            })
        }
        if let reason = status.conditions?.first(where: { ["Succeeded", "Failed", "EarlyStopped"].contains($0.type) && $0.status == .true }) {
            record["result"] = ["reason": .string(reason.reason), "message": .string(reason.message)]
        } else if deleted {
            record["result"] = ["reason": "Deleted", "message": .string("the TrainingJob was deleted while \(status.phase?.rawValue ?? "new")")]
        }
        return record
    }

    /// The record as an immutable ConfigMap without an owner (it outlives the job). The label value may be
    /// shortened (ChildNaming.labelValue); the annotation names the job exactly.
    public static func configMap(_ job: TrainingJob, status: TrainingJobStatus, pods: [ObservedPod], deleted: Bool = false) -> ConfigMap {
        var labels = TrainingPods.selectorLabels(job)
        labels["gantry.dev/record"] = "true"
        if let experiment = job.labels[GantryLabels.experiment] { labels[GantryLabels.experiment] = experiment }
        var cm = ConfigMap(name: name(job))
        ChildMetadata.stamp(&cm, name: name(job), owner: job, labels: labels, annotations: [GantryLabels.trainingJob: job.name], owned: false)
        cm.immutable = true
        cm.data = ["record.json": document(job, status: status, pods: pods, deleted: deleted).serialized()]
        return cm
    }
}

extension TrainingRecord {
    /// What a record says its run was judged by, and the run's best value of that metric (read back by
    /// `gantry records` and by an InferenceService's `model.fromTrainingJob`).
    public struct Judgement: Sendable, Hashable {
        public var metric: String
        public var goal: EarlyStopping.Goal
        /// The record has no goal for the metric (written before the controller recorded it): minimize is
        /// taken, and said to be assumed, never passed off as known.
        public var assumed: Bool
        /// nil when the run reported no finite value of the metric.
        public var value: Double?
        public var step: Int?
    }

    /// The record's `objective` with its best value, or for older records `metrics.best` under its own goal.
    public static func judgement(of document: JSONValue) -> Judgement? {
        let judgement: Judgement
        if let metric = document[path: "objective", "metric"]?.stringValue {
            let goal = document[path: "objective", "goal"]?.stringValue.flatMap(EarlyStopping.Goal.init(rawValue:))
            let best = bestEntry(of: metric, in: document)
            judgement = Judgement(metric: metric, goal: goal ?? .minimize, assumed: goal == nil,
                                  value: best?["value"]?.doubleValue, step: best?["step"]?.intValue.map { Int($0) })
        } else if let best = document[path: "metrics", "best"], let metric = best["name"]?.stringValue {
            let goal = best["goal"]?.stringValue.flatMap(EarlyStopping.Goal.init(rawValue:))
            judgement = Judgement(metric: metric, goal: goal ?? .minimize, assumed: goal == nil,
                                  value: best["value"]?.doubleValue, step: best["step"]?.intValue.map { Int($0) })
        } else {
            return nil
        }
        var finite = judgement
        if let v = finite.value, !v.isFinite { finite.value = nil }
        return finite
    }

    /// The run's hyperparameters. The controller writes strings; anything else is read as its JSON text rather
    /// than dropped.
    public static func hyperparameters(of document: JSONValue) -> [String: String] {
        (document["hyperparameters"]?.objectValue ?? [:]).mapValues { $0.stringValue ?? $0.serialized() }
    }

    /// The best entry of `metric`: `metrics.best` when it names that metric, else its entry in
    /// `metrics.additional` (the early-stopping metric and extra metrics are kept there with their own best).
    static func bestEntry(of metric: String, in document: JSONValue) -> JSONValue? {
        if let best = document[path: "metrics", "best"], best["name"]?.stringValue == metric { return best }
        let extra = document[path: "metrics", "additional"]?.arrayValue?.first { $0["name"]?.stringValue == metric }
        return extra?["best"]
    }
}
