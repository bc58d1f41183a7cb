/// Reads a streamed answer line by line: opens it on first use, frames chunks with `LineFramer`, and hands
/// out one line at a time. Not shared between tasks: it belongs to one iterator.
final class StreamLines {
    private let open: @Sendable () async throws -> StreamHandle
    private var handle: StreamHandle?
    private var framer: LineFramer
    private var ready: [[UInt8]] = []
    private var readyIndex = 0
    private var ended = false

    init(maxLineLength: Int, open: @escaping @Sendable () async throws -> StreamHandle) {
        self.open = open
        framer = LineFramer(maxLineLength: maxLineLength)
    }

    /// Dropping the reader (a `for await` loop left early) aborts the transfer.
    deinit { handle?.cancel(CancellationError()) }

    /// The next line, `nil` at the end of the stream.
    func nextLine() async throws -> [UInt8]? {
        while true {
            if readyIndex < ready.count {
                defer { readyIndex += 1 }
                return ready[readyIndex]
            }
            ready = []
            readyIndex = 0
            if ended { return nil }
            let handle: StreamHandle
            if let existing = self.handle {
                handle = existing
            } else {
                handle = try await open()
                self.handle = handle
            }
            do {
                if let chunks = try await handle.next() {
                    for chunk in chunks { ready.append(contentsOf: try framer.append(chunk)) }
                } else {
                    ended = true
                    if let last = framer.finish() { ready.append(last) }
                }
            } catch {
                ended = true
                handle.cancel(error)
                throw error
            }
        }
    }
}
