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
    /// Ask Jupyter's REST API (`/api/status`, `/api/kernels`, `/api/terminals`); false for servers that are not
    /// Jupyter, which then need `probes`.
    public var jupyterAPI: Bool?
    /// More sources of activity, each asked every check period through the API server's pod proxy.
    public var probes: [ActivityProbe]?

    public init() {}

    public var effectiveJupyterAPI: Bool { jupyterAPI ?? true }

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

/// One extra source of activity: exactly one of its fields is set.
public struct ActivityProbe: Codable, Sendable, Hashable {
    /// An HTTP endpoint of the server answering JSON with `last_activity` (RFC 3339) or `lastHeartbeat`
    /// (milliseconds since the epoch, as code-server's `/healthz`).
    public var http: HTTPActivityProbe?
    /// A Prometheus text endpoint with a per-GPU utilisation gauge (dcgm-exporter's `DCGM_FI_DEV_GPU_UTIL`):
    /// utilisation at or above the threshold is activity now, so a training loop with no browser attached is
    /// not culled.
    public var gpuUtilization: GPUUtilizationProbe?

    public init(http: HTTPActivityProbe? = nil, gpuUtilization: GPUUtilizationProbe? = nil) {
        self.http = http
        self.gpuUtilization = gpuUtilization
    }
}

public struct HTTPActivityProbe: Codable, Sendable, Hashable {
    public var path: String
    public var port: Int?
    public var effectivePort: Int { port ?? 8888 }
}

public struct GPUUtilizationProbe: Codable, Sendable, Hashable {
    public var port: Int?
    public var path: String?
    public var metric: String?
    /// Percent.
    public var threshold: Double?
    public var effectivePort: Int { port ?? 9400 }
    public var effectivePath: String { path ?? "/metrics" }
    public var effectiveMetric: String { metric ?? "DCGM_FI_DEV_GPU_UTIL" }
    public var effectiveThreshold: Double { threshold ?? 10 }
}
