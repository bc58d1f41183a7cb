import Hummingbird
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle

/// `/healthz`, `/readyz` and `/metrics` on one port, as controller-runtime's manager serves them, or either group
/// on a port of its own (metrics bound to localhost behind an authenticating proxy, probes on the pod's address).
/// Readiness is a closure so the operator can tie it to "caches synced".
public struct HealthServer: Sendable {
    /// What a listener answers.
    public struct Endpoints: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `/healthz`, `/livez`, `/readyz`.
        public static let probes = Endpoints(rawValue: 1)
        /// `/metrics`.
        public static let metrics = Endpoints(rawValue: 2)
    }

    public let host: String
    public let port: Int
    public let endpoints: Endpoints
    let registry: PrometheusCollectorRegistry
    let ready: @Sendable () async -> Bool
    let onListening: @Sendable (Int) async -> Void

    public init(host: String = "0.0.0.0", port: Int, endpoints: Endpoints = [.probes, .metrics], registry: PrometheusCollectorRegistry,
                ready: @escaping @Sendable () async -> Bool, onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.endpoints = endpoints
        self.registry = registry
        self.ready = ready
        self.onListening = onListening
    }

    /// Serves until the task is cancelled.
    public func run() async throws {
        let router = Router()
        if endpoints.contains(.probes) {
            router.get("/healthz") { _, _ in "ok" }
            router.get("/livez") { _, _ in "ok" }
            let ready = self.ready
            router.get("/readyz") { _, _ -> Response in
                let isReady = await ready()
                return Response(status: isReady ? .ok : .serviceUnavailable,
                                body: .init(byteBuffer: ByteBuffer(string: isReady ? "ok" : "caches not synced")))
            }
        }
        if endpoints.contains(.metrics) {
            let registry = self.registry
            router.get("/metrics") { _, _ -> Response in
                var response = Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
                response.headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
                return response
            }
        }
        let onListening = self.onListening
        var logger = Logger(label: "gantry.health")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)),
                              onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        // Cancellation is our shutdown path, but a cancelled Hummingbird server logs "error: Waiting on child
        // channel: CancellationError()" on every clean exit. So the server runs in a task of its own that is
        // not cancelled, and our cancellation asks it for a graceful shutdown instead (it closes the listener
        // and lets in-flight probes finish).
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let serving = Task { try await group.run() }
        try await withTaskCancellationHandler {
            try await serving.value
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }
}
