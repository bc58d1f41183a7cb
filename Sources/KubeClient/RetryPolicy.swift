import KubeCore

/// When and how long to wait before retrying a failed request.
///
/// Transient answers are retried with jittered exponential backoff, at most `maxRetries` times:
/// - 429 and 503 *with* `Retry-After`: the server refused before doing anything, so every verb may retry,
///   after the delay it asked for (rule 14);
/// - 500, 502, 503, 504 and transport failures: only idempotent verbs (GET, HEAD, PUT, DELETE), since a
///   POST or PATCH may have been applied before the failure;
/// - connection failures (refused, unresolvable): every verb, the request never left.
/// Everything else (4xx, decode errors, cancellation) surfaces at once.
public struct RetryPolicy: Sendable, Hashable {
    public var maxRetries: Int
    public var baseDelay: Duration
    public var maxDelay: Duration

    public init(maxRetries: Int = 3, baseDelay: Duration = .milliseconds(200), maxDelay: Duration = .seconds(10)) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    static let idempotentMethods: Set<String> = ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]

    /// Whether attempt number `attempt` (0 = the first try) that failed with `error` may be retried.
    public func shouldRetry(method: String, error: any Error, attempt: Int) -> Bool {
        guard attempt < maxRetries else { return false }
        let idempotent = Self.idempotentMethods.contains(method)
        if let api = error as? APIError {
            if (api.code == 429 || api.code == 503) && api.retryAfterSeconds != nil { return true }
            return idempotent && [500, 502, 503, 504].contains(api.code)
        }
        if let client = error as? KubeClientError {
            if client.isConnectFailure { return true }
            return idempotent && client.isTransientTransport
        }
        return false
    }

    /// Delay before retry number `attempt + 1`: the server's `Retry-After` when given (capped at a minute),
    /// else `baseDelay · 2^attempt` capped at `maxDelay`, with "full jitter" in [d/2, d] so that many clients
    /// failing together do not come back together.
    public func delay(attempt: Int, error: any Error, random: inout some RandomNumberGenerator) -> Duration {
        if let api = error as? APIError, let seconds = api.retryAfterSeconds {
            return .seconds(min(max(seconds, 0), 60))
        }
        let base = Double(baseDelay.components.seconds) + Double(baseDelay.components.attoseconds) / 1e18
        let cap = Double(maxDelay.components.seconds) + Double(maxDelay.components.attoseconds) / 1e18
        let exponential = min(cap, base * Double(1 << min(attempt, 30)))
        let jittered = Double.random(in: (exponential / 2)...exponential, using: &random)
        return .nanoseconds(Int64(jittered * 1e9))
    }
}
