import NIOCore
import NIOHTTPTypes

/// Closes an HTTP/1.1 connection whose request head has not arrived in full `timeout` after it started
/// (kube-apiserver's http.Server `ReadHeaderTimeout`, 32 s): for a connection's first request the clock starts with
/// the connection, for a later one with its first byte (the wait between requests is the idle timeout's), as Go's
/// `conn.serve` does. Without it a client that sends half a head and stops holds the connection until the idle
/// timeout.
///
/// (Bytes of a pipelined request that arrived with the one before start no clock: the idle timeout still applies.)
///
/// It sits after the HTTP decoder (one of Hummingbird's `additionalChannelHandlers`), where it sees heads and
/// answers; the `FirstBytes` handler it puts at the front of the pipeline tells it when raw bytes arrive.
final class ReadHeaderTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// Requests whose head arrived and whose answer has not ended yet.
    private var open = 0
    /// Between a request's head and its end: its body's bytes start nothing.
    private var readingBody = false
    private var closer: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(FirstBytes(owner: self), position: .first)
        if context.channel.isActive { arm(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) { disarm() }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            readingBody = true
            disarm()
        case .body: break
        case .end: readingBody = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { open = max(0, open - 1) }
        context.write(data, promise: promise)
    }

    /// Bytes arrived: the start of a new request when none is open and the clock is not already running.
    fileprivate func bytesArrived(_ context: ChannelHandlerContext) {
        if open == 0 && !readingBody { arm(context) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        guard closer == nil else { return }
        let channel = context.channel
        closer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        closer?.cancel()
        closer = nil
    }

    /// The raw-bytes face, first in the pipeline.
    private final class FirstBytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        let owner: ReadHeaderTimeout

        init(owner: ReadHeaderTimeout) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived(context)
            context.fireChannelRead(data)
        }
    }
}
