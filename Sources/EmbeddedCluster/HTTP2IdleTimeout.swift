import NIOCore

/// Closes an HTTP/2 connection that has had no open stream for `timeout` (kube-apiserver: its http.Server's
/// 90 s `IdleTimeout` applies to HTTP/2 connections too). A watch or a followed log is an open stream, so a
/// connection carrying one is never idle. Streams are counted by `track`, called as each stream is set up.
final class HTTP2IdleTimeout: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    private let timeout: TimeAmount
    private var openStreams = 0
    private var closer: Scheduled<Void>?
    private var channel: (any Channel)?

    init(timeout: TimeAmount) { self.timeout = timeout }

    /// Counts `stream` (from its initializer, on the connection's event loop) until it closes.
    static func track(_ stream: any Channel) {
        guard let connection = stream.parent,
              let handler = try? connection.pipeline.syncOperations.handler(type: HTTP2IdleTimeout.self) else { return }
        handler.openStreams += 1
        handler.disarm()
        let bound = NIOLoopBound(handler, eventLoop: stream.eventLoop)
        stream.closeFuture.whenComplete { _ in
            bound.value.openStreams -= 1
            if bound.value.openStreams == 0 { bound.value.arm() }
        }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        channel = context.channel
        if context.channel.isActive { arm() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
        channel = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        arm()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    private func arm() {
        disarm()
        guard let channel, openStreams == 0 else { return }
        closer = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }

    private func disarm() {
        closer?.cancel()
        closer = nil
    }
}
