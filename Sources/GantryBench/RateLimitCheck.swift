/// What a client's requests, as the API server received them, say about its rate limiter (pure arithmetic, so
/// unit tests feed made-up timelines).
///
/// The rule is client-go's token bucket (`flowcontrol.NewTokenBucketRateLimiter(qps, burst)`, over
/// `golang.org/x/time/rate`): "the bucket is initially filled with 'burst' tokens, and refills at a rate of
/// 'qps'. The maximum number of tokens in the bucket is capped at 'burst'". Hence, counting from the first
/// request t₀ of a burst, with the bucket holding at most B tokens then:
/// - by any instant t, at most B + Q·(t − t₀) requests were sent (`peakExcess` ≤ B), whatever idle spells came
///   between: this is "never above Q", allowing the bucket's start;
/// - a 1-second window holds at most Q + the tokens saved at its start: Q + B at the start, at most Q (⌊Q⌋
///   requests in a half-open window) once the first B requests spent the bucket and while the client stays
///   backlogged (`maxWindowAfterBurst`);
/// - while backlogged after the first B requests, requests arrive Q per second (`sustained`).
/// Server-side arrival times carry the network and event-loop jitter of each request (a few milliseconds), so a
/// window may catch one request more than the client sent in it.
struct RateLimitCheck: Sendable, Equatable {
    struct Arrival: Sendable, Equatable {
        /// Seconds since any fixed origin.
        var at: Double
        var isWrite: Bool
    }

    let qps: Double
    let burst: Int
    /// Requests of the burst, the ones the limiter governs, sorted by arrival.
    let arrivals: [Arrival]
    /// End of the backlogged period (the client had work queued until then), in the arrivals' seconds.
    let end: Double

    init(arrivals: [Arrival], qps: Double, burst: Int, end: Double) {
        self.arrivals = arrivals.sorted { $0.at < $1.at }
        self.qps = qps
        self.burst = burst
        self.end = end
    }

    /// The arrivals after the bucket's first `burst` tokens, up to `end`, and the time they span (from the
    /// `burst`-th arrival, when the bucket was spent).
    private var steady: (arrivals: ArraySlice<Arrival>, seconds: Double)? {
        guard arrivals.count > burst, burst >= 1 else { return nil }
        let start = arrivals[burst - 1].at
        let slice = arrivals[burst...].prefix { $0.at <= end }
        return end > start ? (slice, end - start) : nil
    }

    /// Requests per second after the bucket's initial tokens, up to `end`; nil when the burst was too short.
    var sustained: Double? { steady.map { Double($0.arrivals.count) / $0.seconds } }

    /// Writes (every method but GET) per second over the same span as `sustained`.
    var sustainedWrites: Double? { steady.map { Double($0.arrivals.filter(\.isWrite).count) / $0.seconds } }

    /// Most requests in a half-open 1-second window starting at any arrival.
    var maxWindow: Int { Self.maxWindow(arrivals[...]) }

    /// Most requests in a 1-second window starting at an arrival after the first `burst` (the bucket spent).
    var maxWindowAfterBurst: Int { arrivals.count > burst ? Self.maxWindow(arrivals[burst...]) : 0 }

    /// Most writes in a 1-second window starting at a write after the first `burst` arrivals.
    var maxWriteWindowAfterBurst: Int {
        arrivals.count > burst ? Self.maxWindow(ArraySlice(arrivals[burst...].filter(\.isWrite))) : 0
    }

    /// Largest lead of the requests over the steady rate: max over arrivals k (0-based) of (k + 1) − Q·(tₖ − t₀).
    /// The bucket bounds it by B.
    var peakExcess: Double {
        guard let first = arrivals.first else { return 0 }
        return arrivals.enumerated().map { Double($0.offset + 1) - qps * ($0.element.at - first.at) }.max() ?? 0
    }

    /// Two pointers over sorted arrivals: the largest count in [tᵢ, tᵢ + 1 s).
    private static func maxWindow(_ arrivals: ArraySlice<Arrival>) -> Int {
        let times = arrivals.map(\.at)
        var best = 0, last = 0
        for first in times.indices {
            if last < first { last = first }
            while last < times.count, times[last] < times[first] + 1 { last += 1 }
            best = max(best, last - first)
        }
        return best
    }
}
