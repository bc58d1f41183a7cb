/// Receives what one transfer produces.
///
/// Called on the curl loop thread while consumers read from Swift tasks, so implementations are thread-safe
/// (they keep their state in a `Mutex`).
protocol TransferSink: AnyObject, Sendable {
    /// The response head; delivered once, before any body bytes (or at completion for an empty body).
    func receiveHead(status: Int, headers: [(name: String, value: String)])
    /// Body bytes. Returning `false` pauses the transfer *without consuming* the bytes: libcurl delivers
    /// the same bytes again after `CurlMultiLoop.resume`. This is how a slow consumer applies backpressure.
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool
    /// The transfer ended: `nil` on success, else the error.
    func complete(_ error: (any Error)?)
    /// True once the sink no longer wants anything (cancelled or completed); the loop then drops the transfer.
    var isFinished: Bool { get }
}
