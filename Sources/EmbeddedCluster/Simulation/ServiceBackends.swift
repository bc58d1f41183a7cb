import KubeCore

/// What the Endpoints and EndpointSlice controllers share: the pods that back a Service (selector, same
/// namespace, not finished; terminating ones included, each controller decides) and the ports each serves.
struct ServiceBackends {
    let publishNotReady: Bool
    let pods: [JSONValue]
    let servicePorts: [JSONValue]

    /// nil for services the controllers ignore (no selector, or ExternalName).
    init?(service: JSONValue, pods all: PodLabelIndex) {
        guard let selector = service[path: "spec", "selector"]?.objectValue, !selector.isEmpty,
              service[path: "spec", "type"]?.stringValue != "ExternalName"
        else { return nil }
        publishNotReady = service[path: "spec", "publishNotReadyAddresses"]?.boolValue ?? false
        servicePorts = service[path: "spec", "ports"]?.arrayValue ?? []
        pods = all.selecting(namespace: service.namespace ?? "", selector.compactMapValues(\.stringValue))
            .filter { !NodeUsage.isTerminal($0) }
    }

    /// The endpoint ports of `pod` (`name` always set, "" when the service port has none); nil when the service
    /// has ports and none resolves on this pod (a named `targetPort` it does not declare), so the pod is skipped.
    func ports(of pod: JSONValue) -> [JSONValue]? {
        var ports: [JSONValue] = []
        for sp in servicePorts {
            guard let port = EndpointsSimulator.resolve(targetPort: sp["targetPort"] ?? sp["port"] ?? .null, pod: pod) else { continue }
            var p: JSONValue = ["name": .string(sp["name"]?.stringValue ?? ""), "port": .int(port), "protocol": sp["protocol"] ?? "TCP"]
            if let ap = sp["appProtocol"] { p["appProtocol"] = ap }
            ports.append(p)
        }
        return !servicePorts.isEmpty && ports.isEmpty ? nil : ports
    }
}
