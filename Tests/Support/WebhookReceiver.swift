import Foundation
import Hummingbird
import Logging
import NIOCore

/// A local HTTP endpoint standing in for a chat incoming webhook: records every POST body, and can refuse the
/// first requests (503) to show that senders retry.
public actor WebhookReceiver {
    public private(set) var bodies: [String] = []
    var refusalsLeft: Int
    public private(set) var refused = 0

    init(refuseFirst: Int) { refusalsLeft = refuseFirst }

    func receive(_ body: String) -> HTTPResponse.Status {
        if refusalsLeft > 0 {
            refusalsLeft -= 1
            refused += 1
            return .serviceUnavailable
        }
        bodies.append(body)
        return .ok
    }
}

/// Runs `body` with a receiver listening on 127.0.0.1 (a free port) at `URL/hook`.
public func withWebhookReceiver(refuseFirst: Int = 0, _ body: (_ url: String, _ receiver: WebhookReceiver) async throws -> Void) async throws {
    let receiver = WebhookReceiver(refuseFirst: refuseFirst)
    let router = Router()
    router.post("/hook") { request, _ -> Response in
        let buffer = try await request.body.collect(upTo: 1 << 20)
        return Response(status: await receiver.receive(String(buffer: buffer)))
    }
    try await withLoopbackServer(router) { port in try await body("http://127.0.0.1:\(port)/hook", receiver) }
}

/// Runs `router` on 127.0.0.1 (a free port) while `body` runs with the port; stopped when it returns or throws.
public func withLoopbackServer(_ router: Router<BasicRequestContext>, _ body: (_ port: Int) async throws -> Void) async throws {
    var logger = Logger(label: "test.http")
    logger.logLevel = .critical
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                          onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
    let server = Task { try await app.runService() }
    defer { server.cancel() }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else { throw TestFailure("the loopback HTTP server did not start") }
    try await body(port)
}
