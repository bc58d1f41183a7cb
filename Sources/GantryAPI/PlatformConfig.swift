import KubeCore

/// `PlatformConfig` (cluster-scoped, singleton `default`): the defaults and limits cluster admins keep in Git.
/// Changes apply without restarting the controller; the values a job received are reported in its status.
public struct PlatformConfigSpec: Codable, Sendable, Hashable {
    public var gpu: GPUSettings?
    /// Per-namespace GPU quotas for admission; a namespace without an entry is unlimited.
    public var quotas: [NamespaceQuota]?
    /// What happens to pods of a finished TrainingJob.
    public var finishedPodPolicy: FinishedPodPolicy?

    public init() {}

    public enum FinishedPodPolicy: String, Codable, Sendable, Hashable, CaseIterable {
        /// Delete pods at once so their GPUs are free (logs and exit reasons are kept in status first).
        case delete = "Delete"
        /// Keep finished pods (they hold no GPUs once terminated, but clutter the namespace).
        case keep = "Keep"
    }

    public var effectiveGPU: GPUSettings { gpu ?? GPUSettings() }
    public var effectiveFinishedPodPolicy: FinishedPodPolicy { finishedPodPolicy ?? .delete }

    public func quota(for namespace: String) -> Int? { quotas?.first { $0.namespace == namespace }?.gpus }

    public static let singletonName = "default"
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
