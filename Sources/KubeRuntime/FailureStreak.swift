import Synchronization

/// The consecutive failures of one reflector: they set its backoff and rate-limit its warnings.
///
/// A streak grows with each failure and ends only after `resetAfter` without one (client-go's backoff manager
/// resets after 2 min healthy). It is kept outside the reflector's states because a failed LIST and the LIST
/// retried after it are the same `.listing` state: without a memory, every retry started again at the first
/// delay and an absent CRD was listed ~9 times a second by the operator's seven reflectors.
final class FailureStreak: Sendable {
    struct Failure: Equatable {
        /// Backoff attempt, 0-based: the delay doubles with each.
        var attempt: Int
        /// Whether to log this failure as a warning (the first of a streak, then at most once per log interval).
        var log: Bool
        /// Failures not logged since the last warning.
        var suppressed: Int
    }

    private struct State {
        var attempt = -1
        var lastFailure: Duration?
        var lastLogged: Duration?
        var suppressed = 0
    }

    private let state = Mutex(State())
    let resetAfter: Duration
    let logInterval: Duration

    init(resetAfter: Duration, logInterval: Duration) {
        self.resetAfter = resetAfter
        self.logInterval = logInterval
    }

    /// Records a failure at `now`. `minimum` is the first attempt of a fresh streak (a watch that failed
    /// quickly starts one step up).
    func failed(at now: Duration, minimum: Int = 0) -> Failure {
        state.withLock { s in
            let continuing = s.lastFailure.map { now - $0 < resetAfter } ?? false
            s.attempt = continuing ? max(s.attempt + 1, minimum) : minimum
            if !continuing { s.lastLogged = nil; s.suppressed = 0 }
            s.lastFailure = now
            let log = s.lastLogged.map { now - $0 >= logInterval } ?? true
            if log {
                let suppressed = s.suppressed
                s.suppressed = 0
                s.lastLogged = now
                return Failure(attempt: s.attempt, log: true, suppressed: suppressed)
            }
            s.suppressed += 1
            return Failure(attempt: s.attempt, log: false, suppressed: s.suppressed)
        }
    }
}
