import KubeCore

/// The Experiment kind: a hyperparameter search whose trials are TrainingJobs.
public enum ExperimentKind: CustomResourceKind {
    public typealias Spec = ExperimentSpec
    public typealias Status = ExperimentStatus
    public static let resourceType = ResourceType.experiments
    public static let emptyStatus = ExperimentStatus()
}

public typealias Experiment = CustomObject<ExperimentKind>
