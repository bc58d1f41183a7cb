import KubeCore

/// Gantry's API group and the resource types it serves.
public enum GantryGroup {
    public static let name = "gantry.dev"
    public static let version = "v1alpha1"
    public static let apiVersion = "\(name)/\(version)"
    /// `kubectl get gantry` lists every Gantry kind (API-SEMANTICS rule 23).
    public static let category = "gantry"
}

extension ResourceType {
    public static let trainingJobs = ResourceType(group: GantryGroup.name, version: GantryGroup.version, kind: "TrainingJob", plural: "trainingjobs", namespaced: true)
    public static let inferenceServices = ResourceType(group: GantryGroup.name, version: GantryGroup.version, kind: "InferenceService", plural: "inferenceservices", namespaced: true)
    public static let notebooks = ResourceType(group: GantryGroup.name, version: GantryGroup.version, kind: "Notebook", plural: "notebooks", namespaced: true)
    public static let experiments = ResourceType(group: GantryGroup.name, version: GantryGroup.version, kind: "Experiment", plural: "experiments", namespaced: true)
    public static let platformConfigs = ResourceType(group: GantryGroup.name, version: GantryGroup.version, kind: "PlatformConfig", plural: "platformconfigs", namespaced: false)
}

/// Labels and annotations Gantry writes or reads.
public enum GantryLabels {
    /// On every child: the name of the TrainingJob it belongs to (children are watched by this label only).
    public static let trainingJob = "gantry.dev/trainingjob"
    /// On every child: which Gantry controller manages it; the operator's child watches select on it.
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "gantry"
    /// On every child: the name of the object it belongs to (as a label value: shortened with a hash if needed).
    public static let instance = "app.kubernetes.io/instance"
    /// On every child: the Gantry kind it belongs to, lowercased (`trainingjob`, `inferenceservice`).
    public static let kind = "gantry.dev/kind"
    public static let replicaIndex = "gantry.dev/replica-index"
    public static let role = "gantry.dev/role"
    /// On an InferenceService's pods: the colour (blue, green) and the revision hash of their template.
    public static let color = "gantry.dev/color"
    public static let revision = "gantry.dev/revision"
    /// Jobs of one hyperparameter sweep share it; the median stopping rule compares them.
    public static let experiment = "gantry.dev/experiment"
    /// On an Experiment's trials: the trial's index in the search (1, 2, …).
    public static let trialIndex = "gantry.dev/trial-index"
    /// Annotation recorded in the experiment record.
    public static let gitCommit = "gantry.dev/git-commit"
    /// A job with this label is admitted by Kueue, not by Gantry's quota.
    public static let kueueQueueName = "kueue.x-k8s.io/queue-name"
}
