import Foundation
import KubeCore

/// `?watch=true`: a chunked stream of `{"type":...,"object":...}` lines
/// (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
/// Bookmarks come every `bookmarkInterval` and at the server-side timeout; a too old resourceVersion answers an
/// ERROR event with a 410 Status on a 200 stream, as kube-apiserver's watch cache does.
extension APIServer {
    static let bookmarkInterval: Duration = .seconds(5)

    func watch(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String? = nil) async throws -> APIResponse {
        var (labels, fields) = try selectors(req, info)
        if let name { fields.terms.append(.init(path: "metadata.name", value: name, negated: false)) }
        // kube-apiserver's default is a random 30–60 minutes (--min-request-timeout), also for an explicit 0
        // (handlers/get.go: `if timeout == 0 && minRequestTimeout > 0`); bounded to a day here.
        let asked = Int(clamping: try req.integer("timeoutSeconds") ?? 0)
        let timeout = min(asked > 0 ? asked : Int.random(in: 1800...3600), 86_400)
        let bookmarks = req.flag("allowWatchBookmarks")
        let table = req.wantsTable
        let includeObject = req.query["includeObject"]
        var rv = req.query["resourceVersion"]
        // sendInitialEvents=true streams the current state first (then a bookmark marks its end).
        let initial = req.flag("sendInitialEvents")
        if initial { rv = "0" }
        let (id, messages) = await store.openWatch(info, namespace: namespace, labels: labels, fields: fields,
                                                   resourceVersion: rv, bookmarks: bookmarks, sendInitialEvents: initial)
        let store: ObjectStore = self.store
        let kind = info.kind, apiVersion = info.apiVersion
        let api = self
        let (out, continuation) = AsyncStream<[UInt8]>.makeStream(bufferingPolicy: .bufferingOldest(watchBufferLimit))
        let presentation = "\(info.apiVersion)|\(info.kind)|\(info.resourceKey)"
        let pump = Task {
            for await message in messages {
                var line: [UInt8]
                switch message {
                case .event(let type, let object, let encoding) where !table:
                    // The object's bytes are shared with every other watcher of this change and version.
                    let body: [UInt8]
                    if let cached = encoding.bytes(presentation) {
                        body = cached
                    } else {
                        body = api.present(object, info, await api.readSchema(info)).serializedBytes()
                        encoding.keep(body, for: presentation)
                    }
                    line = Array(#"{"type":"#.utf8)
                    line.reserveCapacity(body.count + 32)
                    JSONValue.string(type).write(into: &line)
                    line.append(contentsOf: #","object":"#.utf8)
                    line.append(contentsOf: body)
                    line.append(UInt8(ascii: "}"))
                case .event(let type, let object, _):
                    let o = api.present(object, info, await api.readSchema(info))
                    let payload = Table.table(for: [o], info: info, resourceVersion: o.resourceVersion ?? "",
                                              continueToken: nil, includeObject: includeObject)
                    line = JSONValue.object(["type": .string(type), "object": payload]).serializedBytes()
                case .bookmark(let revision):
                    line = JSONValue.object(["type": "BOOKMARK", "object": ["kind": .string(kind), "apiVersion": .string(apiVersion),
                                                                             "metadata": ["resourceVersion": .string(String(revision))]]]).serializedBytes()
                case .initialEventsEnd(let revision):
                    line = JSONValue.object(["type": "BOOKMARK", "object": ["kind": .string(kind), "apiVersion": .string(apiVersion),
                                                                             "metadata": ["resourceVersion": .string(String(revision)),
                                                                                          "annotations": ["k8s.io/initial-events-end": "true"]]]]).serializedBytes()
                case .error(let status):
                    line = JSONValue.object(["type": "ERROR", "object": status]).serializedBytes()
                }
                line.append(0x0A)
                if case .dropped = continuation.yield(line) { break }
            }
            continuation.finish()
        }
        let ticker = Task {
            let deadline = ContinuousClock.now + .seconds(timeout)
            while !Task.isCancelled {
                let next = min(deadline, ContinuousClock.now + Self.bookmarkInterval)
                try? await Task.sleep(until: next, clock: .continuous)
                if Task.isCancelled { return }
                if ContinuousClock.now >= deadline {
                    await store.closeWatch(id, bookmark: true)
                    return
                }
                if bookmarks { await store.bookmark(id) }
            }
        }
        continuation.onTermination = { _ in
            pump.cancel()
            ticker.cancel()
            Task { await store.closeWatch(id, bookmark: false) }
        }
        return APIResponse(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-cache, private")],
                           body: .stream(out), endStream: { continuation.finish() })
    }
}

extension ObjectStore {
    /// A BOOKMARK for one watcher with the current revision.
    func bookmark(_ id: UUID) {
        guard let w = watchers[id], w.bookmarks else { return }
        w.continuation.yield(.bookmark(revision: revision))
    }
}
