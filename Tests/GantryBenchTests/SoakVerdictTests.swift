import Testing
@testable import GantryBench

/// The rules that pass or fail `gantry soak`, on made-up samples (the soak itself is `make soak`).
@Suite struct SoakVerdictTests {
    static let mib = 1_048_576

    /// One sample every 5 s for `minutes`; `rss(i)` and `relists(i)` by index.
    static func samples(minutes: Int, rss: (Int) -> Int, depth: (Int) -> Double = { _ in 0 }, relists: (Int) -> Int = { _ in 0 }) -> [SoakSample] {
        (0..<(minutes * 12)).map { i in SoakSample(at: .seconds(5 * (i + 1)), rssBytes: rss(i), queueDepth: depth(i), relists: relists(i)) }
    }

    @Test func flatMemoryNoRelistsAndADrainedQueuePass() {
        // Noise and a spike do not move the medians; the warm-up's climb is not judged.
        let s = Self.samples(minutes: 10, rss: { i in i < 12 ? (10 + i) * Self.mib : (30 + i % 3) * Self.mib + (i == 70 ? 40 * Self.mib : 0) },
                             depth: { i in Double(i % 4) }, relists: { i in i < 6 ? 3 : 0 })
        let v = SoakVerdict(samples: s, warmUp: .seconds(120), maxRSSGrowthBytes: 8 * Self.mib, drained: true)
        #expect(v.passed, "\(v.failures)")
        #expect(v.relistsAfterWarmUp == 0 && v.maxQueueDepth == 3 && v.emptyQueueSamples > 0)
    }

    @Test func growthPastTheBoundAReListAfterWarmUpAndAQueueThatNeverDrainsEachFail() {
        let leaking = Self.samples(minutes: 10, rss: { i in (30 + i / 4) * Self.mib })
        let v = SoakVerdict(samples: leaking, warmUp: .seconds(120), maxRSSGrowthBytes: 8 * Self.mib, drained: true)
        #expect(v.failures.count == 1 && v.failures[0].hasPrefix("RSS grew"), "\(v.failures)")

        let relisting = Self.samples(minutes: 10, rss: { _ in 30 * Self.mib }, relists: { i in i == 100 ? 1 : 0 })
        #expect(SoakVerdict(samples: relisting, warmUp: .seconds(120), maxRSSGrowthBytes: 8 * Self.mib, drained: true).failures
            == ["1 full re-lists after warm-up, though every watch could resume"])

        let stuck = Self.samples(minutes: 10, rss: { _ in 30 * Self.mib })
        #expect(SoakVerdict(samples: stuck, warmUp: .seconds(120), maxRSSGrowthBytes: 8 * Self.mib, drained: false).failures
            == ["the work queue did not return to zero once the churn stopped"])
    }

    @Test func aListOfAWatchedCollectionIsAReListAndTheFirstListIsNot() {
        let t0 = ContinuousClock.now
        func r(_ method: String, _ path: String, _ query: String, _ ms: Int, agent: String = "gantry/0.1") -> RelistCounter.Request {
            RelistCounter.Request(method: method, path: path, query: query, userAgent: agent, received: t0 + .milliseconds(ms))
        }
        let pods = "/api/v1/pods"
        var counter = RelistCounter(ignoring: "gantry-soak")
        // The initial list, the watch, a resumed watch, a GET of one pod and the churn's own list: no re-list.
        #expect(counter.count([r("GET", pods, "limit=500", 1), r("GET", pods, "watch=true&resourceVersion=5", 2),
                               r("GET", pods, "watch=true&resourceVersion=9", 3), r("GET", pods + "/a", "", 4),
                               r("GET", pods, "", 5, agent: "gantry-soak")]) == 0)
        // Already counted requests are not counted again; a new LIST of the watched collection is one re-list.
        #expect(counter.count([r("GET", pods, "watch=true&resourceVersion=9", 3), r("GET", pods, "limit=500", 6)]) == 1)
    }
}
