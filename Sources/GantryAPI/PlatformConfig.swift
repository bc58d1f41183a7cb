import KubeCore

/// `PlatformConfig` (cluster-scoped, singleton `default`): the defaults and limits cluster admins keep in Git.
/// Changes apply without restarting the controller; the values a job received are reported in its status.
public struct PlatformConfigSpec: Codable, Sendable, Hashable {
    public var gpu: GPUSettings?
    /// Per-namespace GPU quotas for admission; a namespace without an entry is unlimited.
    public var quotas: [NamespaceQuota]?
    /// What happens to pods of a finished TrainingJob.
    public var finishedPodPolicy: FinishedPodPolicy?
    /// What training pods may use, and the securityContext they get.
    public var podPolicy: PodPolicy?
    /// Idle culling of Notebooks: the default idle timeout, and a maximum no Notebook may exceed.
    public var notebooks: NotebookPolicy?
    /// Where Gantry posts notifications (idle-culling warnings and culls; failed rollouts).
    public var notifications: Notifications?
    /// GPU-hour budgets per namespace and month (PlatformConfigBudgets.swift).
    public var budgets: GPUBudgets?
    /// Idle-GPU detection; off unless set.
    public var idleGPUs: IdleGPUSettings?
    /// The platform's Prometheus server, which InferenceServices may read instead of their pods
    /// (`rollout.analysis.source: Prometheus`, `autoscaling.query`).
    public var prometheus: PrometheusEndpoint?

    public init() {}

    public enum FinishedPodPolicy: String, Codable, Sendable, Hashable, CaseIterable {
        /// Delete pods at once so their GPUs are free (logs and exit reasons are kept in status first).
        case delete = "Delete"
        /// Keep finished pods (they hold no GPUs once terminated, but clutter the namespace).
        case keep = "Keep"
    }

    public var effectiveGPU: GPUSettings { gpu ?? GPUSettings() }
    public var effectiveFinishedPodPolicy: FinishedPodPolicy { finishedPodPolicy ?? .delete }
    public var effectivePodPolicy: PodPolicy { podPolicy ?? PodPolicy() }

    public func quota(for namespace: String) -> Int? { quotas?.first { $0.namespace == namespace }?.gpus }

    public static let singletonName = "default"
}

/// A Prometheus server's HTTP API (`/api/v1/query` is asked), reached from the operator's pod.
public struct PrometheusEndpoint: Codable, Sendable, Hashable {
    public var url: String
    public init(url: String) { self.url = url }
    /// Where a missing URL is set, for the messages that ask an admin for it.
    public static let field = "PlatformConfig \"\(PlatformConfigSpec.singletonName)\" spec.prometheus.url"
}

/// Limits on what a workload's pods may use, checked before admission (a violation makes the job Invalid with
/// the field named), and the securityContext Gantry gives its training pods.
public struct PodPolicy: Codable, Sendable, Hashable {
    public enum SecurityProfile: String, Codable, Sendable, Hashable, CaseIterable {
        /// Pod Security Standards' "restricted": non-root, no privilege escalation, no capabilities, RuntimeDefault seccomp.
        case restricted = "Restricted"
        /// No securityContext from Gantry (the image's user, the runtime's defaults).
        case none = "None"
    }
    /// Volume types pods may use (the key of a volume: `hostPath`, `persistentVolumeClaim`, ...).
    public var allowedVolumeTypes: [String]?
    /// Service accounts pods may run as (unset: any; the namespace's `default` is always allowed).
    public var allowedServiceAccounts: [String]?
    public var securityContext: SecurityProfile?

    public init() {}

    /// The volume types Pod Security's "restricted" level allows.
    public static let restrictedVolumeTypes = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                                               "persistentVolumeClaim", "projected", "secret"]
    public var effectiveVolumeTypes: [String] { allowedVolumeTypes ?? Self.restrictedVolumeTypes }
    public var effectiveSecurityContext: SecurityProfile { securityContext ?? .restricted }
}

public struct NamespaceQuota: Codable, Sendable, Hashable {
    public var namespace: String
    public var gpus: Int
    public init(namespace: String, gpus: Int) {
        self.namespace = namespace
        self.gpus = gpus
    }
}

/// Names of GPU resources and node labels: admins change them for other device plugins or vendors.
public struct GPUSettings: Codable, Sendable, Hashable {
    public var resourceName: String?
    public var sharedResourceName: String?
    public var migResourcePrefix: String?
    public var productLabel: String?
    public var memoryLabel: String?
    /// Tolerations added to every GPU pod (GPU node pools are usually tainted).
    public var tolerations: [JSONValue]?

    public init() {}

    public var effectiveResourceName: String { resourceName ?? "nvidia.com/gpu" }
    public var effectiveSharedResourceName: String { sharedResourceName ?? "nvidia.com/gpu.shared" }
    public var effectiveMIGResourcePrefix: String { migResourcePrefix ?? "nvidia.com/mig-" }
    public var effectiveProductLabel: String { productLabel ?? "nvidia.com/gpu.product" }
    public var effectiveMemoryLabel: String { memoryLabel ?? "nvidia.com/gpu.memory" }
    public var effectiveTolerations: [JSONValue] {
        tolerations ?? [["key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"]]
    }
}

/// What admins decide for every Notebook's culling.
public struct NotebookPolicy: Codable, Sendable, Hashable {
    public var defaultIdleTimeoutSeconds: Int?
    /// A longer idleTimeoutSeconds (or culling disabled) is limited to this, and the Notebook says so.
    public var maxIdleTimeoutSeconds: Int?
    public init() {}
}

/// A Slack-compatible incoming webhook (`{"text": ...}`), its URL kept in a Secret (it is a credential).
public struct Notifications: Codable, Sendable, Hashable {
    public struct SecretKeyRef: Codable, Sendable, Hashable {
        public var namespace: String
        public var name: String
        public var key: String?
        public var effectiveKey: String { key ?? "url" }
        public init(namespace: String, name: String, key: String? = nil) { self.namespace = namespace; self.name = name; self.key = key }
    }
    public var webhookSecretRef: SecretKeyRef?
    public init(webhookSecretRef: SecretKeyRef? = nil) { self.webhookSecretRef = webhookSecretRef }
}

