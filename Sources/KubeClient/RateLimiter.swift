import Synchronization

/// A token bucket: `qps` tokens per second, holding at most `burst`.
///
/// Pure arithmetic on instants so tests drive it with made-up times. `reserve` always succeeds and returns how
/// long the caller must wait for its token (tokens may go negative: later callers queue behind earlier ones),
/// like Go's `rate.Limiter.Reserve`, which client-go uses.
public struct TokenBucket: Sendable {
    public let qps: Double
    public let burst: Int
    private var tokens: Double
    private var last: ContinuousClock.Instant

    public init(qps: Double, burst: Int, now: ContinuousClock.Instant) {
        self.qps = qps
        self.burst = max(1, burst)
        tokens = Double(self.burst)
        last = now
    }

    public mutating func reserve(now: ContinuousClock.Instant) -> Duration {
        if now > last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            tokens = min(Double(burst), tokens + seconds * qps)
            last = now
        }
        tokens -= 1
        if tokens >= 0 { return .zero }
        return .nanoseconds(Int64(-tokens / qps * 1e9))
    }
}

/// Client-side rate limiting shared by all requests of a client (rule 20). Off by default (see `ClientOptions`).
final class RateLimiter: Sendable {
    private let bucket: Mutex<TokenBucket>

    init(qps: Double, burst: Int) {
        bucket = Mutex(TokenBucket(qps: qps, burst: burst, now: .now))
    }

    func acquire() async throws {
        let wait = bucket.withLock { $0.reserve(now: .now) }
        if wait > .zero { try await Task.sleep(for: wait) }
    }
}
