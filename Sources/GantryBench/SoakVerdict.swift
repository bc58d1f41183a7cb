import Foundation

/// One look at the controller during a soak.
public struct SoakSample: Sendable, Equatable {
    /// Since the churn started.
    public var at: Duration
    public var rssBytes: Int
    /// Sum of `workqueue_depth` over the controllers (from the controller's /metrics).
    public var queueDepth: Double
    /// Full re-lists by the controller since the previous sample: LISTs of a collection it also watches (a resumed
    /// watch or a bookmark makes none; only a 410 or a lost resume version does).
    public var relists: Int
}

/// Pass or fail of a soak, from its samples alone (pure, so the rule is unit-tested):
/// - RSS flat: the median of the last fifth of the samples exceeds the median of the first fifth after warm-up by
///   at most `maxRSSGrowthBytes` (medians, so one GC-like spike or a burst of churn decides nothing);
/// - zero full re-lists after warm-up (the faults of a soak cut watches and fail requests but never compact history,
///   so every watch can resume);
/// - the queue drained: depth 0 once the churn stopped and the faults were off (`drained`).
public struct SoakVerdict: Sendable, Equatable {
    public var rssBaselineBytes: Int
    public var rssFinalBytes: Int
    public var relistsAfterWarmUp: Int
    public var maxQueueDepth: Double
    /// Samples after warm-up with an empty queue: the queue kept coming back to zero under load.
    public var emptyQueueSamples: Int
    public var drained: Bool
    public var failures: [String]

    public var passed: Bool { failures.isEmpty }
    public var rssGrowthBytes: Int { rssFinalBytes - rssBaselineBytes }

    public init(samples: [SoakSample], warmUp: Duration, maxRSSGrowthBytes: Int, drained: Bool) {
        let steady = samples.filter { $0.at >= warmUp }
        let fifth = max(1, steady.count / 5)
        rssBaselineBytes = Self.median(steady.prefix(fifth).map(\.rssBytes))
        rssFinalBytes = Self.median(steady.suffix(fifth).map(\.rssBytes))
        relistsAfterWarmUp = steady.reduce(0) { $0 + $1.relists }
        maxQueueDepth = samples.map(\.queueDepth).max() ?? 0
        emptyQueueSamples = steady.filter { $0.queueDepth == 0 }.count
        self.drained = drained
        var failures: [String] = []
        if steady.count < 2 { failures.append("only \(steady.count) samples after warm-up: run longer") }
        if rssFinalBytes - rssBaselineBytes > maxRSSGrowthBytes {
            failures.append("RSS grew \(Self.mib(rssFinalBytes - rssBaselineBytes)) after warm-up (\(Self.mib(rssBaselineBytes)) → \(Self.mib(rssFinalBytes))), bound \(Self.mib(maxRSSGrowthBytes))")
        }
        if relistsAfterWarmUp > 0 { failures.append("\(relistsAfterWarmUp) full re-lists after warm-up, though every watch could resume") }
        if !drained { failures.append("the work queue did not return to zero once the churn stopped") }
        self.failures = failures
    }

    static func median(_ values: [Int]) -> Int {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[sorted.count / 2]
    }

    public static func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
}
