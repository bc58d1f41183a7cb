import Foundation
import KubeClient
import KubeCore
import Logging

/// Records `events.k8s.io/v1` Events about objects (API-SEMANTICS rule 21). A repeat of the same event
/// (same object, type, reason and note) within the series window updates the first one's `series` instead of
/// creating a new object, so a flapping condition cannot flood etcd. Recording is best-effort: a failure is
/// logged, never thrown into a reconcile.
public actor EventRecorder {
    /// Told of every event recorded, before it is sent (transition counters: PlatformTransitions). Called on the
    /// recorder's actor, so it must be quick.
    public typealias Observer = @Sendable (_ regarding: JSONValue, _ type: String, _ reason: String, _ at: Date) -> Void

    struct SeriesKey: Hashable {
        var uid: String
        var type: String
        var reason: String
        var note: String
    }
    struct Series {
        var name: String
        var namespace: String
        var count: Int
        var lastSeen: Date
        /// Its create failed for a passing reason and is being tried again: repeats are counted here, and the
        /// retry writes the count once the Event is stored (a second Event would otherwise be created).
        var pending = false
    }

    let client: KubeClient
    let controller: String
    let instance: String
    let clock: any RuntimeClock
    let observer: Observer?
    let logger = Logger(label: "gantry.events")
    /// client-go folds repeats seen within 6 minutes into a series.
    let seriesWindow: TimeInterval = 360
    private var series: [SeriesKey: Series] = [:]

    public init(client: KubeClient, controller: String, instance: String, clock: any RuntimeClock = SystemClock(),
                observer: Observer? = nil) {
        self.client = client
        self.controller = controller
        self.instance = instance
        self.clock = clock
        self.observer = observer
    }

    /// - Parameters: `type` Normal or Warning; `reason` CamelCase (≤ 128 chars); `note` human text (≤ 1 KiB).
    public func record(regarding object: JSONValue, type: String, reason: String, note: String, action: String) async {
        guard let uid = object.uid, let name = object.name else { return }
        let namespace = object.namespace ?? "default"
        let now = clock.wallNow
        let reason = String(reason.prefix(128))
        observer?(object, type, reason, now)
        let note = Self.truncate(note, maxBytes: 1024)
        let key = SeriesKey(uid: uid, type: type, reason: reason, note: note)
        pruneSeries(now: now)

        if var existing = series[key], now.timeIntervalSince(existing.lastSeen) < seriesWindow {
            existing.count += 1
            existing.lastSeen = now
            series[key] = existing
            if existing.pending { return }
            do {
                _ = try await client.patch(.events, namespace: existing.namespace, name: existing.name, patch: Self.seriesPatch(existing))
                return
            } catch {
                series[key] = nil  // the event expired or was deleted: start a new one below
            }
        }

        let eventName = "\(name).\(String(UInt64(now.timeIntervalSince1970 * 1_000_000_000), radix: 16))"
        var regarding: JSONValue = ["kind": .string(object.kind ?? ""), "apiVersion": .string(object.apiVersion ?? ""),
                                    "name": .string(name), "uid": .string(uid)]
        if let ns = object.namespace { regarding["namespace"] = .string(ns) }
        if let rv = object.resourceVersion { regarding["resourceVersion"] = .string(rv) }
        var event: JSONValue = [
            "apiVersion": "events.k8s.io/v1", "kind": "Event",
            "eventTime": .string(Timestamp.formatMicro(now)),
            "reportingController": .string(controller), "reportingInstance": .string(instance),
            "action": .string(action), "reason": .string(reason), "note": .string(note), "type": .string(type),
            "regarding": regarding,
        ]
        event.name = eventName
        event.namespace = namespace
        do {
            _ = try await client.create(.events, event, namespace: namespace)
            series[key] = Series(name: eventName, namespace: namespace, count: 1, lastSeen: now)
        } catch where Self.worthRetrying(error) {
            // Later tries run on their own task: a reconcile never waits on an Event.
            series[key] = Series(name: eventName, namespace: namespace, count: 1, lastSeen: now, pending: true)
            Task { await self.retry(event, key: key, object: "\(namespace)/\(name)") }
        } catch {
            logger.warning("could not record event", metadata: ["reason": "\(reason)", "object": "\(namespace)/\(name)", "error": "\(error)"])
        }
    }

    /// Waits before each further try of a create that failed for a passing reason. client-go's event sink tries an
    /// event up to 12 times, 10 s apart (`maxTriesPerEvent`, `recordToSink`); shorter here, so a swap or a cull
    /// under a flaky API server still leaves its Event within seconds.
    let retryDelays: [Duration] = [.milliseconds(200), .milliseconds(500), .seconds(1), .seconds(2), .seconds(4)]

    /// Throttling, server trouble or a lost connection: the same create may succeed later.
    static func worthRetrying(_ error: any Error) -> Bool {
        if let error = error as? APIError { return error.isTransient }
        switch error as? KubeClientError {
        case .transport?, .timeout?: return true
        default: return false
        }
    }

    private func retry(_ event: JSONValue, key: SeriesKey, object: String) async {
        var last: any Error = CancellationError()
        for delay in retryDelays {
            guard (try? await clock.sleep(for: delay)) != nil else { break }
            do {
                _ = try await client.create(.events, event, namespace: event.namespace)
            } catch let error as APIError where error.isAlreadyExists {
                // An earlier try was stored though its answer was lost: the Event exists.
            } catch where Self.worthRetrying(error) {
                last = error
                continue
            } catch {
                last = error
                break
            }
            await stored(event, key: key)
            return
        }
        if series[key]?.name == event.name { series[key] = nil }
        logger.warning("could not record event", metadata: ["reason": "\(key.reason)", "object": "\(object)", "error": "\(last)",
                                                            "tries": "\(retryDelays.count + 1)"])
    }

    /// A retried Event is stored: repeats recorded meanwhile are written as its series, as a repeat of a stored
    /// Event would have been.
    private func stored(_ event: JSONValue, key: SeriesKey) async {
        // Stays pending while the count is written, so a repeat meanwhile is counted here, not patched beside it.
        while let entry = series[key], entry.name == event.name, entry.pending {
            if entry.count > 1 {
                _ = try? await client.patch(.events, namespace: entry.namespace, name: entry.name, patch: Self.seriesPatch(entry))
            }
            if series[key]?.count == entry.count { series[key]?.pending = false }
        }
    }

    /// The merge patch that writes a series' count and last observation onto its Event.
    static func seriesPatch(_ series: Series) -> JSONValue {
        ["series": ["count": .int(Int64(series.count)), "lastObservedTime": .string(Timestamp.formatMicro(series.lastSeen))]]
    }

    /// Cuts at a character boundary so the note stays valid UTF-8 within the API's 1 KiB limit.
    static func truncate(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var result = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > maxBytes - 3 { break }
            result.append(character)
            bytes += size
        }
        return result + "..."
    }

    /// Keeps the series map bounded: entries older than the window can no longer be folded into. The next
    /// prune waits until the map has doubled, so a burst of thousands of objects does not filter the whole map
    /// on every event.
    private func pruneSeries(now: Date) {
        guard series.count > pruneAbove else { return }
        series = series.filter { now.timeIntervalSince($0.value.lastSeen) < seriesWindow }
        pruneAbove = max(1024, 2 * series.count)
    }
    private var pruneAbove = 1024
}
