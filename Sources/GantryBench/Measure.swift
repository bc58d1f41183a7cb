import Foundation

/// The in-house timing harness: warm-up runs (caches, lazy globals, allocator arenas), then N timed runs with
/// `ContinuousClock`, summarised as median and p99. Median rather than mean because the benchmark machine is
/// shared: a neighbour's burst shows in p99, not in the typical figure.
public struct Samples: Sendable {
    public private(set) var durations: [Duration] = []

    public init(_ durations: [Duration] = []) { self.durations = durations }

    public mutating func append(_ d: Duration) { durations.append(d) }

    public var count: Int { durations.count }
    public var median: Duration { percentile(50) }
    public var p99: Duration { percentile(99) }
    public var min: Duration { durations.min() ?? .zero }

    /// Nearest-rank percentile (no interpolation: with 20 samples p99 is the worst one, which is what we want).
    public func percentile(_ p: Double) -> Duration {
        guard !durations.isEmpty else { return .zero }
        let sorted = durations.sorted()
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[Swift.min(Swift.max(rank, 1), sorted.count) - 1]
    }
}

public enum Measure {
    /// Runs `body` `warmup` times untimed, then `iterations` times timed (wall clock), and the same runs' CPU
    /// time of the calling thread: on a shared machine the wall time includes waiting for a core, the thread's
    /// CPU time does not, so the pair shows how much of a figure is contention.
    public static func run(warmup: Int, iterations: Int, _ body: () throws -> Void) rethrows -> (wall: Samples, cpu: Samples) {
        for _ in 0..<warmup { try body() }
        var wall = Samples(), cpu = Samples()
        let clock = ContinuousClock()
        for _ in 0..<iterations {
            let cpuStart = threadCPUTime()
            let start = clock.now
            try body()
            wall.append(clock.now - start)
            cpu.append(threadCPUTime() - cpuStart)
        }
        return (wall, cpu)
    }

    /// CPU time consumed by the calling thread (`CLOCK_THREAD_CPUTIME_ID`).
    public static func threadCPUTime() -> Duration {
        var ts = timespec()
        guard clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0 else { return .zero }
        return .seconds(ts.tv_sec) + .nanoseconds(ts.tv_nsec)
    }
}

extension Duration {
    /// Seconds as a Double (Duration keeps attoseconds; figures are printed in ms or per-second rates).
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
    public var milliseconds: Double { seconds * 1000 }
}
