import KubeCore

/// Where a Kubernetes API path points (https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris).
enum Route: Sendable, Equatable {
    case version
    case health
    case apiVersions                       // /api
    case apiGroupList                      // /apis
    case apiGroup(String)                  // /apis/{group}
    case resourceList(group: String, version: String)   // /api/v1, /apis/{g}/{v}
    case openAPIv2
    case openAPIv3Index
    case openAPIv3(String)                 // /openapi/v3/{api/v1 | apis/g/v}
    case resource(ResourceRoute)
    case notFound
}

struct ResourceRoute: Sendable, Equatable {
    var group: String
    var version: String
    var plural: String
    var namespace: String?
    var name: String?
    var subresource: String?
    /// The path after `.../proxy/` for proxy subresources.
    var subpath: String = ""
    /// Legacy `/api/v1/watch/...` prefix.
    var legacyWatch = false
}

enum Router {
    static func route(_ path: String) -> Route {
        // Go's net/http hands kube-apiserver the decoded path: `configmaps/yaml%63m` names `yamlcm`.
        var segments = path.split(separator: "/", omittingEmptySubsequences: true).map { String($0).removingPercentEncoding ?? String($0) }
        // Keep a trailing empty subpath for proxy URLs ending in '/'.
        let trailingSlash = path.hasSuffix("/") && path.count > 1
        guard let first = segments.first else { return .notFound }
        switch first {
        case "version": return segments.count == 1 ? .version : .notFound
        case "healthz", "livez", "readyz": return .health
        case "openapi":
            if segments == ["openapi", "v2"] { return .openAPIv2 }
            if segments == ["openapi", "v3"] { return .openAPIv3Index }
            if segments.count >= 3, segments[1] == "v3" { return .openAPIv3(segments[2...].joined(separator: "/")) }
            return .notFound
        case "api":
            if segments.count == 1 { return .apiVersions }
            let version = segments[1]
            if segments.count == 2 { return .resourceList(group: "", version: version) }
            segments.removeFirst(2)
            return resource(group: "", version: version, rest: segments, trailingSlash: trailingSlash)
        case "apis":
            if segments.count == 1 { return .apiGroupList }
            if segments.count == 2 { return .apiGroup(segments[1]) }
            if segments.count == 3 { return .resourceList(group: segments[1], version: segments[2]) }
            let group = segments[1], version = segments[2]
            segments.removeFirst(3)
            return resource(group: group, version: version, rest: segments, trailingSlash: trailingSlash)
        default:
            return .notFound
        }
    }

    static func resource(group: String, version: String, rest input: [String], trailingSlash: Bool) -> Route {
        var rest = input
        var legacyWatch = false
        if rest.first == "watch" { legacyWatch = true; rest.removeFirst() }
        var r = ResourceRoute(group: group, version: version, plural: "", legacyWatch: legacyWatch)
        if rest.count >= 3, rest[0] == "namespaces", !(rest.count == 3 && (rest[2] == "status" || rest[2] == "finalize") && group.isEmpty) {
            r.namespace = rest[1]
            rest.removeFirst(2)
        }
        guard let plural = rest.first else { return .notFound }
        r.plural = plural
        if rest.count >= 2 { r.name = rest[1] }
        if rest.count >= 3 { r.subresource = rest[2] }
        if rest.count >= 4 {
            guard r.subresource == "proxy" else { return .notFound }
            r.subpath = rest[3...].joined(separator: "/")
        }
        if r.subresource == "proxy" && trailingSlash && !r.subpath.isEmpty { r.subpath += "/" }
        return .resource(r)
    }
}
