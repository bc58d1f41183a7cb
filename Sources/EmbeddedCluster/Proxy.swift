import Foundation

/// A request to `pods/{name[:port]}/proxy/...`, `services/{name[:port]}/proxy/...` or `nodes/{name}/proxy/...`.
public struct ProxyRequest: Sendable {
    public var kind: String          // "Pod", "Service", "Node"
    public var namespace: String?
    public var name: String
    public var port: String?
    public var method: String
    public var path: String          // "/" + the path after `/proxy/`
    public var query: [(String, String)]
    /// Lowercased names; only those kube-apiserver passes on (`forwarded(_:)`).
    public var headers: [String: String]
    public var body: [UInt8]

    /// The headers of a proxied request that reach the backend, as kube-apiserver forwards them: the
    /// authentication filter deleted `Authorization` and the impersonation filter `Impersonate-*`
    /// (k8s.io/apiserver filters), and Go's `httputil.ReverseProxy` under apimachinery's `UpgradeAwareHandler` drops
    /// the hop-by-hop headers and those `Connection` names; `Host` and `Content-Length` are the proxy's own.
    static func forwarded(_ headers: [String: String]) -> [String: String] {
        let named = (headers["connection"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let dropped = Set(named + ["authorization", "connection", "proxy-connection", "keep-alive", "proxy-authenticate",
                                   "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length"])
        return headers.filter { !dropped.contains($0.key) && !$0.key.hasPrefix("impersonate-") }
    }
}

public struct ProxyResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public init(status: Int, headers: [(String, String)] = [("Content-Type", "text/plain")], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// The simulation answers proxy requests (e.g. a scripted container's HTTP endpoint) by implementing this.
public protocol ProxyHandler: Sendable {
    func proxy(_ request: ProxyRequest) async -> ProxyResponse
}

/// Default: nothing listens behind the proxy.
public struct UnavailableProxy: ProxyHandler {
    public init() {}
    public func proxy(_ request: ProxyRequest) async -> ProxyResponse {
        let status = APIStatusError(code: 503, reason: "ServiceUnavailable",
                                    message: "no endpoints available for \(request.kind.lowercased()) \"\(request.name)\"")
        return ProxyResponse(status: 503, headers: [("Content-Type", "application/json")], body: status.status.serializedBytes())
    }
}

/// Holder so the handler can be replaced at runtime (`DevCluster.setProxyHandler`).
final class ProxyHooks: @unchecked Sendable {
    // @unchecked: `_handler` is read and written only under `lock`.
    private let lock = NSLock()
    private var _handler: any ProxyHandler = UnavailableProxy()
    var handler: any ProxyHandler {
        get { lock.withLock { _handler } }
        set { lock.withLock { _handler = newValue } }
    }
}
