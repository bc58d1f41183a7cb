import KubeCore

/// Events of one WATCH request: one HTTP stream, ending when the server ends it (its `timeoutSeconds`).
///
/// The request starts when iteration starts. Cancelling the iterating task, or leaving the loop, aborts the
/// transfer. An `ERROR` event is delivered as `.error` (e.g. 410 "too old resource version", rule 3); a 410
/// when the watch opens is thrown as `APIError`. Re-watching and re-listing are the caller's job (KubeRuntime).
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent
    let maxLineLength: Int
    let open: @Sendable () async throws -> StreamHandle

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lines: StreamLines(maxLineLength: maxLineLength, open: open))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let lines: StreamLines

        public mutating func next() async throws -> WatchEvent? {
            while let line = try await lines.nextLine() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let json: JSONValue
                do { json = try JSONValue.parse(line) } catch {
                    throw KubeClientError.decode("watch event: \(error.description)")
                }
                return try WatchEvent(json: json)
            }
            return nil
        }
    }
}

/// Lines of a log stream (or any line-oriented streamed answer), without their newlines.
public struct LineStream: AsyncSequence, Sendable {
    public typealias Element = String
    let maxLineLength: Int
    let open: @Sendable () async throws -> StreamHandle

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(lines: StreamLines(maxLineLength: maxLineLength, open: open))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let lines: StreamLines

        public mutating func next() async throws -> String? {
            guard let line = try await lines.nextLine() else { return nil }
            return String(decoding: line, as: UTF8.self)
        }
    }
}

extension KubeClient {
    /// WATCH the collection from `options.resourceVersion` (rule 1: the list's version, with bookmarks and a
    /// `timeoutSeconds` below 295 — the caller sets them in `options`).
    public func watch(_ type: ResourceType, namespace: String?, options: ListOptions) -> WatchStream {
        var query = options.queryItems
        query.insert(("watch", "true"), at: 0)
        // The server ends the stream after timeoutSeconds; one still open 30 s later is dead (rule 5), so the
        // transfer gets that as its deadline and fails with `.timeout` instead of hanging forever.
        let request = Request(method: "GET", path: type.collectionPath(namespace: scoped(type, namespace)), query: query,
                              streaming: true, streamDeadline: options.timeoutSeconds.map { .seconds($0 + 30) })
        return WatchStream(maxLineLength: self.options.maxLineLength) { [self] in try await openStream(request) }
    }

    /// Lines of a container's log; with `follow` the stream stays open until the container ends or the task
    /// is cancelled.
    public func logs(namespace: String, pod: String, container: String? = nil, follow: Bool = false,
                     sinceTime: String? = nil, tailLines: Int? = nil) -> LineStream {
        var query: [(String, String)] = []
        if let container { query.append(("container", container)) }
        if follow { query.append(("follow", "true")) }
        if let sinceTime { query.append(("sinceTime", sinceTime)) }
        if let tailLines { query.append(("tailLines", String(tailLines))) }
        let request = Request(method: "GET", path: ResourceType.pods.objectPath(namespace: namespace, name: pod) + "/log",
                              query: query, accept: "*/*", streaming: true)
        return LineStream(maxLineLength: self.options.maxLineLength) { [self] in try await openStream(request) }
    }

}
