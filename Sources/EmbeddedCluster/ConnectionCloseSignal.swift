import NIOCore
import Synchronization

/// Tells a streamed answer (watch, followed log) that its HTTP/1.1 client went away: end of input (the server
/// allows half-closed connections, so a client's FIN arrives as `inputClosed`) or the connection closing.
///
/// Hummingbird's `consumeWithInboundCloseHandler` did this by reading the request stream beside the answer,
/// and by design closed the connection once the answer finished: every watch that ended at `timeoutSeconds`
/// cost the client its connection, and a client that had already sent its next request on it got no answer.
final class ConnectionCloseSignal: Sendable {
    private struct State {
        var closed = false
        var waiters: [Int: @Sendable () -> Void] = [:]
        var nextID = 0
    }
    private let state = Mutex(State())

    /// Runs `action` once when the client goes away (at once if it already has); the id cancels it.
    func onClose(_ action: @escaping @Sendable () -> Void) -> Int? {
        let id = state.withLock { s -> Int? in
            if s.closed { return nil }
            s.nextID += 1
            s.waiters[s.nextID] = action
            return s.nextID
        }
        if id == nil { action() }
        return id
    }

    func cancel(_ id: Int) { _ = state.withLock { $0.waiters.removeValue(forKey: id) } }

    fileprivate func fire() {
        let waiters = state.withLock { s -> [@Sendable () -> Void] in
            s.closed = true
            defer { s.waiters = [:] }
            return Array(s.waiters.values)
        }
        waiters.forEach { $0() }
    }

    /// The signal of a connection whose pipeline has a `ConnectionCloseHandler` (nil otherwise).
    static func of(_ channel: any Channel) async -> ConnectionCloseSignal? {
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ConnectionCloseHandler.self).signal
        }.get()
    }
}

/// One per HTTP/1.1 connection (Hummingbird's `additionalChannelHandlers`): fires its `ConnectionCloseSignal`.
final class ConnectionCloseHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny
    let signal = ConnectionCloseSignal()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let e = event as? ChannelEvent, e == .inputClosed { signal.fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        signal.fire()
        context.fireChannelInactive()
    }
}
