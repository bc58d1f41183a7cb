import Foundation
import KubeCore

/// The simulation's notion of time. Everything that waits or stamps goes through it so tests step time
/// instead of sleeping, and demos can run faster than real time.
protocol SimulationClock: Sendable {
    var now: Date { get }
    /// Sleeps for `seconds` of simulated time; throws `CancellationError` when the task is cancelled.
    func sleep(seconds: TimeInterval) async throws
}

/// Wall-clock time, optionally sped up: with `speed: 10` a script's `after: 60s` passes in 6 real seconds and
/// timestamps advance ten times as fast from the moment the clock was made.
struct SystemSimulationClock: SimulationClock {
    let speed: Double
    let origin: Date
    let realOrigin: ContinuousClock.Instant

    init(speed: Double = 1) {
        self.speed = speed > 0 && speed.isFinite ? speed : 1
        origin = Date()
        realOrigin = .now
    }

    var now: Date {
        let elapsed = realOrigin.duration(to: .now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return origin.addingTimeInterval(seconds * speed)
    }

    func sleep(seconds: TimeInterval) async throws {
        guard seconds > 0 else { return try Task.checkCancellation() }
        try await Task.sleep(for: .milliseconds(Int64(min(seconds / speed, 86_400) * 1000)))
    }
}

/// A clock tests move by hand. `sleep` returns once `advance` has moved time far enough (or at once when the
/// task is cancelled), so a driver under test can be stepped deterministically.
final class ManualSimulationClock: SimulationClock, @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private var current: Date
    private var waiters: [(deadline: Date, continuation: CheckedContinuation<Void, Never>)] = []

    init(_ start: Date = Date(timeIntervalSince1970: 1_780_000_000)) { current = start }

    var now: Date { lock.withLock { current } }

    func advance(by seconds: TimeInterval) {
        let ready: [CheckedContinuation<Void, Never>] = lock.withLock {
            current = current.addingTimeInterval(seconds)
            let due = waiters.filter { $0.deadline <= current }.map(\.continuation)
            waiters.removeAll { $0.deadline <= current }
            return due
        }
        for c in ready { c.resume() }
    }

    func sleep(seconds: TimeInterval) async throws {
        try Task.checkCancellation()
        let deadline = now.addingTimeInterval(seconds)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow: Bool = lock.withLock {
                    if deadline <= current || Task.isCancelled { return true }
                    waiters.append((deadline, c))
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let all: [CheckedContinuation<Void, Never>] = lock.withLock {
                let all = waiters.map(\.continuation)
                waiters.removeAll()
                return all
            }
            for c in all { c.resume() }
        }
        try Task.checkCancellation()
    }
}

/// Durations in scripts: `10s`, `0.2s`, `500ms`, `2m`, `1h`, `1m30s`, or a bare number of seconds.
enum SimDuration {
    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        var text: String
        var description: String { "invalid duration \"\(text)\": write e.g. 10s, 0.5s, 500ms, 2m or 1h30m" }
    }

    /// Ten years: longer durations are mistakes, and keeping them finite keeps all time arithmetic in range.
    static let maximum: TimeInterval = 315_360_000

    static func parse(_ value: JSONValue) throws(ParseError) -> TimeInterval {
        let seconds = try parseUnchecked(value)
        guard seconds.isFinite, seconds >= 0, seconds <= maximum else { throw ParseError(text: "\(value)") }
        return seconds
    }

    static func parseUnchecked(_ value: JSONValue) throws(ParseError) -> TimeInterval {
        switch value {
        case .int, .double:
            let d = value.doubleValue ?? -1
            guard d >= 0, d.isFinite else { throw ParseError(text: "\(value)") }
            return d
        case .string(let raw):
            let text = raw.simTrimmed
            if let d = Double(text), d >= 0 { return d }
            var total: TimeInterval = 0
            var number = ""
            var chars = Array(text)[...]
            guard !chars.isEmpty else { throw ParseError(text: raw) }
            while let c = chars.first {
                if c.isNumber || c == "." {
                    number.append(c); chars = chars.dropFirst(); continue
                }
                var unit = ""
                while let u = chars.first, u.isLetter { unit.append(u); chars = chars.dropFirst() }
                guard let n = Double(number) else { throw ParseError(text: raw) }
                switch unit {
                case "ms": total += n / 1000
                case "s": total += n
                case "m": total += n * 60
                case "h": total += n * 3600
                default: throw ParseError(text: raw)
                }
                number = ""
            }
            guard number.isEmpty else { throw ParseError(text: raw) }
            return total
        default:
            throw ParseError(text: "\(value)")
        }
    }

    /// `90` → `1m30s`, `0.2` → `200ms` (how durations appear in messages).
    static func format(_ seconds: TimeInterval) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return s % 60 == 0 ? "\(s / 60)m" : "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }
}
