import KubeCore

/// The InferenceService kind: spec and status types and where the API serves it.
public enum InferenceServiceKind: CustomResourceKind {
    public typealias Spec = InferenceServiceSpec
    public typealias Status = InferenceServiceStatus
    public static let resourceType = ResourceType.inferenceServices
    public static let emptyStatus = InferenceServiceStatus()
}

public typealias InferenceService = CustomObject<InferenceServiceKind>
