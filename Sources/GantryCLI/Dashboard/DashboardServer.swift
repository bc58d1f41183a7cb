import Foundation
import Hummingbird
import KubeCore
import Logging

/// The HTTP layer of `gantry dashboard`: routes to `DashboardSite`, HTML responses, nothing else. Read-only:
/// only GET (and HEAD) routes exist.
struct DashboardServer: Sendable {
    let site: DashboardSite
    let host: String
    let port: Int

    /// Pages may not run scripts or load anything from elsewhere: the dashboard has neither, and a value that
    /// slipped through escaping still could not act.
    static let contentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        let site = self.site
        func page(_ path: RouterPath, _ build: @escaping @Sendable (Parameters) async throws -> DashboardSite.Page) {
            router.get(path) { _, context in await Self.respond(site) { try await build(context.parameters) } }
        }
        page("/") { _ in try await site.overview() }
        page("/experiments") { _ in try await site.experiments() }
        page("/experiments/:namespace/:name") { p in try await site.experiment(Self.name(p, "namespace"), Self.name(p, "name")) }
        page("/trainingjobs") { _ in try await site.trainingJobs() }
        page("/trainingjobs/:namespace/:name") { p in try await site.trainingJob(Self.name(p, "namespace"), Self.name(p, "name")) }
        page("/inferenceservices") { _ in try await site.inferenceServices() }
        page("/inferenceservices/:namespace/:name") { p in try await site.inferenceService(Self.name(p, "namespace"), Self.name(p, "name")) }
        page("/notebooks") { _ in try await site.notebooks() }
        page("/gpus") { _ in try await site.gpus() }
        router.get("/healthz") { _, _ in "ok" }
        return router
    }

    /// A path segment that can be a Kubernetes name or label value (letters, digits, `-`, `_`, `.`): anything else
    /// never reaches an API path or a label selector.
    static func name(_ parameters: Parameters, _ key: String) throws -> String {
        let value = try parameters.require(key)
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        guard !value.isEmpty, value.count <= 253, value != ".", value != "..", value.allSatisfy(allowed.contains) else {
            throw NotAName(value: value)
        }
        return value
    }

    struct NotAName: Error { var value: String }

    /// A page, or an error page naming what failed when the API server could not be read (it is down, the
    /// credentials expired): the dashboard itself stays up.
    static func respond(_ site: DashboardSite, _ build: () async throws -> DashboardSite.Page) async -> Response {
        let page: DashboardSite.Page
        do {
            page = try await build()
        } catch let error as NotAName {
            page = .init(status: 404, html: site.pages.message(title: "Not found", "\"\(error.value)\" is not a Kubernetes name."))
        } catch {
            page = .init(status: 502, html: site.pages.message(title: "Cannot read the cluster", "The API server could not be read: \(error)"))
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.cacheControl] = "no-store"
        return Response(status: .init(code: page.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: page.html)))
    }

    /// Serves until SIGTERM or SIGINT; `onListening` gets the bound port (useful with `--port 0`).
    func run(onListening: @escaping @Sendable (Int) async -> Void) async throws {
        var logger = Logger(label: "gantry.dashboard")
        logger.logLevel = .warning
        let app = Application(router: router(), configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
        try await app.runService()
    }
}
