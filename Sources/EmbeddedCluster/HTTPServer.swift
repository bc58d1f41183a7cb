import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import KubeCore
import Logging
import NIOCore

/// Adapts Hummingbird 2 to `APIServer`: one catch-all responder (Kubernetes paths are routed by `Router`),
/// whole bodies for ordinary answers, chunked streaming for watch and followed logs.
struct KubeResponder: HTTPResponder {
    typealias Context = PeerRequestContext
    let api: APIServer

    func respond(to request: Request, context: Context) async throws -> Response {
        let headers = APIRequest.foldHeaders(request.headers.lazy.map { ($0.name.canonicalName, $0.value) })
        var apiRequest = APIRequest(method: request.method.rawValue, path: request.uri.path, rawQuery: request.uri.query,
                                    headers: headers, body: [], connection: context.connection)
        // Who is asking is settled from the head alone: an upload without credentials is never buffered.
        if let refusal = api.refusalBeforeBody(apiRequest) { return Self.response(refusal) }
        do {
            apiRequest.body = Array(try await request.body.collect(upTo: APIServer.maxRequestBody).readableBytesView)
        } catch {
            return Self.response(api.refuseOversizedBody(apiRequest))
        }
        return Self.response(await api.handle(apiRequest), channel: context.channel)
    }

    /// `channel`: for a streamed answer, the connection whose `ConnectionCloseSignal` ends it.
    static func response(_ r: APIResponse, channel: (any Channel)? = nil) -> Response {
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
                // A client that goes away ends the stream even while it is idle, as Go's HTTP server cancels a
                // request whose connection reads EOF; without it a closed watch with no events would stay open
                // until its timeout. Watched beside the connection (not by reading its request stream), so the
                // connection stays usable for the next request once the stream ends (keep-alive).
                // Looked up once the head is out: a client that sends its next request as soon as it sees the
                // head (libcurl's PIPEWAIT decides on it whether to open another connection) is not kept waiting.
                var closeSignal: ConnectionCloseSignal? = nil
                if let channel, let end {
                    closeSignal = await ConnectionCloseSignal.of(channel)
                    if closeSignal == nil && !channel.isActive { end() }  // gone before its handler could be asked
                }
                let subscription = end.flatMap { closeSignal?.onClose($0) }
                defer { if let subscription { closeSignal?.cancel(subscription) } }
                for await chunk in chunks { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        }
    }
}

/// Hummingbird's basic context plus the connection's endpoints, which identify TLS relay connections whose
/// client certificate the front end verified (`Authenticator`), and the connection itself.
struct PeerRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let connection: Authenticator.Connection?
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        connection = Authenticator.Connection(source.channel)
        channel = source.channel
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

    /// `options`: the idle and read-header timeouts.
    static func start(host: String, port: Int, api: APIServer, options: DevClusterOptions) async throws -> RunningServer {
        var logger = Logger(label: "gantry.dev.http")
        logger.logLevel = .critical
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        // kube-apiserver closes a connection idle this long between requests (http.Server's IdleTimeout); a
        // request in flight (a watch, a followed log) is never idle.
        let readHeaderTimeout = options.readHeaderTimeAmount
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ConnectionCloseHandler(), ReadHeaderTimeout(timeout: readHeaderTimeout)],
                                               idleTimeout: options.idleTimeAmount)
        let app = Application(
            responder: KubeResponder(api: api),
            server: .http1(configuration: http1),
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
