import KubeCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

import Synchronization

/// HTTP/2 for the dev cluster, as kube-apiserver offers it to kubectl and client-go: the TLS front end
/// negotiates `h2` by ALPN and relays those connections here, to an internal loopback port that speaks
/// HTTP/2 with prior knowledge. Each stream is answered by the same `APIServer` (`HTTP2StreamResponder`); a watch or followed log is one long stream, so many of them share one connection,
/// and a client that cancels one (RST_STREAM) ends it on the server at once.
struct HTTP2Backend: Sendable {
    let channel: any Channel
    let port: Int
    let answers: InflightAnswers

    /// `port` 0 picks a free one (a restart passes the previous one). From `options`: the idle timeout and the
    /// streams a client may open at once (SETTINGS_MAX_CONCURRENT_STREAMS; a client that opens more loses the
    /// connection: swift-nio-http2 treats it as a connection error, where Go resets the one stream).
    static func start(api: APIServer, port: Int = 0, options: DevClusterOptions) async throws -> HTTP2Backend {
        let answers = InflightAnswers()
        let idleTimeout = options.idleTimeAmount
        var settings = NIOHTTP2Handler.ConnectionConfiguration()
        settings.initialSettings = [HTTP2Setting(parameter: .maxConcurrentStreams, value: options.http2MaxStreamsPerConnection),
                                    HTTP2Setting(parameter: .maxHeaderListSize, value: HPACKDecoder.defaultMaxHeaderListSize)]
        // Client resets are normal traffic: libcurl 7.88 resets every stream whose answer was HEADERS with END_STREAM
        // (an empty body), and swift-nio-http2's default (200 resets in 30 s, then GOAWAY ENHANCE_YOUR_CALM) failed a
        // request in flight every ~200 proxied requests. Go's server (kube-apiserver) counts no resets; it bounds the
        // handlers running, as the stream limit above does here. One loopback client sends ~1,100 proxied requests a
        // second (the blue-green benchmark), past 1,000 a second; a flood (a rapid-reset attack sends 100,000s a
        // second) still ends the connection past 20,000 a second. The count, not the window, sizes the per-connection
        // buffer of timestamps, so the window is short rather than the count large.
        var streams = NIOHTTP2Handler.StreamConfiguration()
        streams.streamResetFrameRateLimit.maximumCount = 1000
        streams.streamResetFrameRateLimit.windowLength = .milliseconds(50)
        let (connectionSettings, streamSettings) = (settings, streams)  // immutable copies for the channel closures
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Out of descriptors, accept pauses 1 s and resumes (NIO adds this only to its async bind).
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler()) }
            }
            .childChannelInitializer { connection in
                answers.track(connection)
                return connection.configureHTTP2Pipeline(mode: .server, connectionConfiguration: connectionSettings, streamConfiguration: streamSettings) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        HTTP2IdleTimeout.track(stream)
                        try stream.pipeline.syncOperations.addHandler(HTTP2StreamResponder(api: api, answers: answers))
                    }
                }.flatMapThrowing { _ in
                    try connection.pipeline.syncOperations.addHandler(HTTP2IdleTimeout(timeout: idleTimeout))
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        return HTTP2Backend(channel: channel, port: channel.localAddress?.port ?? port, answers: answers)
    }

    /// Stops accepting, refuses new answers, closes every connection (failing writes that wait on a slow
    /// reader), then cancels and awaits the answers still running, so no write lands after `stop`.
    func stop() async {
        try? await channel.close()
        await answers.stop()
    }
}

/// The connections and answer tasks of one backend, so that stopping it can end and wait for them.
final class InflightAnswers: Sendable {
    private struct State {
        var tasks: [UInt64: Task<Void, Never>] = [:]
        var connections: [ObjectIdentifier: any Channel] = [:]
        var nextID: UInt64 = 0
        var stopped = false
    }
    private let state = Mutex(State())

    /// Remembers an accepted connection until it closes (closed at once when already stopped).
    func track(_ connection: any Channel) {
        let id = ObjectIdentifier(connection)
        let stopped = state.withLock { s -> Bool in
            if !s.stopped { s.connections[id] = connection }
            return s.stopped
        }
        if stopped { connection.close(promise: nil); return }
        connection.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: id) } }
    }

    /// Runs one answer, unless the backend stopped (then the stream gets no answer and closes with its connection).
    func run(_ body: @escaping @Sendable () async -> Void) -> Task<Void, Never>? {
        // Registered under the lock the task's own removal takes, so a task that ends at once is not left behind.
        state.withLock { s in
            if s.stopped { return nil }
            s.nextID += 1
            let id = s.nextID
            let task = Task { [self] in
                await body()
                _ = state.withLock { $0.tasks.removeValue(forKey: id) }
            }
            s.tasks[id] = task
            return task
        }
    }

    func stop() async {
        let (tasks, connections) = state.withLock { s in
            s.stopped = true
            return (Array(s.tasks.values), Array(s.connections.values))
        }
        for connection in connections { try? await connection.close() }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}
