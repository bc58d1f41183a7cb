import KubeCore
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

import Synchronization

/// HTTP/2 for the dev cluster, as kube-apiserver offers it to kubectl and client-go: the TLS front end
/// negotiates `h2` by ALPN and relays those connections here, to an internal loopback port that speaks
/// HTTP/2 with prior knowledge. Each stream is translated to HTTP/1-style parts (NIOHTTP2's codec) and answered
/// by the same `APIServer`; a watch or followed log is one long stream, so many of them share one connection,
/// and a client that cancels one (RST_STREAM) ends it on the server at once.
struct HTTP2Backend: Sendable {
    let channel: any Channel
    let port: Int
    let answers: InflightAnswers

    /// `port` 0 picks a free one (a restart passes the previous one).
    static func start(api: APIServer, port: Int = 0, idleTimeout: TimeAmount) async throws -> HTTP2Backend {
        let answers = InflightAnswers()
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Out of descriptors, accept pauses 1 s and resumes (NIO adds this only to its async bind).
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler()) }
            }
            .childChannelInitializer { connection in
                answers.track(connection)
                return connection.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        HTTP2IdleTimeout.track(stream)
                        try stream.pipeline.syncOperations.addHandlers([
                            HTTP2FramePayloadToHTTP1ServerCodec(), HTTP2StreamResponder(api: api, answers: answers),
                        ])
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

/// Answers one HTTP/2 stream: collects the request, hands it to `APIServer`, writes the answer (whole, or
/// chunk by chunk for streams, each write awaited, so a reader's flow-control window paces the writes; the
/// producers behind a stream buffer within their own bounds). The stream closing (client reset, connection
/// loss) cancels the answer's task.
final class HTTP2StreamResponder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: APIServer
    let answers: InflightAnswers
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// Answered without its body (401 before the body, 413 past the limit): the rest is dropped as it arrives.
    private var refusal: APIResponse?
    private var task: Task<Void, Never>?

    init(api: APIServer, answers: InflightAnswers) {
        self.api = api
        self.answers = answers
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            refusal = api.refusalBeforeBody(request(h, context.channel))
        case .body(let buffer):
            if refusal != nil { return }
            body.append(contentsOf: buffer.readableBytesView)
            if body.count > APIServer.maxRequestBody, let head {
                refusal = api.refuseOversizedBody(request(head, context.channel))
                body = []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            let isHead = head.method == .HEAD
            if let refusal {
                task = answers.run { await Self.write(refusal, to: channel, isHead: isHead) }
                return
            }
            var apiRequest = request(head, channel)
            apiRequest.body = body
            body = []
            let api = self.api
            task = answers.run { [apiRequest] in await Self.write(await api.handle(apiRequest), to: channel, isHead: isHead) }
        }
    }

    private func request(_ head: HTTPRequestHead, _ channel: any Channel) -> APIRequest {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return APIRequest(method: head.method.rawValue, path: path.first.map(String.init) ?? "/",
                          rawQuery: path.count > 1 ? String(path[1]) : nil, headers: APIRequest.foldHeaders(head.headers.lazy.map { ($0.name, $0.value) }),
                          body: [], connection: channel.parent.flatMap { Authenticator.Connection($0) }, httpVersion: "HTTP/2")
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    /// A HEAD answer has the headers (content-length included) and no DATA, as RFC 9110 §9.3.2 requires.
    static func write(_ response: APIResponse, to channel: any Channel, isHead: Bool) async {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if case .bytes(let bytes) = response.body { headers.replaceOrAdd(name: "content-length", value: String(bytes.count)) }
        let head = HTTPResponseHead(version: .http2, status: .init(statusCode: response.status), headers: headers)
        do {
            try await channel.writeAndFlush(HTTPServerResponsePart.head(head)).get()
            if !isHead {
                switch response.body {
                case .bytes(let bytes):
                    if !bytes.isEmpty { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))), promise: nil) }
                case .stream(let chunks):
                    for await chunk in chunks {
                        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk)))).get()
                    }
                }
            }
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        } catch {
            // The stream is gone (reset by the client or the connection closed): nothing left to answer.
            channel.close(promise: nil)
        }
    }
}
