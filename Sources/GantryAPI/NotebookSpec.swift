import KubeCore

/// A Jupyter server with GPUs and a workspace that survives restarts, culled when idle.
public struct NotebookSpec: Codable, Sendable, Hashable {
    public var image: String
    public var resources: ComputeResources?
    public var gpu: GPURequest?
    public var env: [EnvVar]?
    public var podMetadata: PodMetadata?
    public var nodeSelector: [String: String]?
    public var tolerations: [JSONValue]?
    public var serviceAccountName: String?
    public var imagePullSecrets: [LocalObjectReference]?
    public var workspace: Workspace?
    /// Declarative stop and start: true deletes the pod (the workspace stays); false starts it again.
    public var stopped: Bool?
    public var culling: Culling?

    public init(image: String) { self.image = image }

    public var effectiveWorkspace: Workspace { workspace ?? Workspace() }
    public var effectiveCulling: Culling { culling ?? Culling() }
}

/// The persistent workspace: a claim Gantry creates (`size`), or one that exists (`claimName`).
public struct Workspace: Codable, Sendable, Hashable {
    public enum DeletePolicy: String, Codable, Sendable, Hashable, CaseIterable {
        /// The claim outlives the Notebook (the default: work is never lost by deleting a Notebook).
        case retain = "Retain"
        /// The claim is deleted with the Notebook (never on stop or cull).
        case delete = "Delete"
    }
    public var size: String?
    public var storageClassName: String?
    public var mountPath: String?
    public var claimName: String?
    public var deletePolicy: DeletePolicy?

    public init() {}

    public var effectiveSize: String { size ?? "10Gi" }
    public var effectiveMountPath: String { mountPath ?? "/home/jovyan" }
    public var effectiveDeletePolicy: DeletePolicy { deletePolicy ?? .retain }
}

/// When an idle notebook is stopped.
public struct Culling: Codable, Sendable, Hashable {
    /// False: never culled.
    public var enabled: Bool?
    /// Idle this long (no kernel busy, no connection, no activity reported) and the pod is deleted.
    public var idleTimeoutSeconds: Int?
    /// How often the server is asked how active it is.
    public var checkPeriodSeconds: Int?
    /// An Event this long before culling.
    public var warnBeforeSeconds: Int?

    public init() {}

    public var effectiveEnabled: Bool { enabled ?? true }

    /// The idle timeout in force under `policy`, and why it is not the spec's when it is limited.
    public func idleTimeout(under policy: NotebookPolicy?) -> (seconds: Int, limitedBy: String?) {
        let asked = idleTimeoutSeconds ?? policy?.defaultIdleTimeoutSeconds ?? 3600
        guard let max = policy?.maxIdleTimeoutSeconds else { return (asked, nil) }
        if !effectiveEnabled {
            return (max, "spec.culling.enabled is false, but the PlatformConfig's notebooks.maxIdleTimeoutSeconds (\(max)) applies to every notebook")
        }
        if asked > max {
            return (max, "spec.culling.idleTimeoutSeconds \(asked) is more than the PlatformConfig's notebooks.maxIdleTimeoutSeconds (\(max)); \(max) is used")
        }
        return (asked, nil)
    }
    public var effectiveCheckPeriodSeconds: Int { checkPeriodSeconds ?? 60 }
    public var effectiveWarnBeforeSeconds: Int { warnBeforeSeconds ?? 0 }
}
