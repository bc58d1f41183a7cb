import KubeCore
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix

/// HTTP/2 for the dev cluster, as kube-apiserver offers it to kubectl and client-go: the TLS front end
/// negotiates `h2` by ALPN and relays those connections here, to an internal loopback port that speaks
/// HTTP/2 with prior knowledge. Each stream is translated to HTTP/1-style parts (NIOHTTP2's codec) and answered
/// by the same `APIServer`; a watch or followed log is one long stream, so many of them share one connection,
/// and a client that cancels one (RST_STREAM) ends it on the server at once.
struct HTTP2Backend: Sendable {
    let channel: any Channel
    let port: Int

    static func start(api: APIServer) async throws -> HTTP2Backend {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { connection in
                connection.configureHTTP2Pipeline(mode: .server, connectionConfiguration: .init(), streamConfiguration: .init()) { stream in
                    stream.eventLoop.makeCompletedFuture {
                        try stream.pipeline.syncOperations.addHandlers([
                            HTTP2FramePayloadToHTTP1ServerCodec(), HTTP2StreamResponder(api: api),
                        ])
                    }
                }.map { _ in }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return HTTP2Backend(channel: channel, port: channel.localAddress?.port ?? 0)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// Answers one HTTP/2 stream: collects the request, hands it to `APIServer`, writes the answer (whole, or
/// chunk by chunk for streams, each write awaited so a slow reader's flow-control window holds the producer
/// back). The stream closing (client reset, connection loss) cancels the answer's task.
final class HTTP2StreamResponder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let api: APIServer
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// The body passed the limit: the rest is dropped as it arrives and the request answered 413.
    private var oversized = false
    private var task: Task<Void, Never>?

    init(api: APIServer) { self.api = api }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body = []
            oversized = false
        case .body(let buffer):
            if oversized { return }
            body.append(contentsOf: buffer.readableBytesView)
            if body.count > KubeResponder.maxBody {
                oversized = true
                body = []
            }
        case .end:
            guard let head else { return }
            self.head = nil
            if oversized {
                let refused = APIStatusError(code: 413, reason: "RequestEntityTooLarge", message: "the request body is too large")
                task = Self.answer(api: nil, request: nil, fixed: .error(refused), channel: context.channel)
                return
            }
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                let key = name.lowercased()
                if let prior = headers[key] { headers[key] = prior + "," + value } else { headers[key] = value }
            }
            let uri = head.uri
            let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
            let request = APIRequest(method: head.method.rawValue, path: path.first.map(String.init) ?? "/",
                                     rawQuery: path.count > 1 ? String(path[1]) : nil, headers: headers, body: body,
                                     peerPort: context.channel.parent?.remoteAddress?.port, httpVersion: "HTTP/2")
            body = []
            task = Self.answer(api: api, request: request, fixed: nil, channel: context.channel)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        context.fireChannelInactive()
    }

    static func answer(api: APIServer?, request: APIRequest?, fixed: APIResponse?, channel: any Channel) -> Task<Void, Never> {
        Task {
            let response: APIResponse
            if let fixed { response = fixed } else if let api, let request { response = await api.handle(request) } else { return }
            await write(response, to: channel)
        }
    }

    static func write(_ response: APIResponse, to channel: any Channel) async {
        var headers = HTTPHeaders()
        for (name, value) in response.headers { headers.add(name: name, value: value) }
        if case .bytes(let bytes) = response.body { headers.replaceOrAdd(name: "content-length", value: String(bytes.count)) }
        let head = HTTPResponseHead(version: .http2, status: .init(statusCode: response.status), headers: headers)
        do {
            try await channel.writeAndFlush(HTTPServerResponsePart.head(head)).get()
            switch response.body {
            case .bytes(let bytes):
                if !bytes.isEmpty { channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: bytes))), promise: nil) }
            case .stream(let chunks):
                for await chunk in chunks {
                    try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: chunk)))).get()
                }
            }
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        } catch {
            // The stream is gone (reset by the client or the connection closed): nothing left to answer.
            channel.close(promise: nil)
        }
    }
}
