import Hummingbird
import NIOCore

/// A Prometheus scrape target served by a test: `/metrics` answers the text the test last set, so the values a
/// real Prometheus records change on cue.
public actor ScrapeTarget {
    public private(set) var text: String
    init(text: String) { self.text = text }
    public func set(_ text: String) { self.text = text }
}

/// Runs `body` with a target listening on 127.0.0.1 (a free port) at `/metrics`, answering `initial` until set.
public func withScrapeTarget(_ initial: String, _ body: (_ port: Int, _ target: ScrapeTarget) async throws -> Void) async throws {
    let target = ScrapeTarget(text: initial)
    let router = Router()
    router.get("/metrics") { _, _ -> Response in
        var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: await target.text)))
        response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return response
    }
    try await withLoopbackServer(router) { port in try await body(port, target) }
}
