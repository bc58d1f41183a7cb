import GantryAPI
import KubeCore

/// What every Gantry kind's main container gets from its spec the same way.
enum ContainerSettings {
    /// The spec's variables as the Pod API's (`value` or `valueFrom`, kept whole).
    static func env(_ variables: [EnvVar]?) -> [Container.EnvVar] {
        (variables ?? []).map { e in
            var v = Container.EnvVar(json: ["name": .string(e.name)])
            if let value = e.value { v.value = value }
            if let from = e.valueFrom { v.json["valueFrom"] = from }
            return v
        }
    }

    /// CPU, memory and the GPU resource as limits, requests equal to them: Guaranteed QoS, so GPU work is the last
    /// thing evicted under memory pressure.
    static func resources(_ compute: ComputeResources?, placement: GPUPlacement) -> Container.Resources {
        var limits: [String: String] = [:]
        if let cpu = compute?.cpu { limits["cpu"] = cpu }
        if let memory = compute?.memory { limits["memory"] = memory }
        for (name, count) in placement.limits { limits[name] = String(count) }
        var resources = Container.Resources(json: .emptyObject)
        resources.limits = limits
        resources.requests = limits
        return resources
    }
}
