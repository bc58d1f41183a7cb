import Foundation
import KubeCore
import NIOCore

/// Options of `DevCluster.start` (and of `gantry dev`).
public struct DevClusterOptions: Sendable {
    public var host: String = "127.0.0.1"
    /// 0 picks a free port; `DevCluster.url` reports the real one.
    public var port: Int = 0
    /// Simulated nodes (parsed by the simulation; stored here as given).
    public var nodes: String? = nil
    /// Persist objects and the revision under this folder, and reload them on start.
    public var dataDir: String? = nil
    /// Fault injection spec, see `FaultSpec` (e.g. `error=0.1:503,latency=50ms`).
    public var faults: String? = nil
    /// Serve HTTPS with a generated CA (in the kubeconfig) and require credentials on every request: a bearer
    /// token of the token table or a client certificate the CA signed.
    /// Off: plain HTTP, where kubectl sends no credentials, so requests without any are let in.
    /// `gantry dev` turns it on by default; in-process tests choose (the test harness in Tests/Support handles
    /// both: its kubeconfig carries the CA, its curl passes it).
    public var tls: Bool = false
    /// With TLS, offer HTTP/2 by ALPN as kube-apiserver does (kubectl and libcurl then multiplex every request
    /// and watch over one connection); off, every client speaks HTTP/1.1.
    public var http2: Bool = true
    /// `--authorization-mode`: AlwaysAllow by default; RBAC enforces the stored roles and bindings for every
    /// identity but the admin.
    public var authorization: AuthorizationMode = .alwaysAllow
    /// `--event-ttl`: Events are deleted this long after they were last observed (kube-apiserver: one hour).
    public var eventTTL: TimeInterval = 3600
    /// A connection with no request in flight for this long is closed (kube-apiserver's `IdleTimeout`, 90 s).
    public var idleTimeout: TimeInterval = 90
    /// An HTTP/1.1 request head must arrive in full this long after the connection (first request) or the request's
    /// first byte (later ones) started, else the connection is closed (kube-apiserver's `ReadHeaderTimeout`, 32 s).
    public var readHeaderTimeout: TimeInterval = 32
    /// With HTTP/2: SETTINGS_MAX_CONCURRENT_STREAMS, the streams a client may have open on one connection
    /// (kube-apiserver's `--http2-max-streams-per-connection`; unset there, its secure serving sets 100).
    public var http2MaxStreamsPerConnection: Int = 100
    /// With TLS: a client that has not finished its TLS handshake this long after connecting is dropped.
    public var handshakeTimeout: TimeInterval = 10
    /// With TLS: at most this many connections are relayed at once (one thread each); more wait in the listen
    /// queue until one ends. Connections still in their handshake do not count (they take no thread).
    public var maxConnections: Int = 512
    /// Decode every write as `fieldValidation=Strict`, whatever it asks: a field its kind does not declare fails the
    /// request (tests use it to prove a client writes only declared fields; see `unknownFieldReports()`).
    public var strictFieldValidation = false

    var idleTimeAmount: TimeAmount { .nanoseconds(Int64(idleTimeout * 1e9)) }
    var readHeaderTimeAmount: TimeAmount { .nanoseconds(Int64(readHeaderTimeout * 1e9)) }

    public init(host: String = "127.0.0.1", port: Int = 0, nodes: String? = nil, dataDir: String? = nil, faults: String? = nil,
                tls: Bool = false, http2: Bool = true) {
        self.host = host
        self.port = port
        self.nodes = nodes
        self.dataDir = dataDir
        self.faults = faults
        self.tls = tls
        self.http2 = http2
    }
}

/// An in-process Kubernetes-compatible API server for development and tests.
///
/// Public surface:
/// - `start(_:)`, `url`, `token`, `kubeconfigYAML()`, `writeKubeconfig(to:)`, `stop()`;
/// - `store` (`ObjectStore`): in-process reads, writes and change subscription for simulation controllers;
/// - `logs` (`PodLogs`): `append(namespace:pod:container:line:)` and `end(...)` feed `kubectl logs [-f]`;
/// - `setProxyHandler(_:)`: answers `pods|services|nodes/{name}/proxy/...` (default: 503);
/// - faults: `setFaults(_:)`, `dropWatches()`, `compactHistory()`, `restart()`.
///
/// Served over plain HTTP on loopback by default; with `tls: true`, over HTTPS with a CA generated at start
/// (`caPEM`, also in the kubeconfig as `certificate-authority-data`) and the bearer token required.
public final class DevCluster: Sendable {
    public let url: String
    public let token: String
    public let options: DevClusterOptions
    public let store: ObjectStore
    public let logs: PodLogs
    let api: APIServer
    let proxyHooks: ProxyHooks
    let faults: FaultInjector
    let state: ServerState
    /// The HTTP/1.1 server's port as first bound (the public one without TLS).
    let httpPort: Int
    /// The HTTP/1.1 server's current port: internal when TLS fronts it, and then new after each restart.
    var port: Int { tlsFrontEnd?.http1BackendPort ?? httpPort }
    let tlsFrontEnd: TLSFrontEnd?
    /// PEM of the CA that signed the serving certificate (TLS only).
    public let caPEM: String?
    /// A client certificate and key for the admin user, signed by the CA (TLS only): an alternative to the token.
    public var clientCertificatePEM: String? { tlsFrontEnd?.material.clientCertificatePEM }
    public var clientKeyPEM: String? { tlsFrontEnd?.material.clientKeyPEM }

    actor ServerState {
        var server: RunningServer?
        var background: [Task<Void, Never>] = []
        var http2: HTTP2Backend?
        func set(_ s: RunningServer?) { server = s }
        func setHTTP2(_ b: HTTP2Backend?) { http2 = b }
        func takeHTTP2() -> HTTP2Backend? { defer { http2 = nil }; return http2 }
        func take() -> RunningServer? { defer { server = nil }; return server }
        func add(_ t: Task<Void, Never>) { background.append(t) }
        func cancelBackground() { background.forEach { $0.cancel() }; background = [] }
    }

    init(url: String, token: String, options: DevClusterOptions, store: ObjectStore, logs: PodLogs, api: APIServer,
         proxyHooks: ProxyHooks, faults: FaultInjector, state: ServerState, port: Int, tlsFrontEnd: TLSFrontEnd?) {
        self.url = url
        self.token = token
        self.options = options
        self.store = store
        self.logs = logs
        self.api = api
        self.proxyHooks = proxyHooks
        self.faults = faults
        self.state = state
        self.httpPort = port
        self.tlsFrontEnd = tlsFrontEnd
        self.caPEM = tlsFrontEnd?.material.caPEM
    }

    public static func start(_ options: DevClusterOptions) async throws -> DevCluster {
        let faults = FaultInjector()
        if let spec = options.faults, !spec.isEmpty { faults.current = try FaultSpec(parsing: spec) }
        let store = ObjectStore()
        var loaded = false
        if let dir = options.dataDir { loaded = try await store.load(from: Persistence(directory: dir)) }
        if !loaded { await store.seed() }
        await store.seedBootstrapRBAC()
        await store.seedPriorityClasses()
        let logs = PodLogs()
        let proxyHooks = ProxyHooks()
        let token = Self.randomToken()
        let authenticator = Authenticator(adminToken: token)
        var api = APIServer(store: store, logs: logs, proxy: proxyHooks, faults: faults, authenticator: authenticator,
                            requestLog: RequestLog(), allowAnonymous: !options.tls)
        api.authorization = options.authorization
        api.strictFieldValidation = options.strictFieldValidation
        let host = options.host.contains(":") ? "[\(options.host)]" : options.host
        let server: RunningServer
        let front: TLSFrontEnd?
        let url: String
        var http2: HTTP2Backend? = nil
        if options.tls {
            let material = try TLSMaterial.generate(offerHTTP2: options.http2)
            server = try await RunningServer.start(host: "127.0.0.1", port: 0, api: api, options: options)
            do {
                if options.http2 { http2 = try await HTTP2Backend.start(api: api, options: options) }
                front = try TLSFrontEnd(host: options.host, port: options.port, backendPort: server.port, http2Port: http2?.port,
                                        material: material, authenticator: authenticator,
                                        limits: TLSFrontEnd.Limits(handshakeTimeout: options.handshakeTimeout,
                                                                   maxConnections: options.maxConnections))
            } catch {
                await http2?.stop()
                await server.stop()
                throw error
            }
            url = "https://\(host):\(front?.port ?? 0)"
        } else {
            server = try await RunningServer.start(host: options.host, port: options.port, api: api, options: options)
            front = nil
            url = "http://\(host):\(server.port)"
        }
        let state = ServerState()
        await state.set(server)
        await state.setHTTP2(http2)
        let cluster = DevCluster(url: url, token: token, options: options, store: store, logs: logs, api: api,
                                 proxyHooks: proxyHooks, faults: faults, state: state, port: server.port, tlsFrontEnd: front)
        // Periodic garbage-collection sweep (catches dependents created with owners that no longer exist).
        await state.add(Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                await store.runGC()
            }
        })
        // Events expire (EventTTL.swift), checked a few times per TTL and at least every minute.
        let ttl = options.eventTTL
        await state.add(Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(0.2, min(60, ttl / 4))))
                await store.expireEvents(now: Date(), ttl: ttl)
            }
        })
        // A deleted pod's logs go with it.
        let events = await store.subscribe()
        await state.add(Task {
            for await event in events where event.kind == .deleted && event.resource == "pods" {
                await logs.remove(namespace: event.object.namespace ?? "", pod: event.object.name ?? "")
            }
        })
        await state.add(try await cluster.startSimulation())  // nodes, scheduler, kubelets: Simulation/SimulationHooks.swift
        return cluster
    }

    static func randomToken() -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(Int(g.next() % 16), radix: 16) }.joined()
    }

    /// How the kubeconfig's user authenticates.
    public enum Credentials: Sendable {
        /// The admin bearer token.
        case token
        /// The admin client certificate and key (`client-certificate-data`, `client-key-data`); TLS only.
        case clientCertificate
    }

    /// A kubeconfig for this cluster: cluster, user and context `gantry-dev`, namespace `default`.
    public func kubeconfigYAML(credentials: Credentials = .token) -> String {
        func b64(_ s: String) -> String { Data(s.utf8).base64EncodedString() }
        let user: String
        if credentials == .clientCertificate, let cert = clientCertificatePEM, let key = clientKeyPEM {
            user = "client-certificate-data: \(b64(cert))\n    client-key-data: \(b64(key))"
        } else {
            user = "token: \(token)"
        }
        return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: gantry-dev
          cluster:
            server: \(url)\(caPEM.map { "\n    certificate-authority-data: " + Data($0.utf8).base64EncodedString() } ?? "")
        users:
        - name: gantry-dev
          user:
            \(user)
        contexts:
        - name: gantry-dev
          context:
            cluster: gantry-dev
            user: gantry-dev
            namespace: default
        current-context: gantry-dev
        preferences: {}

        """
    }

    public func writeKubeconfig(to path: String, credentials: Credentials = .token) throws {
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        try Data(kubeconfigYAML(credentials: credentials).utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

    /// Stops serving: open watches and log streams end, data is flushed to `dataDir`.
    public func stop() async {
        await state.cancelBackground()
        await store.dropAllWatches()
        await logs.finishAll()
        tlsFrontEnd?.stop()
        if let server = await state.take() { await server.stop() }
        await state.takeHTTP2()?.stop()
        await store.flush()
    }

    // MARK: Simulation hooks

    public func setProxyHandler(_ handler: any ProxyHandler) { proxyHooks.handler = handler }

    // MARK: Authentication and the request log

    /// Accepts `token` as a bearer token for `user` from now on (a static token file entry).
    public func addToken(_ token: String, user: String, expires: Date? = nil) { api.authenticator.addToken(token, user: user, expires: expires) }
    /// Refuses `token` from now on (401), as after a rotation.
    public func revokeToken(_ token: String) { api.authenticator.revokeToken(token) }
    /// The most recent requests (up to 5,000), oldest first.
    public func requests() -> [RequestRecord] { api.requestLog.all }

    // MARK: Fault injection

    public var faultSpec: FaultSpec { faults.current }
    public func setFaults(_ spec: FaultSpec) { faults.current = spec }
    public func setFaults(_ text: String) throws { faults.current = try FaultSpec(parsing: text) }
    /// Answers the next `count` API requests that match `target` with `code` (410 Expired, 429, 500 or 503,
    /// else 503), with `Retry-After` when given.
    public func failNextRequests(_ count: Int, code: Int, retryAfterSeconds: Int? = nil, target: FaultTarget = .any) {
        faults.failNext(count, code: code, retryAfterSeconds: retryAfterSeconds, target: target)
    }
    /// Holds the next `count` API requests that match `target` for `delay` before handling them (a slow answer
    /// to one client while others are answered at once).
    public func delayNextRequests(_ count: Int, by delay: Duration, target: FaultTarget) {
        faults.delayNext(count, by: delay, target: target)
    }
    /// Forgets the failures and delays queued (`failNextRequests`, `delayNextRequests`) that no request took yet.
    public func clearQueuedFailures() { faults.clearQueued() }

    /// How many requests have been answered with an injected error so far.
    public var injectedFaults: Int { faults.injected }
    /// Closes every open watch stream now (clients see the stream end and re-watch).
    public func dropWatches() async { await store.dropAllWatches() }
    /// Sends every watcher that asked for bookmarks a BOOKMARK with the current revision now (otherwise every
    /// 5 s, `WatchHandler.bookmarkInterval`, and at the server-side timeout).
    public func sendBookmarks() async { await store.sendBookmarks() }
    /// Forgets the event history: resuming a watch or a paged list from before now answers 410.
    public func compactHistory() async { await store.compactHistory() }
    /// Restart: stops the HTTP server (all connections and streams end) and serves again on the same public port with
    /// the same data. Documented equivalent of a process restart; history is compacted as a restart would.
    public func restart() async throws {
        await store.dropAllWatches()
        await logs.finishAll()
        // Client connections first: that fails writes still waiting on a slow reader, so the backends can stop.
        tlsFrontEnd?.dropConnections()
        if let server = await state.take() { await server.stop() }
        let http2 = await state.takeHTTP2()
        await http2?.stop()
        await store.compactHistory()
        guard let front = tlsFrontEnd else {
            await state.set(try await RunningServer.start(host: options.host, port: httpPort, api: api, options: options))
            return
        }
        // Behind TLS the backends take fresh internal ports (see `TLSFrontEnd.setBackendPorts`).
        let server = try await RunningServer.start(host: "127.0.0.1", port: 0, api: api, options: options)
        await state.set(server)
        let newHTTP2 = http2 == nil ? nil : try await HTTP2Backend.start(api: api, options: options)
        await state.setHTTP2(newHTTP2)
        front.setBackendPorts(http1: server.port, http2: newHTTP2?.port)
    }
}

extension ObjectStore {
    /// A fresh cluster: the namespaces kube-apiserver creates (with their `default` service accounts) and the
    /// `kubernetes` service.
    func seed() {
        guard let nsInfo = anyInfo(forStorageKey: "namespaces") else { return }
        for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            _ = try? create(nsInfo, ["metadata": ["name": .string(ns)]], scope: .main, dryRun: false)
        }
        if let svc = anyInfo(forStorageKey: "services") {
            _ = try? create(svc, ["metadata": ["name": "kubernetes", "namespace": "default",
                                               "labels": ["component": "apiserver", "provider": "kubernetes"]],
                                  "spec": ["clusterIP": "10.96.0.1", "ports": [["name": "https", "port": 443, "targetPort": 6443]]]],
                            scope: .main, dryRun: false)
        }
        seedStorage()
    }
}
