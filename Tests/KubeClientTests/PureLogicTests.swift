import Foundation
import KubeClient
import KubeCore
import Testing

@Suite("Line framing, retry policy, token bucket")
struct PureLogicTests {
    @Test func framerCarriesPartialLinesAcrossChunks() throws {
        var framer = LineFramer()
        #expect(try framer.append(Array("{\"a\":".utf8)).isEmpty)
        #expect(framer.pendingCount == 5)
        let lines = try framer.append(Array("1}\r\n{\"b\"".utf8))
        #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["{\"a\":1}"])
        let more = try framer.append(Array(":2}\n\n".utf8))
        #expect(more.map { String(decoding: $0, as: UTF8.self) } == ["{\"b\":2}", ""])
        #expect(framer.finish() == nil)
    }

    @Test func framerSplitsEveryByteBoundary() throws {
        let text = "alpha\nbeta\r\ngamma\n\ndelta"
        let bytes = Array(text.utf8)
        for cut in 0...bytes.count {
            var framer = LineFramer()
            var lines = try framer.append(bytes[..<cut])
            lines += try framer.append(bytes[cut...])
            if let last = framer.finish() { lines.append(last) }
            #expect(lines.map { String(decoding: $0, as: UTF8.self) } == ["alpha", "beta", "gamma", "", "delta"])
        }
    }

    @Test func framerBoundsLineLength() throws {
        var framer = LineFramer(maxLineLength: 8)
        _ = try framer.append(Array("12345".utf8))
        #expect(throws: KubeClientError.lineTooLong(limit: 8)) { try framer.append(Array("6789".utf8)) }
        var ok = LineFramer(maxLineLength: 8)
        #expect(try ok.append(Array("12345678\n".utf8)).count == 1)
    }

    @Test func retryDecisions() {
        let policy = RetryPolicy(maxRetries: 3)
        let retryAfter429 = APIError(code: 429, reason: "TooManyRequests", message: "", retryAfterSeconds: 2)
        let plain500 = APIError(code: 500, reason: "InternalError", message: "")
        let conflict = APIError(code: 409, reason: "Conflict", message: "")
        let refused = KubeClientError.transport(code: 7, message: "refused")
        let reset = KubeClientError.transport(code: 56, message: "reset")
        #expect(policy.shouldRetry(method: "POST", error: retryAfter429, attempt: 0))
        #expect(policy.shouldRetry(method: "GET", error: plain500, attempt: 2))
        #expect(!policy.shouldRetry(method: "GET", error: plain500, attempt: 3))  // maxRetries reached
        #expect(!policy.shouldRetry(method: "POST", error: plain500, attempt: 0))  // may have been applied
        #expect(!policy.shouldRetry(method: "PATCH", error: reset, attempt: 0))
        #expect(policy.shouldRetry(method: "PATCH", error: refused, attempt: 0))  // never left the client
        #expect(policy.shouldRetry(method: "DELETE", error: reset, attempt: 0))
        #expect(!policy.shouldRetry(method: "GET", error: conflict, attempt: 0))
        #expect(!policy.shouldRetry(method: "GET", error: CancellationError(), attempt: 0))
    }

    @Test func backoffIsJitteredExponentialAndHonoursRetryAfter() {
        let policy = RetryPolicy(maxRetries: 10, baseDelay: .milliseconds(100), maxDelay: .seconds(1))
        var rng = SystemRandomNumberGenerator()
        let error = APIError(code: 503, reason: "ServiceUnavailable", message: "")
        for attempt in 0..<8 {
            let expected = min(0.1 * Double(1 << attempt), 1.0)
            let d = policy.delay(attempt: attempt, error: error, random: &rng)
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            #expect(seconds >= expected / 2 - 1e-9 && seconds <= expected + 1e-9)
        }
        let withRetryAfter = APIError(code: 429, reason: "TooManyRequests", message: "", retryAfterSeconds: 3)
        #expect(policy.delay(attempt: 5, error: withRetryAfter, random: &rng) == .seconds(3))
    }

    @Test func tokenBucketAllowsBurstThenPaces() {
        let t0 = ContinuousClock.now
        var bucket = TokenBucket(qps: 10, burst: 3, now: t0)
        #expect(bucket.reserve(now: t0) == .zero)
        #expect(bucket.reserve(now: t0) == .zero)
        #expect(bucket.reserve(now: t0) == .zero)
        // Bucket empty: the 4th waits 0.1 s, the 5th 0.2 s (queued behind it).
        #expect(abs(seconds(bucket.reserve(now: t0)) - 0.1) < 1e-6)
        #expect(abs(seconds(bucket.reserve(now: t0)) - 0.2) < 1e-6)
        // After a second, the bucket is refilled up to its burst only.
        let later = t0 + .seconds(10)
        for _ in 0..<3 { #expect(bucket.reserve(now: later) == .zero) }
        #expect(bucket.reserve(now: later) > .zero)
    }

    func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
}
