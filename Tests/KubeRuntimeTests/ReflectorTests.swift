import Testing
import Synchronization
import KubeCore
@testable import KubeRuntime

/// A ListerWatcher that plays a script: each call to `watch` takes the next scripted stream.
final class ScriptedSource: ListerWatcher {
    struct Script: Sendable {
        var lists: [([JSONValue], String)]
        var watches: [(events: [WatchEvent], error: (any Error)?)]
    }
    let state: Mutex<(script: Script, listCalls: Int, watchFrom: [String])>
    var description: String { "scripted" }

    init(_ script: Script) { state = Mutex((script, 0, [])) }

    func listAll() async throws -> (items: [JSONValue], resourceVersion: String) {
        try state.withLock { s in
            guard !s.script.lists.isEmpty else { throw WaitTimeout() }
            s.listCalls += 1
            return s.script.lists.removeFirst()
        }
    }

    func watch(resourceVersion: String, timeoutSeconds: Int) -> WatchEvents {
        let next = state.withLock { s -> (events: [WatchEvent], error: (any Error)?)? in
            s.watchFrom.append(resourceVersion)
            return s.script.watches.isEmpty ? nil : s.script.watches.removeFirst()
        }
        return AsyncThrowingStream<WatchEvent, any Error> { c in
            guard let next else { return }  // no more script: stays open (silent)
            for e in next.events { c.yield(e) }
            c.finish(throwing: next.error)
        }
    }
    var listCalls: Int { state.withLock { $0.listCalls } }
    var watchFrom: [String] { state.withLock { $0.watchFrom } }
}

func pod(_ name: String, rv: String) -> JSONValue {
    ["metadata": ["name": .string(name), "namespace": "ns", "resourceVersion": .string(rv),
                  "managedFields": [["manager": "kubectl"]]]]
}

@Suite struct ReflectorTests {
    @Test func listsThenWatchesFromTheListVersionAndResumesWithoutRelisting() async throws {
        let source = ScriptedSource(.init(
            lists: [([pod("a", rv: "5")], "10")],
            watches: [
                ([.added(pod("b", rv: "11")), .bookmark(resourceVersion: "15")], nil),  // normal end
                ([.deleted(pod("a", rv: "16"))], nil),
            ]))
        let store = Store()
        let reflector = Reflector(source: source, store: store, clock: ManualClock()) { _ in }
        var state = await reflector.step(.listing)
        #expect(state == .watching(resourceVersion: "10"))
        #expect(await store.hasSynced)
        #expect(await store.get(ObjectKey("ns/a"))?[path: "metadata", "managedFields"] == nil)  // projected
        state = await reflector.step(state)
        #expect(state == .watching(resourceVersion: "15"))  // bookmark advanced the resume version
        state = await reflector.step(state)
        #expect(state == .watching(resourceVersion: "16"))
        #expect(source.listCalls == 1)
        #expect(source.watchFrom == ["10", "15"])
        #expect(await store.count == 1)
    }

    @Test func goneAsWatchErrorEventOrHTTPErrorMeansRelist() async throws {
        let gone = APIError(code: 410, reason: "Expired", message: "too old resource version")
        let source = ScriptedSource(.init(
            lists: [([pod("a", rv: "1")], "1"), ([pod("b", rv: "30")], "30")],
            watches: [([.error(gone)], nil), ([], gone)]))
        let store = Store()
        let deleted = Mutex<[String]>([])
        let reflector = Reflector(source: source, store: store, clock: ManualClock()) { event in
            if case .deleted(let o) = event { deleted.withLock { $0.append(o.name ?? "") } }
        }
        var state = await reflector.step(.listing)
        state = await reflector.step(state)
        #expect(state == .listing)
        state = await reflector.step(state)
        #expect(state == .watching(resourceVersion: "30"))
        #expect(deleted.withLock { $0 } == ["a"])  // missed delete surfaced by the re-list
        state = await reflector.step(state)
        #expect(state == .listing)  // HTTP 410 when opening the watch
    }

    @Test func otherErrorsBackOffAndResumeFromTheLastVersion() async throws {
        struct Broken: Error {}
        let source = ScriptedSource(.init(lists: [([], "7")], watches: [([.added(pod("x", rv: "8"))], Broken())]))
        let reflector = Reflector(source: source, store: Store(), clock: ManualClock()) { _ in }
        var state = await reflector.step(.listing)
        state = await reflector.step(state)
        #expect(state == .backingOff(attempt: 1, relist: false, resumeFrom: "8"))
    }

    @Test func listFailuresBackOffLongerEachTimeUntilTwoMinutesWithoutFailure() async throws {
        // A CRD that is not installed answers 404 to every list: the retries must space out (0.8 s doubling to
        // 30 s), not come back every 0.8 s forever.
        let clock = ManualClock()
        let reflector = Reflector(source: ScriptedSource(.init(lists: [], watches: [])), store: Store(), clock: clock) { _ in }
        var attempts: [Int] = []
        for _ in 0..<8 {
            guard case .backingOff(let attempt, true, nil) = await reflector.step(.listing) else { Issue.record("no backoff"); return }
            attempts.append(attempt)
        }
        #expect(attempts == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect(reflector.backoff(attempt: 7) <= .seconds(36))  // capped at 30 s (+20% jitter)
        #expect(reflector.backoff(attempt: 3) >= .milliseconds(5120))  // 0.8 s · 2^3 (-20% jitter)
        clock.advance(by: .seconds(121))  // healthy for longer than healthyResetAfter
        #expect(await reflector.step(.listing) == .backingOff(attempt: 0, relist: true, resumeFrom: nil))
    }

    @Test func aSilentStreamIsDeclaredDead() async throws {
        let clock = ManualClock()
        let source = ScriptedSource(.init(lists: [([], "3")], watches: []))
        var options = Reflector.Options()
        options.watchTimeoutRange = 10...10
        options.silenceMargin = .seconds(5)
        let reflector = Reflector(source: source, store: Store(), options: options, clock: clock) { _ in }
        _ = await reflector.step(.listing)
        async let next = reflector.step(.watching(resourceVersion: "3"))
        try await waitFor { clock.sleeperCount == 1 }
        clock.advance(by: .seconds(15))
        #expect(await next == .backingOff(attempt: 0, relist: false, resumeFrom: "3"))
    }
}
