import EmbeddedCluster

/// Answers every proxied request with the headers the API server passed on to the backend, one `name: value` a
/// line, sorted: what a model server behind the service proxy would see.
public struct HeaderEchoProxy: ProxyHandler {
    public init() {}
    public func proxy(_ request: ProxyRequest) async -> ProxyResponse {
        ProxyResponse(status: 200, body: Array(request.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)\n" }.joined().utf8))
    }
}
