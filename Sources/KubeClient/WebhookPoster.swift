/// POSTs and GETs to URLs outside the API server (notification webhooks, a Prometheus query) with the same libcurl transport, so nothing
/// else in the process speaks HTTP on its own. System CAs verify TLS; there are no Kubernetes credentials.
public final class WebhookPoster: Sendable {
    let loop: CurlMultiLoop
    let userAgent: String

    public init(userAgent: String = "gantry/0.1 (linux) notifications") throws {
        loop = try CurlMultiLoop()
        self.userAgent = userAgent
    }

    deinit { loop.stop() }

    /// One attempt: the response whatever its status, or the transport's error.
    public func post(url: String, json body: [UInt8], timeout: Duration = .seconds(10)) async throws -> HTTPResponse {
        try await loop.perform(TransportRequest(method: "POST", url: url, headers: [("Content-Type", "application/json")], body: body,
                                                timeout: timeout, connectTimeout: .seconds(5), tls: TLSSettings(), userAgent: userAgent))
    }

    /// One GET: the response whatever its status, or the transport's error.
    public func get(url: String, timeout: Duration = .seconds(10)) async throws -> HTTPResponse {
        try await loop.perform(TransportRequest(method: "GET", url: url, headers: [("Accept", "application/json")], body: nil,
                                                timeout: timeout, connectTimeout: .seconds(5), tls: TLSSettings(), userAgent: userAgent))
    }
}
