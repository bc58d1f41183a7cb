import Foundation
import KubeCore

/// Container logs fed by the simulation (`append`, `end`) and read by `pods/log` (plain text, `follow` streams).
/// Each container keeps its last 10,000 lines.
public actor PodLogs {
    struct Line {
        var time: Date
        var text: String
        /// False for output that ended without a newline (a container's last write): served as written.
        var terminated: Bool
        var bytes: [UInt8] { Array((terminated ? text + "\n" : text).utf8) }
    }
    struct Log {
        var lines: [Line] = []
        var ended = false
        var followers: [UUID: Follower] = [:]
    }
    var logs: [String: Log] = [:]
    let lineLimit = 10_000

    public init() {}

    static func key(_ ns: String, _ pod: String, _ container: String) -> String { "\(ns)/\(pod)/\(container)" }

    /// Appends one line (without its newline) to a container's log and to every follower. `terminated: false`
    /// writes it without a newline, as a container's last output that did not end one.
    public func append(namespace: String, pod: String, container: String, line: String, at time: Date = Date(),
                       terminated: Bool = true) {
        let key = Self.key(namespace, pod, container)
        var log = logs[key] ?? Log()
        let entry = Line(time: time, text: line, terminated: terminated)
        log.lines.append(entry)
        if log.lines.count > lineLimit { log.lines.removeFirst(log.lines.count - lineLimit) }
        for (id, f) in log.followers {
            if case .dropped = f.continuation.yield(f.render(entry)) { f.continuation.finish(); log.followers[id] = nil }
        }
        logs[key] = log
    }

    /// Marks a container's log as finished (the container exited): followers' streams end.
    public func end(namespace: String, pod: String, container: String) {
        let key = Self.key(namespace, pod, container)
        var log = logs[key] ?? Log()
        log.ended = true
        for (_, f) in log.followers { f.continuation.finish() }
        log.followers = [:]
        logs[key] = log
    }

    /// Forgets a pod's logs (the pod was deleted); followers' streams end.
    public func remove(namespace: String, pod: String) {
        for key in logs.keys where key.hasPrefix("\(namespace)/\(pod)/") {
            for (_, f) in logs[key]?.followers ?? [:] { f.continuation.finish() }
            logs[key] = nil
        }
    }

    public func lines(namespace: String, pod: String, container: String) -> [String] {
        logs[Self.key(namespace, pod, container)]?.lines.map(\.text) ?? []
    }

    /// `since`: only lines written at or after it (the kubelet's `sinceTime`/`sinceSeconds`), before `tailLines`.
    /// A reader of `follow` logs: where its lines go, and how (with or without timestamps).
    struct Follower {
        var continuation: AsyncStream<[UInt8]>.Continuation
        var timestamps: Bool
        func render(_ line: Line) -> [UInt8] {
            timestamps ? Array("\(Timestamp.formatMicro(line.time)) ".utf8) + line.bytes : line.bytes
        }
    }

    /// The log as a stream, and how to end it early (the client went away).
    func read(namespace: String, pod: String, container: String, follow: Bool, tailLines: Int?, timestamps: Bool,
              since: Date? = nil) -> (stream: AsyncStream<[UInt8]>, end: @Sendable () -> Void) {
        let key = Self.key(namespace, pod, container)
        let (stream, c) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(20_000))
        var log = logs[key] ?? Log()
        var lines = log.lines
        if let since { lines = lines.filter { $0.time >= since } }
        if let tailLines, tailLines >= 0 { lines = Array(lines.suffix(tailLines)) }
        let follower = Follower(continuation: c, timestamps: timestamps)
        for line in lines { c.yield(follower.render(line)) }
        if follow && !log.ended {
            let id = UUID()
            log.followers[id] = follower
            logs[key] = log
            c.onTermination = { [weak self] _ in Task { await self?.dropFollower(key, id) } }
        } else {
            c.finish()
        }
        return (stream, { c.finish() })
    }

    func dropFollower(_ key: String, _ id: UUID) { logs[key]?.followers[id] = nil }

    /// How many `follow` readers a container's log has (tests wait on it instead of sleeping).
    public func followerCount(namespace: String, pod: String, container: String) -> Int {
        logs[Self.key(namespace, pod, container)]?.followers.count ?? 0
    }

    func finishAll() {
        for key in logs.keys {
            for (_, f) in logs[key]?.followers ?? [:] { f.continuation.finish() }
            logs[key]?.followers = [:]
        }
    }
}
