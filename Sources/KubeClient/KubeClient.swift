import Foundation
import KubeCore
import Logging

/// A client of the Kubernetes API over the system libcurl.
///
/// Thread-safe: immutable settings, credentials in an actor, transfers on one curl loop thread
/// (`CurlMultiLoop`). The verbs are in `KubeClient+Verbs.swift`, streams (watch events, log lines) in
/// `WatchStream.swift`; this file holds the request pipeline every verb goes through:
/// rate limit → credentials → transfer → metrics → status check → retry / re-authenticate.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    public let options: ClientOptions
    let endpoint: ServerEndpoint
    let loop: CurlMultiLoop
    let authenticator: Authenticator
    let rateLimiter: RateLimiter?
    let metrics: ClientMetrics
    var logger: Logger { options.logger }

    public init(config: KubeConfig, options: ClientOptions = .init()) throws {
        self.config = config
        self.options = options
        endpoint = try ServerEndpoint(config: config)
        loop = try CurlMultiLoop()
        authenticator = Authenticator(config: config)
        rateLimiter = options.qps.flatMap { $0 > 0 ? RateLimiter(qps: $0, burst: options.burst) : nil }
        metrics = ClientMetrics(factory: options.metricsFactory)
    }

    private init(sharing other: KubeClient) throws {
        config = other.config
        options = other.options
        endpoint = other.endpoint
        loop = try CurlMultiLoop()
        authenticator = other.authenticator
        rateLimiter = other.rateLimiter
        metrics = other.metrics
    }

    /// A client with a connection pool of its own and everything else shared: the rate limit's bucket (so one
    /// `qps` bounds both), credentials and metrics. For long-lived streams that must not queue ahead of writes.
    public func withOwnConnections() throws -> KubeClient { try KubeClient(sharing: self) }

    deinit { loop.stop() }

    public var defaultNamespace: String { config.namespace }

    /// One logical request: what the verbs describe before the pipeline sends it.
    struct Request: Sendable {
        var method: String
        var path: String
        var query: [(String, String)] = []
        var body: [UInt8]?
        var contentType: String?
        var accept = "application/json"
        /// Sent after the client's own (proxied requests: the caller's headers for the backend).
        var headers: [(String, String)] = []
        /// Proxied: a 401 is the backend's answer unless its body is the API server's own `Status`.
        var proxied = false
        /// Throw `APIError` for non-2xx answers (all verbs but `raw` and `proxy`).
        var checkStatus = true
        /// Watch and logs: read incrementally, no request timeout.
        var streaming = false
        /// For streams: a deadline after which a silent or stuck stream counts as dead (rule 5).
        var streamDeadline: Duration?
        /// Takes a token of the client-side rate limit: every request but a watch, as in client-go, whose
        /// `Request.Watch` says "we specifically don't want to rate limit watches" (log streams are limited).
        var rateLimited = true
    }

    /// Sends a request through the pipeline and returns a 2xx answer (or any answer when `checkStatus` is false).
    func send(_ request: Request) async throws -> HTTPResponse {
        try await withRetries(request) { transportRequest in
            let start = ContinuousClock.now
            do {
                let response = try await loop.perform(transportRequest)
                metrics.record(method: request.method, code: response.status, duration: .now - start)
                if request.checkStatus || response.status == 401 && (!request.proxied || Self.isAPIServerStatus(response)), !response.isSuccess {
                    throw Self.apiError(response)
                }
                return response
            } catch let error as KubeClientError {
                metrics.record(method: request.method, code: nil, duration: .now - start)
                throw error
            }
        }
    }

    /// Opens a streamed answer (watch, logs) and returns once a 2xx head arrived.
    func openStream(_ request: Request) async throws -> StreamHandle {
        try await withRetries(request) { transportRequest in
            let start = ContinuousClock.now
            let handle = StreamHandle(loop: loop, request: transportRequest, highWater: options.streamBufferBytes)
            handle.start()
            let head: StreamBuffer.Head
            do {
                head = try await handle.head()
            } catch let error as KubeClientError {
                metrics.record(method: request.method, code: nil, duration: .now - start)
                throw error
            }
            metrics.record(method: request.method, code: head.status, duration: .now - start)
            if !(200..<300).contains(head.status) {
                let body = try await handle.readAll()
                throw Self.apiError(HTTPResponse(status: head.status, headers: head.headers, body: body))
            }
            return handle
        }
    }

    /// Runs `attempt` with rate limiting, fresh credentials, one re-authentication after a 401 when the
    /// credentials can change, and retries of transient failures (`RetryPolicy`).
    private func withRetries<T>(_ request: Request, _ attempt: (TransportRequest) async throws -> T) async throws -> T {
        let policy = options.retryPolicy
        var rng = SystemRandomNumberGenerator()
        var failures = 0
        var reauthenticated = false
        while true {
            try Task.checkCancellation()
            if request.rateLimited, let rateLimiter { try await rateLimiter.acquire() }
            let credentials = try await authenticator.credentials()
            // Checked last before sending (after any wait for the rate limiter or credentials), at every attempt.
            if let fence = options.writeFence, !["GET", "HEAD"].contains(request.method), !fence() {
                throw KubeClientError.fenced(method: request.method, path: request.path)
            }
            let transportRequest = makeTransportRequest(request, credentials: credentials)
            do {
                return try await attempt(transportRequest)
            } catch let error as APIError where error.isUnauthorized {
                // Any 401 drops cached credentials (the next request re-reads the token file or re-runs the
                // plugin); this request is retried once when that can produce different credentials.
                await authenticator.invalidate()
                guard !reauthenticated && authenticator.canRefresh else { throw error }
                reauthenticated = true
                logger.debug("401 from the API server; refreshing credentials", metadata: ["path": .string(request.path)])
            } catch {
                if error is CancellationError || Task.isCancelled { throw error }
                guard policy.shouldRetry(method: request.method, error: error, attempt: failures) else { throw error }
                let delay = policy.delay(attempt: failures, error: error, random: &rng)
                failures += 1
                logger.debug("retrying after a transient failure", metadata: [
                    "method": .string(request.method), "path": .string(request.path),
                    "attempt": .stringConvertible(failures), "error": .string(String(describing: error)),
                ])
                try await Task.sleep(for: delay)
            }
        }
    }

    private func makeTransportRequest(_ request: Request, credentials: Credentials) -> TransportRequest {
        var headers: [(String, String)] = [("Accept", request.accept)]
        if let contentType = request.contentType { headers.append(("Content-Type", contentType)) }
        if let token = credentials.bearerToken { headers.append(("Authorization", "Bearer \(token)")) }
        headers += request.headers
        var tls = endpoint.tls
        tls.clientCertData = credentials.clientCertData
        tls.clientKeyData = credentials.clientKeyData
        return TransportRequest(method: request.method, url: endpoint.url(path: request.path, query: request.query),
                                headers: headers, body: request.body, timeout: request.streaming ? request.streamDeadline : options.requestTimeout,
                                connectTimeout: options.connectTimeout, tls: tls, userAgent: options.userAgent, proxy: config.proxyURL)
    }

    /// kube-apiserver answers a request it cannot authenticate with a `Status` (reason Unauthorized); a model
    /// server behind the proxy that wants its own key answers anything else.
    static func isAPIServerStatus(_ response: HTTPResponse) -> Bool {
        let body = try? JSONValue.parse(response.body)
        return body?["kind"] == "Status" && body?["reason"] == "Unauthorized"
    }

    static func apiError(_ response: HTTPResponse) -> APIError {
        let body = try? JSONValue.parse(response.body)  // a non-JSON body still yields an error with the status
        return APIError(code: response.status, body: body, retryAfterHeader: response.retryAfterSeconds)
    }
}
