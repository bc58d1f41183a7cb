import HTTPTypes
import Hummingbird
import KubeCore
import Logging
import NIOCore

/// Adapts Hummingbird 2 to `APIServer`: one catch-all responder (Kubernetes paths are routed by `Router`),
/// whole bodies for ordinary answers, chunked streaming for watch and followed logs.
struct KubeResponder: HTTPResponder {
    typealias Context = PeerRequestContext
    let api: APIServer
    /// Request bodies above this answer 413 (kube-apiserver's limit is 3 MiB per object; lists are bigger).
    static let maxBody = 64 << 20

    func respond(to request: Request, context: Context) async throws -> Response {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: Self.maxBody)
        } catch {
            return Self.response(.error(.requestTooLarge))
        }
        let headers = APIRequest.foldHeaders(request.headers.lazy.map { ($0.name.canonicalName, $0.value) })
        let apiRequest = APIRequest(method: request.method.rawValue, path: request.uri.path, rawQuery: request.uri.query,
                                    headers: headers, body: Array(buffer.readableBytesView), connection: context.connection)
        return Self.response(await api.handle(apiRequest), request: request)
    }

    /// `request`: for a streamed answer, whose connection to watch (see below); nil for fixed answers.
    static func response(_ r: APIResponse, request: Request? = nil) -> Response {
        var fields = HTTPFields()
        for (k, v) in r.headers {
            if let name = HTTPField.Name(k) { fields.append(HTTPField(name: name, value: v)) }
        }
        let status = HTTPResponse.Status(code: r.status)
        switch r.body {
        case .bytes(let bytes):
            return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .stream(let chunks):
            let end = r.endStream
            return Response(status: status, headers: fields, body: ResponseBody { writer in
                // A client that goes away ends the stream even while it is idle (Hummingbird reads on and
                // reports the end of input), as Go's HTTP server cancels a request whose connection reads EOF.
                // Without it, a closed watch with no events would stay open until its timeout.
                let send = { (writer: inout any ResponseBodyWriter) async throws in
                    for await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                }
                if let request, let end {
                    try await request.body.consumeWithInboundCloseHandler({ _ in try await send(&writer) }, onInboundClosed: end)
                } else {
                    try await send(&writer)
                }
                try await writer.finish(nil)
            })
        }
    }
}

/// Hummingbird's basic context plus the connection's endpoints, which identify TLS relay connections whose
/// client certificate the front end verified (`Authenticator`).
struct PeerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let connection: Authenticator.Connection?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = Authenticator.Connection(source.channel)
    }
}

extension Authenticator.Connection {
    /// The endpoints of an accepted TCP connection (nil for anything else).
    init?(_ channel: any Channel) {
        guard let remote = channel.remoteAddress, let ip = remote.ipAddress, let port = remote.port,
              let local = channel.localAddress?.port else { return nil }
        self.init(peerIP: ip, peerPort: port, backendPort: local)
    }
}

/// A running Hummingbird application bound to loopback; `port` is the real port (also when asked for 0).
struct RunningServer: Sendable {
    let task: Task<Void, any Error>
    let port: Int

    struct BindFailed: Error, CustomStringConvertible {
        var host: String
        var port: Int
        var description: String { "could not listen on \(host):\(port)" }
    }

    static func start(host: String, port: Int, api: APIServer) async throws -> RunningServer {
        var logger = Logger(label: "gantry.dev.http")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            responder: KubeResponder(api: api),
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? port)
                portContinuation.finish()
            },
            logger: logger)
        let task = Task {
            defer { portContinuation.finish() }
            try await app.run()
        }
        for await actual in ports { return RunningServer(task: task, port: actual) }
        throw BindFailed(host: host, port: port)
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}
