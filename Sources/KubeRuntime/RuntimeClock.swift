import Foundation
import Synchronization

/// Time as the runtime sees it: injected everywhere something waits or measures, so tests advance time
/// instead of sleeping (ARCHITECTURE: "Time").
public protocol RuntimeClock: Sendable {
    /// Monotonic time since an arbitrary origin.
    var now: Duration { get }
    /// Wall-clock time, for timestamps written to the API (conditions, events, leases).
    var wallNow: Date { get }
    func sleep(for duration: Duration) async throws
}

public struct SystemClock: RuntimeClock {
    private let origin = ContinuousClock.now
    public init() {}
    public var now: Duration { ContinuousClock.now - origin }
    public var wallNow: Date { Date() }
    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// A clock that moves only when told: sleepers wake when `advance` passes their deadline.
public final class ManualClock: RuntimeClock {
    private struct State {
        var now: Duration = .zero
        var wallOrigin: Date
        var sleepers: [(deadline: Duration, id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var nextID = 0
    }
    private let state: Mutex<State>

    public init(wallOrigin: Date = Date(timeIntervalSince1970: 1_780_000_000)) {
        state = Mutex(State(wallOrigin: wallOrigin))
    }

    public var now: Duration { state.withLock { $0.now } }
    public var wallNow: Date {
        state.withLock { s in s.wallOrigin.addingTimeInterval(Double(s.now.components.seconds) + Double(s.now.components.attoseconds) / 1e18) }
    }

    /// How many tasks are asleep on this clock (tests wait for a loop to park before advancing).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { s in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                // A cancelled sleeper throws, as Task.sleep does: a loop that sleeps must not spin once cancelled.
                if Task.isCancelled { c.resume(throwing: CancellationError()); return }
                let resumeNow = state.withLock { s -> Bool in
                    if duration <= .zero { return true }
                    s.sleepers.append((s.now + duration, id, c))
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return s.sleepers.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    public func advance(by duration: Duration) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now += duration
            let ready = s.sleepers.filter { $0.deadline <= s.now }
            s.sleepers.removeAll { $0.deadline <= s.now }
            return ready.map(\.continuation)
        }
        for c in due { c.resume() }
    }
}
