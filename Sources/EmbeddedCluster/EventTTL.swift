import Foundation
import KubeCore

/// kube-apiserver keeps Events for `--event-ttl` (one hour by default) after their last write: etcd drops them
/// when the lease each write attaches runs out, and watchers see them DELETED. Without it the server grew with
/// every run. Here an Event expires one TTL after it was last observed: the latest of its creation,
/// `lastTimestamp` and `series.lastObservedTime`, which a recorder's repeat moves on with the write that renews
/// the lease upstream. (`eventTime` is when it first happened, not a write.)
extension ObjectStore {
    /// Deletes the Events last observed before `now - ttl`; returns how many.
    @discardableResult
    func expireEvents(now: Date, ttl: TimeInterval) -> Int {
        let cutoff = now.addingTimeInterval(-ttl)
        var expired = 0
        for event in objects["events"]?.values.map({ $0 }) ?? [] {
            guard let name = event.name, Self.lastObserved(event).map({ $0 < cutoff }) ?? false else { continue }
            do {
                _ = try delete("events", namespace: event.namespace, name: name)
                expired += 1
            } catch {
                continue  // deleted meanwhile
            }
        }
        return expired
    }

    static func lastObserved(_ event: JSONValue) -> Date? {
        let times = [event["lastTimestamp"], event[path: "series", "lastObservedTime"], event[path: "metadata", "creationTimestamp"]]
        return times.compactMap { $0?.stringValue.flatMap(parseSeconds) }.max()
    }

    /// MicroTime (`…:05.123456Z`) to the second: enough for a TTL, and read whatever the fraction's length.
    static func parseSeconds(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: ".") else { return Timestamp.parse(text) }
        return Timestamp.parse(String(text[..<dot]) + "Z")
    }
}

extension DevClusterOptions {
    /// A duration as kube-apiserver's flags take it (`1h`, `30m`, `90s`, `1h30m`, `500ms`), in seconds.
    public static func parseDuration(_ text: String) throws -> TimeInterval {
        try SimDuration.parse(.string(text))
    }
}
