import KubeCore

/// One pool of identical simulated nodes, as written in `gantry dev --nodes`:
/// `4x{gpu: 8, product: A100, memory: 640Gi}, 2x{cpu: 32}` (count defaults to 1).
///
/// Fields (all optional):
/// - `gpu`: GPUs per node; `product` (default `A100`); `gpuMemory` in MiB (default from the product, else 81920)
/// - `mig: {1g.10gb: 7}`: MIG instances **per GPU**, advertised as `nvidia.com/mig-<profile>` (the device
///   plugin's `mixed` strategy: MIG GPUs no longer advertise `nvidia.com/gpu`)
/// - `sharedGpu: 4`: time-slicing replicas per GPU, advertised as `nvidia.com/gpu.shared` (the device plugin's
///   `renameByDefault: true`) instead of `nvidia.com/gpu`
/// - `cpu`, `memory`, `pods` (default 110): capacity; defaults scale with the GPU count
/// - `taints: ["key=value:Effect", "key:Effect"]`: GPU nodes default to `nvidia.com/gpu=present:NoSchedule`;
///   `taints: []` removes it
/// - `labels: {k: v}`, `zone` (default `sim-zone-a`), `instanceType`, `spot: true`, `name` (node name prefix)
/// - `imagePull: 3`: seconds a pull of an image the node does not have takes (default 0: instant, but still
///   told apart from an image already present in the kubelet's Events)
struct NodePoolSpec: Sendable, Hashable {
    var count: Int = 1
    var namePrefix: String?
    var gpu: Int = 0
    var product: String = "A100"
    var gpuMemoryMiB: Int?
    var mig: [String: Int] = [:]
    var sharedGpu: Int?
    var cpu: ResourceQuantity?
    var memory: ResourceQuantity?
    var pods: Int = 110
    var taints: [Taint]?
    var labels: [String: String] = [:]
    var zone: String = "sim-zone-a"
    var instanceType: String?
    var spot: Bool = false
    var imagePullSeconds: Int = 0
    /// The node annotation the kubelet reads the pull time from.
    static let imagePullAnnotation = "sim.gantry.dev/image-pull-seconds"

    /// The pool used when `--nodes` is not given: two 8×A100 nodes and one CPU node.
    static let defaultSpec = "2x{gpu: 8, product: A100, gpuMemory: 81920}, 1x{cpu: 16}"

    static let knownFields = ["gpu", "product", "gpuMemory", "mig", "sharedGpu", "cpu", "memory", "pods", "taints",
                              "labels", "zone", "instanceType", "spot", "name", "imagePull"]
}

/// A node taint (`key=value:Effect`).
struct Taint: Sendable, Hashable {
    var key: String
    var value: String
    var effect: String

    static let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]

    /// Parses `key=value:Effect` or `key:Effect` as `kubectl taint` writes them.
    init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let effect = String(text[text.index(after: colon)...])
        guard Self.effects.contains(effect) else { return nil }
        let kv = text[..<colon]
        if let eq = kv.firstIndex(of: "=") {
            key = String(kv[..<eq]); value = String(kv[kv.index(after: eq)...])
        } else {
            key = String(kv); value = ""
        }
        guard !key.isEmpty else { return nil }
        self.effect = effect
    }

    init(key: String, value: String = "", effect: String) {
        self.key = key; self.value = value; self.effect = effect
    }

    init?(json: JSONValue) {
        guard let key = json["key"]?.stringValue, let effect = json["effect"]?.stringValue else { return nil }
        self.init(key: key, value: json["value"]?.stringValue ?? "", effect: effect)
    }

    var json: JSONValue {
        var v: JSONValue = ["key": .string(key), "effect": .string(effect)]
        if !value.isEmpty { v["value"] = .string(value) }
        return v
    }

    static let gpuDefault = Taint(key: "nvidia.com/gpu", value: "present", effect: "NoSchedule")
}
