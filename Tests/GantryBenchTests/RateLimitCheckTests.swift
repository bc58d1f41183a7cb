import Testing
@testable import GantryBench

/// The token-bucket reading of a request timeline (pure arithmetic on made-up arrivals).
@Suite struct RateLimitCheckTests {
    /// What client-go's bucket lets a backlogged client do: B requests at once, then one every 1/Q s (Q a power
    /// of two in these tests, so the instants are exact binary fractions and window edges are not rounding).
    static func limited(qps: Int, burst: Int, after: Int, writeEvery: Int = 1) -> [RateLimitCheck.Arrival] {
        let times = Array(repeating: 0.0, count: burst) + (1...after).map { Double($0) / Double(qps) }
        return times.enumerated().map { .init(at: $0.element, isWrite: $0.offset % writeEvery == 0) }
    }

    @Test func aBackloggedClientBehindTheBucketMeetsEveryBound() throws {
        let check = RateLimitCheck(arrivals: Self.limited(qps: 16, burst: 8, after: 160), qps: 16, burst: 8, end: 10)
        #expect(abs(try #require(check.sustained) - 16) < 1e-9)
        #expect(check.maxWindowAfterBurst == 16, "a half-open second holds Q token-paced requests")
        #expect(check.maxWindow == 8 + 15, "the bucket's B at t₀ and Q − 1 more before t₀ + 1 s")
        #expect(abs(check.peakExcess - 8) < 1e-9)
    }

    @Test func writesAreCountedApartFromReads() throws {
        let check = RateLimitCheck(arrivals: Self.limited(qps: 32, burst: 4, after: 320, writeEvery: 3), qps: 32, burst: 4, end: 10)
        #expect(abs(try #require(check.sustainedWrites) - 32.0 / 3) < 0.2)
        #expect(check.maxWriteWindowAfterBurst <= 11)
    }

    /// The check can fail: a client sending 2·Q with no limiter breaks every bound.
    @Test func anUnlimitedClientIsCaught() throws {
        let arrivals = (0..<200).map { RateLimitCheck.Arrival(at: Double($0) / 32, isWrite: true) }
        let check = RateLimitCheck(arrivals: arrivals, qps: 16, burst: 8, end: 5)
        #expect(check.maxWindowAfterBurst == 32)
        #expect(check.peakExcess > 8)
        #expect(try #require(check.sustained) > 1.9 * 16)
    }

    /// An idle spell refills the bucket: the window after it may hold Q + B, and the overall lead stays ≤ B.
    @Test func anIdleSpellRefillsTheBucketWithinTheLead() {
        var arrivals = Self.limited(qps: 8, burst: 4, after: 16)  // until t = 2 s
        arrivals += Array(repeating: RateLimitCheck.Arrival(at: 5, isWrite: true), count: 4)  // 3 s idle: the bucket full again
        arrivals += (1...8).map { .init(at: 5 + Double($0) / 8, isWrite: true) }
        let check = RateLimitCheck(arrivals: arrivals, qps: 8, burst: 4, end: 6)
        #expect(check.maxWindowAfterBurst == 4 + 7)
        #expect(check.peakExcess <= 4 + 1e-9)
    }

    @Test func tooShortABurstHasNoSustainedRate() {
        let check = RateLimitCheck(arrivals: Self.limited(qps: 20, burst: 10, after: 1).prefix(10).map { $0 }, qps: 20, burst: 10, end: 0)
        #expect(check.sustained == nil && check.sustainedWrites == nil)
        #expect(check.maxWindowAfterBurst == 0)
    }
}
