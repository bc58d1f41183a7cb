import GantryAPI
import KubeCore

/// A TrainingJob as a child object (an Experiment's trial), kept as JSON like every model.
public struct TrainingJobManifest: KubeResource {
    public static let resourceType = ResourceType.trainingJobs
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
}

/// Pure builders of an Experiment's trials: TrainingJobs `<experiment>-<n>` made from the template.
public enum TrialChildren {
    public static func name(_ exp: Experiment, index: Int) -> String {
        let full = "\(exp.name)-\(index)"
        // An experiment name is a DNS subdomain (≤ 253); only the longest ones need shortening.
        return full.count <= 253 ? full : ChildNaming.name(exp.name, String(index))
    }

    /// The trial's full spec: the template, the trial's values as hyperparameters, the experiment's objective
    /// and early stopping, and the experiment's suspend.
    public static func spec(_ exp: Experiment, parameters: [String: String]) -> TrainingJobSpec {
        var spec = exp.spec.template
        spec.hyperparameters = (spec.hyperparameters ?? [:]).merging(parameters) { _, trial in trial }
        var metrics = spec.metrics ?? MetricsSource()
        metrics.objective = MetricsSource.Objective(metric: exp.spec.objective.metric, goal: exp.spec.objective.effectiveGoal)
        spec.metrics = metrics
        if let stopping = exp.spec.earlyStopping { spec.earlyStopping = stopping }
        spec.suspend = exp.spec.suspend == true
        return spec
    }

    public static func trial(_ exp: Experiment, index: Int, parameters: [String: String]) throws -> TrainingJobManifest {
        var job = TrainingJobManifest(name: name(exp, index: index), namespace: exp.namespace)
        ChildMetadata.stamp(&job, name: name(exp, index: index), owner: exp,
                            labels: [GantryLabels.experiment: ChildNaming.labelValue(exp.name), GantryLabels.trialIndex: String(index)])
        job.json["spec"] = try JSONValue(encoding: spec(exp, parameters: parameters)).droppingNulls()
        return job
    }

    /// Only what Gantry changes on an existing trial: its suspend, following the experiment's. Every other field
    /// of a trial is immutable (TrainingJob's own rules), so nothing else is ever corrected.
    public static func suspension(_ exp: Experiment, name: String) -> TrainingJobManifest {
        var job = TrainingJobManifest(name: name, namespace: exp.namespace)
        job.json["spec"] = ["suspend": .bool(exp.spec.suspend == true)]
        return job
    }

    /// The seed in force: the spec's, else one derived from the uid (stable for the object's life).
    public static func seed(_ exp: Experiment) -> Int {
        exp.spec.seed ?? Int(ChildNaming.fnv1a(exp.uid) % UInt64(Int32.max))
    }
}
