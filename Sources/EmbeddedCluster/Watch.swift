import Foundation
import KubeCore
import Synchronization

/// What a watch stream carries to its HTTP writer.
enum WatchMessage: Sendable {
    /// `encoding` is shared by every watcher the store delivered the same change to.
    case event(type: String, object: JSONValue, encoding: SharedEncoding)
    case bookmark(revision: Int64)
    /// The BOOKMARK that ends the initial events of `sendInitialEvents=true` (annotation `k8s.io/initial-events-end`).
    case initialEventsEnd(revision: Int64)
    /// A Status object sent as an `ERROR` event (e.g. 410 Expired), after which the stream ends.
    case error(JSONValue)
}

/// One open watch: its filter and its bounded outbound buffer.
struct Watcher: Sendable {
    var resource: String
    var info: ResourceInfo
    var namespace: String?
    var labels: LabelQuery
    var fields: FieldQuery
    var bookmarks: Bool
    var continuation: AsyncStream<WatchMessage>.Continuation

    func matches(_ obj: JSONValue?) -> Bool {
        guard let obj else { return false }
        if let namespace, obj.namespace != namespace { return false }
        return labels.matches(object: obj) && fields.matches(obj)
    }

    /// Maps a store event onto this watcher's view: an object entering the selected set is ADDED, one leaving it
    /// is DELETED, as kube-apiserver's watch cache does (staging/src/k8s.io/apiserver/pkg/storage/cacher).
    func view(of event: StoreEvent) -> String? {
        let now = event.kind == .deleted ? false : matches(event.object)
        let before = matches(event.oldObject)
        switch event.kind {
        case .added: return now ? "ADDED" : nil
        case .deleted: return before ? "DELETED" : nil
        case .modified:
            if now && before { return "MODIFIED" }
            if now { return "ADDED" }
            if before { return "DELETED" }
            return nil
        }
    }
}

/// Per-watcher buffer: a watcher this far behind is cut off (it re-watches from its last resourceVersion).
let watchBufferLimit = 2_000

extension ObjectStore {
    /// Opens a watch. `resourceVersion` nil/""/"0": ADDED for every existing object first, then changes;
    /// otherwise replays history after that revision, or answers an ERROR 410 event if it was compacted.
    func openWatch(_ info: ResourceInfo, namespace: String?, labels: LabelQuery, fields: FieldQuery,
                   resourceVersion: String?, bookmarks: Bool, sendInitialEvents: Bool = false) -> (UUID, AsyncStream<WatchMessage>) {
        let (stream, continuation) = AsyncStream<WatchMessage>.makeStream(bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let id = UUID()
        let watcher = Watcher(resource: info.resourceKey, info: info, namespace: namespace, labels: labels,
                              fields: fields, bookmarks: bookmarks, continuation: continuation)
        let rvText = resourceVersion ?? ""
        if rvText.isEmpty || rvText == "0" {
            for obj in select(info.resourceKey, namespace: namespace, labels: labels, fields: fields) {
                continuation.yield(.event(type: "ADDED", object: obj, encoding: SharedEncoding()))
            }
            // WatchList (https://kubernetes.io/docs/reference/using-api/api-concepts/#streaming-lists).
            if sendInitialEvents && bookmarks { continuation.yield(.initialEventsEnd(revision: revision)) }
        } else if let rv = Int64(rvText) {
            guard let replay = events(after: rv) else {
                let status = APIStatusError.gone("too old resource version: \(rv) (\(compactedRevision + 1))").status
                continuation.yield(.error(status))
                continuation.finish()
                return (id, stream)
            }
            for event in replay where event.resource == info.resourceKey {
                if let type = watcher.view(of: event) { continuation.yield(.event(type: type, object: event.object, encoding: SharedEncoding())) }
            }
        } else {
            let status = APIStatusError.badRequest("invalid resource version: \(rvText)").status
            continuation.yield(.error(status))
            continuation.finish()
            return (id, stream)
        }
        watchers[id] = watcher
        continuation.onTermination = { [weak self] _ in
            Task { await self?.closeWatch(id, bookmark: false) }
        }
        return (id, stream)
    }

    func deliverToWatchers(_ event: StoreEvent) {
        var encoding: SharedEncoding?  // made for the first watcher the change goes to: most writes have none
        for (id, w) in watchers where w.resource == event.resource {
            guard let type = w.view(of: event) else { continue }
            let shared = encoding ?? SharedEncoding()
            encoding = shared
            if case .dropped = w.continuation.yield(.event(type: type, object: event.object, encoding: shared)) {
                // Slow consumer: end its stream rather than buffer without bound.
                w.continuation.finish()
                watchers[id] = nil
            }
        }
    }

    /// Ends one watch (timeout): a final bookmark when asked for, then the end of the stream.
    func closeWatch(_ id: UUID, bookmark: Bool) {
        guard let w = watchers.removeValue(forKey: id) else { return }
        if bookmark && w.bookmarks { w.continuation.yield(.bookmark(revision: revision)) }
        w.continuation.finish()
    }

    /// Sends a BOOKMARK with the current revision to every watcher that asked for bookmarks.
    func sendBookmarks() {
        for (_, w) in watchers where w.bookmarks {
            w.continuation.yield(.bookmark(revision: revision))
        }
    }

    /// Closes every open watch stream now (fault injection, shutdown).
    public func dropAllWatches() {
        for (_, w) in watchers { w.continuation.finish() }
        watchers.removeAll()
    }

    public var openWatchCount: Int { watchers.count }
}

/// One change's object as a watch presents it (defaulted, apiVersion and kind of the watched version), encoded once
/// for all the watchers it goes to instead of once per watch: kube-apiserver's watch cache does the same with its
/// `cachingObject` ("an object that is able to cache its serializations so that each of those is computed exactly
/// once", staging/src/k8s.io/apiserver/pkg/storage/cacher/caching_object.go). Keyed by the presentation, since
/// watchers of different versions of one resource see different objects. Two writers racing on a miss both encode
/// the same bytes: harmless.
final class SharedEncoding: Sendable {
    private let encoded = Mutex<[String: [UInt8]]>([:])

    func bytes(_ presentation: String) -> [UInt8]? { encoded.withLock { $0[presentation] } }
    func keep(_ bytes: [UInt8], for presentation: String) { encoded.withLock { $0[presentation] = bytes } }
}
