import Synchronization

/// Sink of a request whose answer is read whole (every verb but watch and logs): collects the body and
/// resumes the waiting task once, with the response or the error.
final class ResponseCollector: TransferSink {
    private struct State {
        var status = 0
        var headers: [(name: String, value: String)] = []
        var body: [UInt8] = []
        var result: Result<HTTPResponse, any Error>?
        var continuation: CheckedContinuation<HTTPResponse, any Error>?
    }
    /// Bound on a buffered answer: the biggest list page the operator asks for is far below this.
    static let maxBodyBytes = 256 << 20
    private let state = Mutex(State())

    func receiveHead(status: Int, headers: [(name: String, value: String)]) {
        state.withLock {
            $0.status = status
            $0.headers = headers
        }
    }

    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let overflow = state.withLock { s -> Bool in
            if s.body.count + bytes.count > Self.maxBodyBytes { return true }
            s.body.append(contentsOf: bytes)
            return false
        }
        // Finishing the sink makes the loop drop the transfer on its next turn; pausing keeps it quiet meanwhile.
        if overflow { complete(KubeClientError.decode("response body larger than \(Self.maxBodyBytes) bytes")) }
        return !overflow
    }

    func complete(_ error: (any Error)?) {
        let resume = state.withLock { s -> (CheckedContinuation<HTTPResponse, any Error>, Result<HTTPResponse, any Error>)? in
            guard s.result == nil else { return nil }
            let result: Result<HTTPResponse, any Error> =
                error.map { .failure($0) } ?? .success(HTTPResponse(status: s.status, headers: s.headers, body: s.body))
            s.result = result
            s.body = []
            guard let c = s.continuation else { return nil }
            s.continuation = nil
            return (c, result)
        }
        if let (c, result) = resume { c.resume(with: result) }
    }

    var isFinished: Bool { state.withLock { $0.result != nil } }

    /// Waits for the answer; resumes at once if it (or a cancellation) already arrived.
    func wait(_ continuation: CheckedContinuation<HTTPResponse, any Error>) {
        let ready = state.withLock { s -> Result<HTTPResponse, any Error>? in
            if let r = s.result { return r }
            s.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(with: ready) }
    }
}

extension CurlMultiLoop {
    /// Runs one buffered exchange; cancelling the calling task aborts the transfer at once.
    func perform(_ request: TransportRequest) async throws -> HTTPResponse {
        let collector = ResponseCollector()
        let transfer = CurlTransfer(request: request, sink: collector)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                collector.wait(continuation)
                submit(transfer)
            }
        } onCancel: {
            collector.complete(CancellationError())
            cancel(transfer)
        }
    }
}
