import KubeCore

/// The Notebook kind: spec and status types and where the API serves it.
public enum NotebookKind: CustomResourceKind {
    public typealias Spec = NotebookSpec
    public typealias Status = NotebookStatus
    public static let resourceType = ResourceType.notebooks
    public static let emptyStatus = NotebookStatus()
}

public typealias Notebook = CustomObject<NotebookKind>
