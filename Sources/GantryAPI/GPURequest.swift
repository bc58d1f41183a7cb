/// A typed GPU request, shared by every Gantry kind: how many, which product, and how they are shared.
public struct GPURequest: Codable, Sendable, Hashable {
    public enum Sharing: String, Codable, Sendable, Hashable, CaseIterable {
        /// Whole GPUs (`nvidia.com/gpu`).
        case exclusive = "Exclusive"
        /// Time-sliced replicas of a GPU (`nvidia.com/gpu.shared`).
        case timeSliced = "TimeSliced"
        /// A MIG slice (`nvidia.com/mig-<profile>`), profile in `migProfile`.
        case mig = "MIG"
    }

    /// GPUs per replica (per pod).
    public var count: Int
    /// Required `nvidia.com/gpu.product` label value, e.g. `NVIDIA-A100-SXM4-80GB` or `A100`.
    public var product: String?
    /// Minimum GPU memory in MiB, matched against the `nvidia.com/gpu.memory` node label.
    public var minMemoryMiB: Int?
    public var sharing: Sharing?
    /// MIG profile such as `1g.10gb`, required when `sharing` is `MIG`.
    public var migProfile: String?

    public init(count: Int, product: String? = nil, minMemoryMiB: Int? = nil, sharing: Sharing? = nil, migProfile: String? = nil) {
        self.count = count
        self.product = product
        self.minMemoryMiB = minMemoryMiB
        self.sharing = sharing
        self.migProfile = migProfile
    }

    public var effectiveSharing: Sharing { sharing ?? .exclusive }
}
