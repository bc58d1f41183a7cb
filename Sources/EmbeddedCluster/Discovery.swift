import KubeCore

/// Legacy discovery documents (`/api`, `/apis`, `/apis/{g}`, `/api/v1`, `/apis/{g}/{v}`).
/// kubectl 1.32 asks for aggregated discovery first (`as=APIGroupDiscoveryList`) and falls back to these when the
/// answer's Content-Type is plain `application/json` (client-go discovery, `aggregated_discovery.go`).
enum Discovery {
    static let version: JSONValue = [
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-gantry", "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.4", "compiler": "gc",
        "platform": "linux/amd64",
    ]

    static let apiVersions: JSONValue = [
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]],
    ]

    /// Kubernetes version priority: GA > beta > alpha, higher numbers first (apimachinery's CompareKubeAwareVersionStrings).
    static func versionPriority(_ v: String) -> (Int, Int, Int) {
        let scanner = v.dropFirst()
        let major = Int(scanner.prefix { $0.isNumber }) ?? 0
        let rest = scanner.drop { $0.isNumber }
        if rest.isEmpty { return (3, major, 0) }
        let minor = Int(rest.drop { !$0.isNumber }) ?? 0
        if rest.hasPrefix("beta") { return (2, major, minor) }
        if rest.hasPrefix("alpha") { return (1, major, minor) }
        return (0, major, minor)
    }

    static func groups(_ served: [ResourceInfo]) -> [(name: String, versions: [String])] {
        var byGroup: [String: Set<String>] = [:]
        for info in served where !info.group.isEmpty { byGroup[info.group, default: []].insert(info.version) }
        let builtinOrder = BuiltinKinds.groupOrder
        let names = byGroup.keys.sorted { a, b in
            let ia = builtinOrder.firstIndex(of: a) ?? Int.max, ib = builtinOrder.firstIndex(of: b) ?? Int.max
            return ia != ib ? ia < ib : a < b
        }
        return names.map { name in
            (name, (byGroup[name] ?? []).sorted { versionPriority($0) > versionPriority($1) })
        }
    }

    static func groupJSON(_ name: String, _ versions: [String]) -> JSONValue {
        let vs: [JSONValue] = versions.map { ["groupVersion": .string("\(name)/\($0)"), "version": .string($0)] }
        return ["name": .string(name), "versions": .array(vs), "preferredVersion": vs.first ?? .null]
    }

    static func apiGroupList(_ served: [ResourceInfo]) -> JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(groups(served).map { groupJSON($0.name, $0.versions) })]
    }

    static func apiGroup(_ group: String, _ served: [ResourceInfo]) -> JSONValue? {
        guard let g = groups(served).first(where: { $0.name == group }) else { return nil }
        var j = groupJSON(g.name, g.versions)
        j["kind"] = "APIGroup"
        j["apiVersion"] = "v1"
        return j
    }

    /// Subresource entries as kube-apiserver lists them (name `pods/log`, their own kind and verbs).
    static func subresourceEntry(_ info: ResourceInfo, _ sub: String) -> JSONValue {
        var kind = info.kind
        var verbs: [JSONValue] = ["get", "patch", "update"]
        var group: String? = nil
        var version: String? = nil
        switch sub {
        case "log": verbs = ["get"]
        case "binding": kind = "Binding"; verbs = ["create"]
        case "eviction": kind = "Eviction"; verbs = ["create"]; group = "policy"; version = "v1"
        case "proxy": kind = "\(info.kind)ProxyOptions"; verbs = ["create", "delete", "get", "patch", "update"]
        case "scale": kind = "Scale"; group = "autoscaling"; version = "v1"
        case "finalize": verbs = ["update"]
        case "token": kind = "TokenRequest"; verbs = ["create"]; group = "authentication.k8s.io"; version = "v1"
        case "exec", "attach", "portforward": kind = "Pod\(sub == "exec" ? "Exec" : sub == "attach" ? "Attach" : "PortForward")Options"; verbs = ["create", "get"]
        case "ephemeralcontainers": verbs = ["get", "patch", "update"]
        default: break
        }
        var e: JSONValue = ["name": .string("\(info.plural)/\(sub)"), "singularName": "", "namespaced": .bool(info.namespaced),
                            "kind": .string(kind), "verbs": .array(verbs)]
        if let group { e["group"] = .string(group) }
        if let version { e["version"] = .string(version) }
        return e
    }

    static func resourceList(group: String, version: String, _ served: [ResourceInfo]) -> JSONValue? {
        let infos = served.filter { $0.group == group && $0.version == version }.sorted { $0.plural < $1.plural }
        guard !infos.isEmpty else { return nil }
        var resources: [JSONValue] = []
        for info in infos {
            var r: JSONValue = ["name": .string(info.plural), "singularName": .string(info.singular),
                                "namespaced": .bool(info.namespaced), "kind": .string(info.kind),
                                "verbs": .array(info.verbs.map(JSONValue.string))]
            if !info.shortNames.isEmpty { r["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
            if !info.categories.isEmpty { r["categories"] = .array(info.categories.map(JSONValue.string)) }
            resources.append(r)
            for sub in info.subresources.sorted() { resources.append(subresourceEntry(info, sub)) }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(resources)]
    }
}

/// Aggregated discovery (apidiscovery.k8s.io/v2, https://kubernetes.io/docs/concepts/overview/kubernetes-api/#aggregated-discovery):
/// one answer per `/api` or `/apis` with every resource of every version, sent when the client asks for it
/// (`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`); kubectl then needs no
/// per-group-version requests.
extension Discovery {
    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    static func wantsAggregated(_ accept: String) -> Bool {
        accept.split(separator: ",").first.map {
            $0.contains("as=APIGroupDiscoveryList") && $0.contains("v=v2") && !$0.contains("v=v2beta1")
        } ?? false
    }

    static func aggregated(core: Bool, _ served: [ResourceInfo]) -> JSONValue {
        let items: [JSONValue]
        if core {
            items = [groupDiscovery(name: nil, versions: ["v1"], served.filter { $0.group.isEmpty })]
        } else {
            items = groups(served).map { g in groupDiscovery(name: g.name, versions: g.versions, served.filter { $0.group == g.name }) }
        }
        return ["kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": .emptyObject, "items": .array(items)]
    }

    static func groupDiscovery(name: String?, versions: [String], _ infos: [ResourceInfo]) -> JSONValue {
        let vs: [JSONValue] = versions.map { v in
            let resources: [JSONValue] = infos.filter { $0.version == v }.sorted { $0.plural < $1.plural }.map { info in
                var r: JSONValue = [
                    "resource": .string(info.plural),
                    "responseKind": ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)],
                    "scope": .string(info.namespaced ? "Namespaced" : "Cluster"),
                    "singularResource": .string(info.singular),
                    "verbs": .array(info.verbs.map(JSONValue.string)),
                ]
                if !info.shortNames.isEmpty { r["shortNames"] = .array(info.shortNames.map(JSONValue.string)) }
                if !info.categories.isEmpty { r["categories"] = .array(info.categories.map(JSONValue.string)) }
                if !info.subresources.isEmpty {
                    r["subresources"] = .array(info.subresources.sorted().map { sub in
                        let legacy = subresourceEntry(info, sub)
                        return ["subresource": .string(sub),
                                "responseKind": ["group": legacy["group"] ?? .string(info.group),
                                                 "version": legacy["version"] ?? .string(info.version),
                                                 "kind": legacy["kind"] ?? .string(info.kind)],
                                "verbs": legacy["verbs"] ?? []]
                    })
                }
                return r
            }
            return ["version": .string(v), "resources": .array(resources), "freshness": "Current"]
        }
        var meta: JSONValue = .emptyObject
        if let name { meta["name"] = .string(name) }
        return ["metadata": meta, "versions": .array(vs)]
    }
}
