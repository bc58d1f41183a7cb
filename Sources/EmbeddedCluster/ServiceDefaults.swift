import KubeCore

/// What kube-apiserver fills into a Service on every write, so `kubectl diff` and GitOps tools see no drift a real
/// cluster would not show: `SetDefaults_Service` (pkg/apis/core/v1/defaults.go) and the Service REST's IP-family
/// initialisation (pkg/registry/core/service/storage/alloc.go `initIPFamilyFields`) on a single-stack IPv4
/// cluster (`--service-cluster-ip-range` 10.96.0.0/12 only).
extension ObjectStore {
    /// `old` is the stored Service on an update, nil on a create. Runs before the cluster IP is allocated.
    static func defaultService(_ obj: inout JSONValue, old: JSONValue?) throws(APIStatusError) {
        var spec = obj["spec"] ?? .emptyObject
        defaultServiceFields(&spec)
        if let old {
            // NormalizeClusterIPs (pkg/registry/core/service/strategy.go): an update that keeps clusterIP but
            // leaves out clusterIPs (a client unaware of dual-stack) keeps the stored ones.
            if spec["clusterIP"] == old[path: "spec", "clusterIP"], (spec["clusterIPs"]?.arrayValue ?? []).isEmpty {
                spec["clusterIPs"] = old[path: "spec", "clusterIPs"]
            }
        } else if let ip = spec["clusterIP"]?.stringValue, !ip.isEmpty, (spec["clusterIPs"]?.arrayValue ?? []).isEmpty {
            spec["clusterIPs"] = [.string(ip)]
        } else if (spec["clusterIP"]?.stringValue ?? "").isEmpty, let first = spec["clusterIPs"]?.arrayValue?.first {
            spec["clusterIP"] = first
        }
        try initIPFamilies(&spec, old: old?["spec"], name: obj.name ?? "")
        obj["spec"] = spec
    }

    /// SetDefaults_Service, field for field.
    static func defaultServiceFields(_ spec: inout JSONValue) {
        if spec["type"] == nil { spec["type"] = "ClusterIP" }
        let type = spec["type"]?.stringValue ?? ""
        if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = "None" }
        if spec["sessionAffinity"] == "None" { spec["sessionAffinityConfig"] = nil }
        if spec["sessionAffinity"] == "ClientIP", spec["sessionAffinityConfig"]?["clientIP"]?["timeoutSeconds"] == nil {
            spec["sessionAffinityConfig"] = ["clientIP": ["timeoutSeconds": 10800]]  // DefaultClientIPServiceAffinitySeconds
        }
        if var ports = spec["ports"]?.arrayValue {
            for i in ports.indices {
                if ports[i]["protocol"] == nil { ports[i]["protocol"] = "TCP" }
                if ports[i]["targetPort"] == nil || ports[i]["targetPort"] == 0 || ports[i]["targetPort"] == "" { ports[i]["targetPort"] = ports[i]["port"] }
                if ports[i]["nodePort"]?.intValue == 0 { ports[i]["nodePort"] = nil }
            }
            spec["ports"] = .array(ports)
        }
        if ["NodePort", "LoadBalancer"].contains(type), spec["externalTrafficPolicy"] == nil { spec["externalTrafficPolicy"] = "Cluster" }
        if ["NodePort", "LoadBalancer", "ClusterIP"].contains(type), spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = "Cluster" }
        if type == "LoadBalancer", spec["allocateLoadBalancerNodePorts"] == nil { spec["allocateLoadBalancerNodePorts"] = true }
    }

    /// initIPFamilyFields on a cluster that serves IPv4 only: ExternalName Services get nothing; a policy left out
    /// is the stored one on an update, `RequireDualStack` for a headless Service without selector (which then lists
    /// both families, as upstream allows even on a single-stack cluster), else `SingleStack`; families left out are
    /// the stored ones, else the cluster's (IPv4).
    static func initIPFamilies(_ spec: inout JSONValue, old: JSONValue?, name: String) throws(APIStatusError) {
        guard spec["type"] != "ExternalName" else { return }
        let headlessWithoutSelector = spec["clusterIP"] == "None" && (spec["selector"]?.objectValue ?? [:]).isEmpty
        if spec["ipFamilyPolicy"] == nil {
            if let policy = old?["ipFamilyPolicy"] {
                spec["ipFamilyPolicy"] = policy
            } else {
                spec["ipFamilyPolicy"] = headlessWithoutSelector ? "RequireDualStack" : "SingleStack"
            }
        }
        if (spec["ipFamilies"]?.arrayValue ?? []).isEmpty, let families = old?["ipFamilies"] { spec["ipFamilies"] = families }
        var causes: [APIStatusError.Cause] = []
        let policy = spec["ipFamilyPolicy"]?.stringValue ?? ""
        let policies = ["PreferDualStack", "RequireDualStack", "SingleStack"]
        if !policies.contains(policy) {
            causes.append(.unsupported("spec.ipFamilyPolicy", policy, policies))
        }
        var families = spec["ipFamilies"]?.arrayValue ?? []
        for (i, family) in families.enumerated() where !["IPv4", "IPv6"].contains(family.stringValue ?? "") {
            causes.append(.unsupported("spec.ipFamilies[\(i)]", family.stringValue ?? "", ["IPv4", "IPv6"]))
        }
        if policy == "SingleStack", families.count == 2 {
            causes.append(.invalid("spec.ipFamilyPolicy", GoFormat.quote(policy), "must be 'RequireDualStack' or 'PreferDualStack' when multiple IP families are specified"))
        }
        if !causes.isEmpty { throw .invalid(kind: "Service", group: "", name: name, causes: causes) }
        if headlessWithoutSelector {
            if families.isEmpty { families = ["IPv4"] }
            if families.count < 2, policy != "SingleStack" { families.append(families.first == "IPv4" ? "IPv6" : "IPv4") }
            spec["ipFamilies"] = .array(families)
            return
        }
        if policy == "RequireDualStack" {
            causes.append(.invalid("spec.ipFamilyPolicy", GoFormat.quote(policy), "this cluster is not configured for dual-stack services"))
        }
        for (i, family) in families.enumerated() where family != "IPv4" {
            causes.append(.invalid("spec.ipFamilies[\(i)]", GoFormat.quote(family.stringValue ?? ""), "not configured on this cluster"))
        }
        if !causes.isEmpty { throw .invalid(kind: "Service", group: "", name: name, causes: causes) }
        if families.isEmpty { spec["ipFamilies"] = ["IPv4"] }
    }
}

extension APIStatusError.Cause {
    /// `field.NotSupported`: `Unsupported value: "x": supported values: "a", "b"`.
    static func unsupported(_ field: String, _ value: String, _ supported: [String]) -> Self {
        .init(field: field, reason: "FieldValueNotSupported",
              message: "Unsupported value: \(GoFormat.quote(value)): supported values: \(supported.map(GoFormat.quote).joined(separator: ", "))")
    }
}
