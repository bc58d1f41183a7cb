import KubeCore

/// The EndpointSlice controller, pure (pkg/controller/endpointslice): a Service with a selector gets
/// discovery.k8s.io/v1 EndpointSlices labelled `kubernetes.io/service-name` and owned by the Service (so garbage
/// collection removes them with it). Endpoints with the same resolved ports share a slice of at most 100
/// endpoints; unlike Endpoints, not-ready and terminating pods are listed too, with their `ready`, `serving` and
/// `terminating` conditions. A Service without matching pods keeps one empty slice, as the real controller does.
enum EndpointSliceSimulator {
    static let serviceNameLabel = "kubernetes.io/service-name"
    static let managedByLabel = "endpointslice.kubernetes.io/managed-by"
    static let managedBy = "endpointslice-controller.k8s.io"
    static let maxEndpointsPerSlice = 100

    /// The content of one desired slice: its ports and endpoints (names are assigned by `reconcile`).
    struct Content: Equatable {
        var ports: JSONValue?
        var endpoints: [JSONValue]
    }

    /// nil for services the controller ignores (no selector, or ExternalName).
    static func desired(service: JSONValue, pods: [JSONValue]) -> [Content]? {
        desired(service: service, pods: PodLabelIndex(pods))
    }

    /// The same, with the pass's pods indexed once for every Service.
    static func desired(service: JSONValue, pods: PodLabelIndex) -> [Content]? {
        guard let backends = ServiceBackends(service: service, pods: pods) else { return nil }
        let publishNotReady = backends.publishNotReady
        var byPorts: [String: (ports: [JSONValue], endpoints: [JSONValue])] = [:]
        for pod in backends.pods {
            guard let ip = pod[path: "status", "podIP"]?.stringValue, !ip.isEmpty, let ports = backends.ports(of: pod) else { continue }
            // As endpointslice's podToEndpoint: serving is the pod's readiness; ready never while terminating,
            // unless the Service publishes not-ready addresses.
            let terminating = pod.deletionTimestamp != nil
            let serving = DaemonSetSimulator.isPodReady(pod)
            var endpoint: JSONValue = [
                "addresses": [.string(ip)],
                "conditions": ["ready": .bool(publishNotReady || (serving && !terminating)), "serving": .bool(serving),
                               "terminating": .bool(terminating)],
                "targetRef": ["kind": "Pod", "name": .string(pod.name ?? ""), "namespace": .string(pod.namespace ?? ""), "uid": .string(pod.uid ?? "")],
            ]
            if let node = pod[path: "spec", "nodeName"]?.stringValue { endpoint["nodeName"] = .string(node) }
            // A pod naming this Service as its subdomain is reachable by hostname (headless Services).
            if let hostname = pod[path: "spec", "hostname"]?.stringValue, pod[path: "spec", "subdomain"]?.stringValue == service.name {
                endpoint["hostname"] = .string(hostname)
            }
            let key = JSONValue.array(ports).serialized()
            byPorts[key, default: (ports, [])].endpoints.append(endpoint)
        }
        func ip(_ e: JSONValue) -> String { e["addresses"]?.arrayValue?.first?.stringValue ?? "" }
        var result: [Content] = []
        for key in byPorts.keys.sorted() {
            let group = byPorts[key]!
            let sorted = group.endpoints.sorted { ip($0) < ip($1) }
            for start in stride(from: 0, to: sorted.count, by: maxEndpointsPerSlice) {
                let chunk = Array(sorted[start..<min(start + maxEndpointsPerSlice, sorted.count)])
                result.append(Content(ports: group.ports.isEmpty ? nil : .array(group.ports), endpoints: chunk))
            }
        }
        return result.isEmpty ? [Content(ports: nil, endpoints: [])] : result
    }

    /// What to write so that the service's slices (`existing`: those labelled for it and managed by the
    /// controller) hold `desired`: existing slices are reused in name order, extra ones deleted, missing ones
    /// created with `generateName` `<service>-`.
    struct Plan {
        var create: [JSONValue] = []
        var update: [JSONValue] = []
        var delete: [ObjectKey] = []
    }

    static func reconcile(service: JSONValue, desired: [Content], existing: [JSONValue]) -> Plan {
        var plan = Plan()
        let reusable = existing.sorted { ($0.name ?? "") < ($1.name ?? "") }
        for (i, content) in desired.enumerated() {
            if i < reusable.count {
                var slice = reusable[i]
                let before = slice
                apply(content, service: service, to: &slice)
                if slice != before { plan.update.append(slice) }
            } else {
                var slice: JSONValue = ["apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
                                        "metadata": ["generateName": .string((service.name ?? "") + "-"),
                                                     "namespace": .string(service.namespace ?? "default")]]
                apply(content, service: service, to: &slice)
                plan.create.append(slice)
            }
        }
        plan.delete = reusable.dropFirst(desired.count).map(\.objectKey)
        return plan
    }

    static func apply(_ content: Content, service: JSONValue, to slice: inout JSONValue) {
        slice["endpoints"] = .array(content.endpoints)
        slice["ports"] = content.ports
        var labels = service.labels
        labels[serviceNameLabel] = service.name ?? ""
        labels[managedByLabel] = managedBy
        slice.labels = labels
        slice[path: "metadata", "ownerReferences"] = [[
            "apiVersion": "v1", "kind": "Service", "name": .string(service.name ?? ""), "uid": .string(service.uid ?? ""),
            "controller": true, "blockOwnerDeletion": true,
        ]]
    }
}
