import Foundation

/// Where one container is in its life at a given time, computed from its script alone, so no per-container
/// state needs to be stored: scripts are deterministic, so every run lasts the same and restarts follow the
/// kubelet's back-off. As in kuberuntime `doBackOff`, the first exit restarts at once (no back-off entry yet),
/// later ones wait 10 s, 20 s, 40 s … up to 5 min (`MaxContainerBackOff`); entries idle for 10 min are
/// forgotten, so runs that long always restart at once.
struct ContainerTimeline: Sendable, Hashable {
    enum State: Sendable, Hashable {
        /// Not started yet (`ContainerCreating`) or never startable (pull/config errors).
        case waiting(reason: String, message: String?)
        case running(startedAt: Date)
        /// Between runs: `CrashLoopBackOff` until `until`.
        case backOff(seconds: TimeInterval, until: Date)
        case terminated(Exit)
    }

    struct Exit: Sendable, Hashable {
        var code: Int32
        var reason: String
        var message: String?
        var startedAt: Date
        var finishedAt: Date
    }

    var state: State
    var restartCount: Int
    var lastTermination: Exit?
    /// Index of the current (or last) run, for stable container IDs.
    var run: Int

    /// True when the container will never run again (terminated and not restarted).
    var isFinal: Bool { if case .terminated = state { return true } else { return false } }
    var hasStarted: Bool {
        switch state {
        case .running, .backOff, .terminated: return true
        case .waiting: return lastTermination != nil
        }
    }

    static func backOff(afterRun k: Int, runLength: TimeInterval) -> TimeInterval {
        if runLength >= 600 || k == 0 { return 0 }
        return min(10 * pow(2, Double(min(k - 1, 10))), 300)
    }

    static func exitReason(code: Int32, explicit: String?) -> String {
        explicit ?? (code == 0 ? "Completed" : "Error")
    }

    /// The timeline of a container that may start at `firstStart`, under `restartPolicy`
    /// (`Always`, `OnFailure`, `Never`), at time `now`.
    static func at(_ now: Date, script: ContainerScript, firstStart: Date, restartPolicy: String) -> ContainerTimeline {
        guard now >= firstStart else {
            return ContainerTimeline(state: .waiting(reason: "ContainerCreating", message: nil), restartCount: 0, lastTermination: nil, run: 0)
        }
        guard let length = script.exitAfter, let exit = script.exit else {
            return ContainerTimeline(state: .running(startedAt: firstStart), restartCount: 0, lastTermination: nil, run: 0)
        }
        let restarts = restartPolicy == "Always" || (restartPolicy == "OnFailure" && exit.code != 0)
        func exitRecord(start: Date) -> Exit {
            Exit(code: exit.code, reason: exitReason(code: exit.code, explicit: exit.reason), message: exit.message,
                 startedAt: start, finishedAt: start.addingTimeInterval(length))
        }
        var k = 0
        var start = firstStart
        // Walk runs while the back-off still grows, then jump over whole periods of constant length.
        while true {
            let end = start.addingTimeInterval(length)
            let previous = k > 0 ? exitRecord(start: start.addingTimeInterval(-(length + backOff(afterRun: k - 1, runLength: length)))) : nil
            if now < end {
                return ContainerTimeline(state: .running(startedAt: start), restartCount: k, lastTermination: previous, run: k)
            }
            let record = exitRecord(start: start)
            guard restarts else {
                return ContainerTimeline(state: .terminated(record), restartCount: k, lastTermination: previous, run: k)
            }
            let wait = backOff(afterRun: k, runLength: length)
            let nextStart = end.addingTimeInterval(wait)
            if now < nextStart {
                return ContainerTimeline(state: .backOff(seconds: wait, until: nextStart), restartCount: k, lastTermination: record, run: k)
            }
            if wait >= 300 || length >= 600 {
                let period = length + wait
                let skip = Int((now.timeIntervalSince(nextStart) / period).rounded(.down))
                if skip > 0 {
                    k += 1 + skip
                    start = nextStart.addingTimeInterval(Double(skip) * period)
                    continue
                }
            }
            k += 1
            start = nextStart
        }
    }
}
