import KubeCore

/// A streamed answer read line by line and turned into elements: the request starts when iteration starts;
/// cancelling the iterating task, or leaving the loop, aborts the transfer. `decode` returns nil for a line
/// to skip.
public struct StreamedLines<Element: Sendable>: AsyncSequence, Sendable {
    let maxLineLength: Int
    let open: @Sendable () async throws -> StreamHandle
    let decode: @Sendable ([UInt8]) throws -> Element?

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lines: StreamLines(maxLineLength: maxLineLength, open: open), decode: decode)
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let lines: StreamLines
        let decode: @Sendable ([UInt8]) throws -> Element?

        public mutating func next() async throws -> Element? {
            while let line = try await lines.nextLine() {
                if let element = try decode(line) { return element }
            }
            return nil
        }
    }
}

/// Events of one WATCH request: one HTTP stream, ending when the server ends it (its `timeoutSeconds`). An
/// `ERROR` event is delivered as `.error` (e.g. 410 "too old resource version", rule 3); a 410 when the watch
/// opens is thrown as `APIError`. Re-watching and re-listing are the caller's job (KubeRuntime).
public typealias WatchStream = StreamedLines<WatchEvent>

/// Lines of a log stream (or any line-oriented streamed answer), without their newlines.
public typealias LineStream = StreamedLines<String>

enum StreamDecoders {
    static func watchEvent(_ line: [UInt8], droppingManagedFields: Bool = false, objectMask: FieldMask? = nil) throws -> WatchEvent? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return nil }
        let json: JSONValue
        do throws(JSONParseError) {
            if let objectMask {
                json = try JSONValue.parseWatchEvent(line, objectMask: objectMask, droppingManagedFields: droppingManagedFields)
            } else {
                json = try JSONValue.parse(line, droppingManagedFields: droppingManagedFields)
            }
        } catch {
            throw KubeClientError.decode("watch event: \(error.description)")
        }
        return try WatchEvent(json: json)
    }

    static func text(_ line: [UInt8]) -> String? { String(decoding: line, as: UTF8.self) }
}

extension KubeClient {
    /// WATCH the collection from `options.resourceVersion` (rule 1: the list's version, with bookmarks and a
    /// `timeoutSeconds` below 295 — the caller sets them in `options`).
    /// `droppingManagedFields`: the events' objects come without `metadata.managedFields` (for caches).
    /// `objectMask`: the objects of ADDED, MODIFIED and DELETED events are projected by it while parsed
    /// (`JSONValue.parseWatchEvent`), so what a cache drops is never built.
    public func watch(_ type: ResourceType, namespace: String?, options: ListOptions, droppingManagedFields: Bool = false,
                      objectMask: FieldMask? = nil) -> WatchStream {
        var query = options.queryItems
        query.insert(("watch", "true"), at: 0)
        // The server ends the stream after timeoutSeconds; one still open 30 s later is dead (rule 5), so the
        // transfer gets that as its deadline and fails with `.timeout` instead of hanging forever.
        let request = Request(method: "GET", path: type.collectionPath(namespace: scoped(type, namespace)), query: query,
                              streaming: true, streamDeadline: options.timeoutSeconds.map { .seconds($0 + 30) }, rateLimited: false)
        return WatchStream(maxLineLength: self.options.maxLineLength, open: { [self] in try await openStream(request) },
                           decode: { try StreamDecoders.watchEvent($0, droppingManagedFields: droppingManagedFields, objectMask: objectMask) })
    }

    /// Lines of a container's log; with `follow` the stream stays open until the container ends or the task
    /// is cancelled. With `timestamps` each line starts with its RFC 3339 time (nanoseconds) and a space.
    public func logs(namespace: String, pod: String, container: String? = nil, follow: Bool = false,
                     sinceTime: String? = nil, tailLines: Int? = nil, timestamps: Bool = false) -> LineStream {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if timestamps { query.append(("timestamps", "true")) }
        if let sinceTime { query.append(("sinceTime", sinceTime)) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        let request = Request(method: "GET", path: ResourceType.pods.objectPath(namespace: namespace, name: pod) + "/log",
                              query: query, accept: "*/*", streaming: true)
        return LineStream(maxLineLength: self.options.maxLineLength, open: { [self] in try await openStream(request) },
                          decode: StreamDecoders.text)
    }

}
