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
        var followers: [UUID: AsyncStream<[UInt8]>.Continuation] = [:]
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
        for (id, c) in log.followers {
            if case .dropped = c.yield(entry.bytes) { c.finish(); log.followers[id] = nil }
        }
        logs[key] = log
    }

    /// Marks a container's log as finished (the container exited): followers' streams end.
    public func end(namespace: String, pod: String, container: String) {
        let key = Self.key(namespace, pod, container)
        var log = logs[key] ?? Log()
        log.ended = true
        for (_, c) in log.followers { c.finish() }
        log.followers = [:]
        logs[key] = log
    }

    /// Forgets a pod's logs (the pod was deleted); followers' streams end.
    public func remove(namespace: String, pod: String) {
        for key in logs.keys where key.hasPrefix("\(namespace)/\(pod)/") {
            for (_, c) in logs[key]?.followers ?? [:] { c.finish() }
            logs[key] = nil
        }
    }

    public func lines(namespace: String, pod: String, container: String) -> [String] {
        logs[Self.key(namespace, pod, container)]?.lines.map(\.text) ?? []
    }

    /// `since`: only lines written at or after it (the kubelet's `sinceTime`/`sinceSeconds`), before `tailLines`.
    func read(namespace: String, pod: String, container: String, follow: Bool, tailLines: Int?, timestamps: Bool,
              since: Date? = nil) -> AsyncStream<[UInt8]> {
        let key = Self.key(namespace, pod, container)
        let (stream, c) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(20_000))
        var log = logs[key] ?? Log()
        var lines = log.lines
        if let since { lines = lines.filter { $0.time >= since } }
        if let tailLines, tailLines >= 0 { lines = Array(lines.suffix(tailLines)) }
        for line in lines {
            c.yield(timestamps ? Array("\(Timestamp.formatMicro(line.time)) ".utf8) + line.bytes : line.bytes)
        }
        if follow && !log.ended {
            let id = UUID()
            log.followers[id] = c
            logs[key] = log
            c.onTermination = { [weak self] _ in Task { await self?.dropFollower(key, id) } }
        } else {
            c.finish()
        }
        return stream
    }

    func dropFollower(_ key: String, _ id: UUID) { logs[key]?.followers[id] = nil }

    /// How many `follow` readers a container's log has (tests wait on it instead of sleeping).
    public func followerCount(namespace: String, pod: String, container: String) -> Int {
        logs[Self.key(namespace, pod, container)]?.followers.count ?? 0
    }

    func finishAll() {
        for key in logs.keys {
            for (_, c) in logs[key]?.followers ?? [:] { c.finish() }
            logs[key]?.followers = [:]
        }
    }
}
