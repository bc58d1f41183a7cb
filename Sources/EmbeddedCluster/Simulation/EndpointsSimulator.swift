import KubeCore

/// The Endpoints controller, pure (pkg/controller/endpoint): a Service with a selector gets an Endpoints object of
/// the same name listing its pods. Ready pods go to `addresses`, others with an IP to `notReadyAddresses`
/// (all to `addresses` with `publishNotReadyAddresses`); terminating and finished pods are left out. Pods are
/// grouped into subsets by their resolved ports, and a named `targetPort` resolves per pod from its container
/// ports (a pod without that port is skipped for it, as the real controller does).
enum EndpointsSimulator {
    /// nil for services the controller ignores (no selector, or ExternalName).
    static func endpoints(service: JSONValue, pods: [JSONValue]) -> JSONValue? {
        endpoints(service: service, pods: PodLabelIndex(pods))
    }

    /// The same, with the pass's pods indexed once for every Service.
    static func endpoints(service: JSONValue, pods: PodLabelIndex) -> JSONValue? {
        guard let backends = ServiceBackends(service: service, pods: pods) else { return nil }
        struct Subset { var ports: [JSONValue]; var ready: [JSONValue] = []; var notReady: [JSONValue] = [] }
        var subsets: [String: Subset] = [:]
        for pod in backends.pods where pod.deletionTimestamp == nil {
            guard let ip = pod[path: "status", "podIP"]?.stringValue, !ip.isEmpty, let resolved = backends.ports(of: pod) else { continue }
            // Endpoints leave an unnamed port's name out.
            let ports = resolved.map { p -> JSONValue in
                var p = p
                if p["name"] == "" { p["name"] = nil }
                return p
            }
            var address: JSONValue = ["ip": .string(ip),
                                      "targetRef": ["kind": "Pod", "name": .string(pod.name ?? ""), "namespace": .string(pod.namespace ?? ""), "uid": .string(pod.uid ?? "")]]
            if let node = pod[path: "spec", "nodeName"]?.stringValue { address["nodeName"] = .string(node) }
            let key = JSONValue.array(ports).serialized()
            var subset = subsets[key] ?? Subset(ports: ports)
            if backends.publishNotReady || DaemonSetSimulator.isPodReady(pod) { subset.ready.append(address) } else { subset.notReady.append(address) }
            subsets[key] = subset
        }
        func byIP(_ a: JSONValue, _ b: JSONValue) -> Bool { (a["ip"]?.stringValue ?? "") < (b["ip"]?.stringValue ?? "") }
        let list: [JSONValue] = subsets.sorted { $0.key < $1.key }.map { _, s in
            var v: JSONValue = [:]
            if !s.ready.isEmpty { v["addresses"] = .array(s.ready.sorted(by: byIP)) }
            if !s.notReady.isEmpty { v["notReadyAddresses"] = .array(s.notReady.sorted(by: byIP)) }
            if !s.ports.isEmpty { v["ports"] = .array(s.ports) }
            return v
        }
        var ep: JSONValue = ["apiVersion": "v1", "kind": "Endpoints",
                             "metadata": ["name": .string(service.name ?? ""), "namespace": .string(service.namespace ?? "default")]]
        let labels = service.labels
        if !labels.isEmpty { ep.labels = labels }
        if !list.isEmpty { ep["subsets"] = .array(list) }
        return ep
    }

    /// An int targetPort as is; a name looked up in the pod's container ports.
    static func resolve(targetPort: JSONValue, pod: JSONValue) -> Int64? {
        if let n = targetPort.intValue { return n }
        guard let name = targetPort.stringValue else { return nil }
        if let n = Int64(name) { return n }
        for c in pod[path: "spec", "containers"]?.arrayValue ?? [] {
            for p in c["ports"]?.arrayValue ?? [] where p["name"]?.stringValue == name {
                return p["containerPort"]?.intValue
            }
        }
        return nil
    }
}
