import GantryAPI
import KubeCore
import KubeRuntime

/// The caches every Gantry controller reads. Child kinds are cached only where Gantry labels them
/// (`app.kubernetes.io/managed-by=gantry`), never every Pod or ConfigMap of the cluster.
public struct OperatorCaches: Sendable {
    public let trainingJobs = Store()
    public let pods = Store(projection: OperatorCaches.projectPod)
    public let services = Store()
    public let configMaps = Store(projection: OperatorCaches.projectConfigMap)
    public let nodes = Store(projection: OperatorCaches.projectNode)
    public let platformConfigs = Store()
    public let daemonSets = Store()

    public init() {}

    public static let childSelector = "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)"

    /// The effective PlatformConfig (`default`), or built-in defaults when there is none or it does not decode.
    public func platform() async -> PlatformConfigSpec {
        guard let object = await platformConfigs.get(ObjectKey(namespace: nil, name: PlatformConfigSpec.singletonName)),
              let spec = try? (object["spec"] ?? .emptyObject).decode(PlatformConfigSpec.self) else { return PlatformConfigSpec() }
        return spec
    }

    /// Pods keep what the planners read: identity, labels, owner, the parts of spec that place them, and
    /// status phase, conditions and container states (budget: docs/benchmarks.md).
    public static let projectPod: Store.Projection = { pod in
        var p: JSONValue = ["metadata": .object((pod["metadata"]?.objectValue ?? [:]).filter { keptPodMetadata.contains($0.key) })]
        // Annotations can be large (scripts, sidecar configs); only Gantry's own are read.
        let annotations = pod.annotations.filter { $0.key.hasPrefix("gantry.dev/") }
        if !annotations.isEmpty { p.annotations = annotations }
        p[path: "spec", "nodeName"] = pod[path: "spec", "nodeName"]
        if let status = pod["status"] {
            p[path: "status", "phase"] = status["phase"]
            p[path: "status", "reason"] = status["reason"]
            p[path: "status", "message"] = status["message"]
            // Only the conditions planners read, without timestamps and probe times (half the cost of a Pod).
            let conditions = (status["conditions"]?.arrayValue ?? []).filter { keptPodConditions.contains($0["type"]?.stringValue ?? "") }
                .map { c in JSONValue.object((c.objectValue ?? [:]).filter { ["type", "status", "reason", "message"].contains($0.key) }) }
            if !conditions.isEmpty { p[path: "status", "conditions"] = .array(conditions) }
            // Of container statuses: the image digest and why a container waits or ended.
            let containers = (status["containerStatuses"]?.arrayValue ?? []).map { c -> JSONValue in
                var kept: JSONValue = ["name": c["name"] ?? .null]
                kept["imageID"] = c["imageID"]
                if let t = c[path: "state", "terminated"] {
                    kept[path: "state", "terminated"] = .object((t.objectValue ?? [:]).filter { ["exitCode", "reason", "message"].contains($0.key) })
                } else if let w = c[path: "state", "waiting"] {
                    kept[path: "state", "waiting"] = .object((w.objectValue ?? [:]).filter { ["reason", "message"].contains($0.key) })
                }
                return kept
            }
            if !containers.isEmpty { p[path: "status", "containerStatuses"] = .array(containers) }
        }
        return p
    }

    static let keptPodMetadata: Set<String> = ["name", "namespace", "uid", "resourceVersion", "labels", "ownerReferences", "deletionTimestamp", "creationTimestamp"]

    static let keptPodConditions: Set<String> = ["Ready", "PodScheduled", "DisruptionTarget"]

    public static let projectConfigMap: Store.Projection = { cm in
        var c: JSONValue = ["metadata": cm["metadata"] ?? .emptyObject]
        c[path: "metadata", "managedFields"] = nil
        return c  // presence is what reconcilers check; data is never read from the cache
    }

    public static let projectNode: Store.Projection = { node in
        var n: JSONValue = ["metadata": ["name": node[path: "metadata", "name"] ?? .null, "labels": node[path: "metadata", "labels"] ?? .emptyObject,
                                         "resourceVersion": node[path: "metadata", "resourceVersion"] ?? .null]]
        n[path: "spec", "taints"] = node[path: "spec", "taints"]
        n[path: "spec", "unschedulable"] = node[path: "spec", "unschedulable"]
        n[path: "status", "allocatable"] = node[path: "status", "allocatable"]
        n[path: "status", "capacity"] = node[path: "status", "capacity"]
        n[path: "status", "conditions"] = node[path: "status", "conditions"]
        return n
    }
}
