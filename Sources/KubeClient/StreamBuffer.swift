import Synchronization

/// Sink of a streamed answer (watch, logs): a bounded buffer between the curl loop and one consuming task.
///
/// Memory stays bounded: when more than `highWater` bytes wait unread, `receiveBody` refuses the bytes, which
/// pauses the transfer (CURL_WRITEFUNC_PAUSE); the consumer resumes it once it has drained the buffer.
/// Pausing stops reading the socket, so the server feels TCP backpressure instead of the client buffering.
final class StreamBuffer: TransferSink {
    struct Head: Sendable {
        var status: Int
        var headers: [(name: String, value: String)]
    }

    private struct State {
        var head: Head?
        var chunks: [[UInt8]] = []
        var bufferedBytes = 0
        var finished = false
        var error: (any Error)?
        var paused = false
        var waiter: CheckedContinuation<Void, Never>?
        var signalled = false
    }

    let highWater: Int
    private let state = Mutex(State())

    init(highWater: Int = 1 << 20) {
        self.highWater = max(1, highWater)
    }

    // MARK: producer side (loop thread)

    func receiveHead(status: Int, headers: [(name: String, value: String)]) {
        state.withLock { $0.head = Head(status: status, headers: headers) }
        signal()
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let accepted = state.withLock { s -> Bool in
            if s.finished { return true }  // consumer gone: swallow, the loop drops the transfer next turn
            if s.bufferedBytes >= highWater {
                s.paused = true
                return false
            }
            s.chunks.append(Array(bytes))
            s.bufferedBytes += bytes.count
            return true
        }
        if accepted { signal() }
        return accepted
    }

    func complete(_ error: (any Error)?) {
        state.withLock { s in
            guard !s.finished else { return }
            s.finished = true
            s.error = error
        }
        signal()
    }

    var isFinished: Bool { state.withLock { $0.finished } }

    // MARK: consumer side (one task)

    /// Waits for the response head; throws the transfer's error if it failed first.
    func head() async throws -> Head {
        while true {
            let (head, finished, error) = state.withLock { ($0.head, $0.finished, $0.error) }
            if let head { return head }
            if let error { throw error }
            if finished { throw KubeClientError.transport(code: 0, message: "stream ended before a response") }
            await waitForSignal()
        }
    }

    /// Buffered chunks, waiting for some if there are none; `nil` at the end of a good stream.
    /// `needsResume` tells the caller to un-pause the transfer (it was paused because the buffer was full).
    func take() async throws -> (chunks: [[UInt8]], needsResume: Bool)? {
        while true {
            let taken = state.withLock { s -> (chunks: [[UInt8]], needsResume: Bool, error: (any Error)?, finished: Bool) in
                let chunks = s.chunks
                s.chunks = []
                s.bufferedBytes = 0
                let resume = s.paused && !chunks.isEmpty
                if resume { s.paused = false }
                return (chunks, resume, s.error, s.finished)
            }
            if !taken.chunks.isEmpty { return (taken.chunks, taken.needsResume) }
            if let error = taken.error { throw error }
            if taken.finished { return nil }
            await waitForSignal()
        }
    }

    private func signal() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if let w = s.waiter {
                s.waiter = nil
                return w
            }
            s.signalled = true
            return nil
        }
        waiter?.resume()
    }

    private func waitForSignal() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.signalled {
                    s.signalled = false
                    return true
                }
                s.waiter = c
                return false
            }
            if now { c.resume() }
        }
    }
}

/// The consumer's handle on a running streamed transfer: reads chunks, applies backpressure, cancels.
///
/// Cancelling the task that reads aborts the transfer; so does dropping the handle (e.g. breaking out of a
/// `for await` loop), so no transfer outlives its reader.
final class StreamHandle: Sendable {
    let buffer: StreamBuffer
    let transfer: CurlTransfer
    let loop: CurlMultiLoop

    init(loop: CurlMultiLoop, request: TransportRequest, highWater: Int) {
        self.loop = loop
        buffer = StreamBuffer(highWater: highWater)
        transfer = CurlTransfer(request: request, sink: buffer)
    }

    deinit { cancel(CancellationError()) }

    func start() { loop.submit(transfer) }

    func cancel(_ error: any Error) {
        guard !buffer.isFinished else { return }
        buffer.complete(error)
        loop.cancel(transfer, error: error)
    }

    func head() async throws -> StreamBuffer.Head {
        try await withTaskCancellationHandler {
            try await buffer.head()
        } onCancel: {
            cancel(CancellationError())
        }
    }

    /// Next chunks of the body, `nil` at its end.
    func next() async throws -> [[UInt8]]? {
        try await withTaskCancellationHandler {
            guard let taken = try await buffer.take() else { return nil }
            if taken.needsResume { loop.resume(transfer) }
            return taken.chunks
        } onCancel: {
            cancel(CancellationError())
        }
    }

    /// Reads the rest of the body (for error answers), up to `limit` bytes.
    func readAll(limit: Int = 1 << 20) async throws -> [UInt8] {
        var body: [UInt8] = []
        while let chunks = try await next() {
            for chunk in chunks { body.append(contentsOf: chunk) }
            if body.count > limit { break }
        }
        return body
    }
}
