import KubeCore

/// The TrainingJob kind: spec and status types and where the API serves it.
public enum TrainingJobKind: CustomResourceKind {
    public typealias Spec = TrainingJobSpec
    public typealias Status = TrainingJobStatus
    public static let resourceType = ResourceType.trainingJobs
    public static let emptyStatus = TrainingJobStatus()
}

/// A decoded TrainingJob: identity from metadata plus typed spec and status. A status that does not decode
/// throws `.status` (never an empty status: a finished job would plan as new and start its pods again).
public typealias TrainingJob = CustomObject<TrainingJobKind>
