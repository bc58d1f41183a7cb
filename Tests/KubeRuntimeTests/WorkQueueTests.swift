import Testing
import KubeCore
@testable import KubeRuntime

@Suite struct WorkQueueTests {
    @Test func deduplicatesAndNeverHandsOneKeyToTwoWorkers() async {
        let q = WorkQueue<String>(clock: ManualClock())
        await q.add("a")
        await q.add("a")
        await q.add("b")
        #expect(await q.depth == 2)
        let first = await q.next()
        #expect(first == "a")
        await q.add("a")  // changes while processing: held back, not handed out
        #expect(await q.next() == "b")
        #expect(await q.depth == 0)
        await q.done("a")  // now re-queued
        #expect(await q.next() == "a")
    }

    /// A drained queue gives back its tables (`releaseCapacity`) without losing a key being processed or one
    /// added again while it was.
    @Test func aDrainedBurstKeepsItsSemantics() async {
        let q = WorkQueue<String>(clock: ManualClock())
        for i in 0..<5_000 { await q.add("k\(i)") }
        await q.add("k0")
        #expect(await q.depth == 5_000)
        var handed = Set<String>()
        for _ in 0..<5_000 { if let key = await q.next() { handed.insert(key) } }
        #expect(handed.count == 5_000)
        #expect(await q.depth == 0)
        await q.add("k7")  // changed while processing: held back, then queued by done
        await q.add("new")
        for key in handed { await q.done(key) }
        #expect(await q.depth == 2)
        let first = await q.next(), second = await q.next()
        #expect(Set([first, second].compactMap { $0 }) == ["k7", "new"])
    }

    @Test func backoffDoublesFromFiveMillisecondsToTheCap() async {
        let q = WorkQueue<String>(clock: ManualClock())
        #expect(await q.backoff(failures: 0) == .milliseconds(5))
        #expect(await q.backoff(failures: 3) == .milliseconds(40))
        #expect(await q.backoff(failures: 60) == .seconds(1000))
    }

    @Test func rateLimitedAddWaitsForTheClockAndForgetResets() async throws {
        let clock = ManualClock()
        let q = WorkQueue<String>(clock: clock)
        await q.addRateLimited("k")
        await q.addRateLimited("k")
        #expect(await q.failureCount("k") == 2)
        #expect(await q.depth == 0)
        try await waitFor { clock.sleeperCount >= 1 }
        clock.advance(by: .milliseconds(5))
        try await waitFor { await q.depth == 1 }
        await q.forget("k")
        #expect(await q.failureCount("k") == 0)
    }

    /// Two workers parked in `next()` (seen parked before the shutdown, not assumed) are released with nil.
    @Test func shutdownReleasesWaitingWorkers() async throws {
        let q = WorkQueue<String>(clock: ManualClock())
        async let first = q.next()
        async let second = q.next()
        try await waitFor { await parkedWorkers(q) == 2 }
        await q.shutDown()
        #expect(await first == nil)
        #expect(await second == nil)
        #expect(await parkedWorkers(q) == 0)
        #expect(await q.next() == nil, "a worker arriving after the shutdown gets nil at once")
    }
}

/// Workers parked in `q.next()`, read on the queue's actor from its private `waiters` (by reflection: the
/// queue exposes no count, and these tests must see a worker parked rather than assume it); -1 if the
/// queue's layout changed, which fails the waits that use it.
func parkedWorkers<Key: Hashable & Sendable>(_ q: isolated WorkQueue<Key>) -> Int {
    guard let waiters = Mirror(reflecting: q).descendant("waiters") else { return -1 }
    return Mirror(reflecting: waiters).children.count
}

/// Polls a condition with a deadline: tests wait on conditions, never on fixed sleeps.
func waitFor(timeout: Duration = .seconds(10), _ condition: @Sendable () async -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while !(await condition()) {
        if clock.now > deadline { throw WaitTimeout() }
        try await Task.sleep(for: .milliseconds(5))
    }
}

struct WaitTimeout: Error {}
