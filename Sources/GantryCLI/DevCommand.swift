import ArgumentParser
import EmbeddedCluster
import Foundation

/// `gantry dev`: a local Kubernetes-compatible API server (with simulated nodes) to develop and test against.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run an in-process Kubernetes-compatible API server for development.",
        discussion: """
            Serves the Kubernetes API on loopback (built-in kinds, CustomResourceDefinitions, watch, patch, \
            server-side apply, garbage collection), writes a kubeconfig for kubectl and controllers, and runs \
            until interrupted (SIGINT or SIGTERM).

            HTTPS by default: a CA and a serving certificate for 127.0.0.1/localhost are generated at every start \
            (OpenSSL), the kubeconfig carries the CA (certificate-authority-data) and a bearer token, and every \
            request must present that token, or the admin client certificate (--credentials client-certificate \
            writes that into the kubeconfig instead of the token). --insecure-http (or --no-tls) serves plain HTTP instead, for \
            debugging with tools that cannot be given a CA; kubectl then sends no credentials and none are required.

            Example:
              gantry dev --kubeconfig .gantry/kubeconfig --port 6443 --faults error=0.05:503
              export KUBECONFIG=.gantry/kubeconfig
              kubectl get namespaces
            """)

    @Option(help: ArgumentHelp("Where to write the kubeconfig (its folder is created).", valueName: "path"))
    var kubeconfig: String = ".gantry/kubeconfig"

    @Option(help: ArgumentHelp("Port to listen on, on 127.0.0.1 (0 picks a free port).", valueName: "port"))
    var port: Int = 0

    @Option(help: ArgumentHelp("Simulated nodes, e.g. '4x{gpu: 8, product: A100}, 1x{cpu: 32}'; 'none' for no nodes, 'off' for a bare API server (default: 2 A100 nodes and a CPU node).",
                               valueName: "spec"))
    var nodes: String?

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("Persist the cluster's objects in this folder and reload them on start.", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Fault injection: comma-separated error=FRACTION:CODE (429, 500, 503) and latency=50ms.",
                               valueName: "spec"))
    var faults: String?

    /// `--tls` (the default) / `--no-tls`.
    @Flag(inversion: .prefixedNo,
          help: "Serve HTTPS with a CA generated at start (written into the kubeconfig) and require credentials: a token or a client certificate the CA signed.")
    var tls = true

    /// `--http2` (the default) / `--no-http2`.
    @Flag(inversion: .prefixedNo, help: "With TLS, offer HTTP/2 by ALPN, as kube-apiserver does (clients multiplex over one connection).")
    var http2 = true

    @Flag(name: .customLong("insecure-http"), help: "Serve plain HTTP without authentication (same as --no-tls; for debugging).")
    var insecureHTTP = false

    enum CredentialsKind: String, ExpressibleByArgument, CaseIterable {
        case token
        case clientCertificate = "client-certificate"
    }

    @Option(help: ArgumentHelp("What the kubeconfig authenticates with over HTTPS: token or client-certificate.", valueName: "kind"))
    var credentials: CredentialsKind = .token

    @Option(help: ArgumentHelp("AlwaysAllow (every authenticated request may do everything) or RBAC (the stored roles and bindings decide for every identity but the kubeconfig's admin).",
                               valueName: "mode"))
    var authorizationMode: String = AuthorizationMode.alwaysAllow.rawValue

    @Option(help: ArgumentHelp("How long Events are kept after they were last observed, as kube-apiserver's --event-ttl (e.g. 1h, 30m, 90s).",
                               valueName: "duration"))
    var eventTTL: String = "1h"

    @Option(help: ArgumentHelp("How long a client may take to finish its TLS handshake before the connection is closed (e.g. 10s, 2m).",
                               valueName: "duration"))
    var tlsHandshakeTimeout: String = "10s"

    /// TLS unless either opt-out flag was given.
    var servesTLS: Bool { tls && !insecureHTTP }

    init() {}

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if credentials == .clientCertificate && !servesTLS {
            throw ValidationError("--credentials client-certificate needs HTTPS: drop --no-tls/--insecure-http, or use --credentials token")
        }
        if let faults { do { _ = try FaultSpec(parsing: faults) } catch { throw ValidationError("--faults: \(error)") } }
        do { _ = try DevClusterOptions.parseDuration(eventTTL) } catch { throw ValidationError("--event-ttl: \(error)") }
        do { _ = try DevClusterOptions.parseDuration(tlsHandshakeTimeout) } catch { throw ValidationError("--tls-handshake-timeout: \(error)") }
        guard AuthorizationMode(rawValue: authorizationMode) != nil else {
            throw ValidationError("--authorization-mode must be AlwaysAllow or RBAC, not \(authorizationMode)")
        }
    }

    /// The synchronous requirement, for entry points whose overload resolution picks it (from top-level code
    /// Swift prefers `ParsableCommand.run()` even on an `AsyncParsableCommand`): runs the async body on the
    /// concurrency pool and waits for it.
    func run() throws {
        let outcome = RunOutcome()
        let done = DispatchSemaphore(value: 0)
        let command = self
        Task.detached {
            do { try await command.run() } catch { outcome.set(error) }
            done.signal()
        }
        done.wait()
        if let error = outcome.error { throw error }
    }

    func run() async throws {
        var options = DevClusterOptions(port: port, nodes: nodes, dataDir: dataDir, faults: faults, tls: servesTLS, http2: http2)
        options.authorization = AuthorizationMode(rawValue: authorizationMode) ?? .alwaysAllow
        options.eventTTL = (try? DevClusterOptions.parseDuration(eventTTL)) ?? 3600
        options.handshakeTimeout = (try? DevClusterOptions.parseDuration(tlsHandshakeTimeout)) ?? 10
        let cluster = try await DevCluster.start(options)
        let path = URL(fileURLWithPath: kubeconfig).standardizedFileURL.path
        try cluster.writeKubeconfig(to: path, credentials: credentials == .clientCertificate ? .clientCertificate : .token)
        // Written unbuffered: scripts wait for these lines before they run kubectl.
        FileHandle.standardOutput.write(Data(Self.startupHint(url: cluster.url, kubeconfig: path, tls: cluster.caPEM != nil,
                                                              credentials: credentials).utf8))
        // Serve until SIGINT/SIGTERM (Shutdown.swift), then stop cleanly: streams end, data is flushed.
        try await runUntilSignalled {
            while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
        }
        print("gantry dev: shutting down")
        await cluster.stop()
    }
}

extension DevCommand {
    /// The lines printed once the server listens (docs/embedded-cluster.md, "Command line"). A contract: scripts
    /// take the URL as the rest of the first line and wait for the `export` line before they run kubectl.
    static func startupHint(url: String, kubeconfig: String, tls: Bool, credentials: CredentialsKind = .token) -> String {
        let credential = credentials == .token ? "a bearer token" : "a client certificate"
        let security = tls ? "HTTPS with a CA generated at start; the kubeconfig carries the CA and \(credential)"
                           : "plain HTTP without authentication (--insecure-http); do not expose it"
        return """
            gantry dev: serving the Kubernetes API at \(url)
            security: \(security)
            kubeconfig: \(kubeconfig)
            export KUBECONFIG=\(kubeconfig)

            """
    }
}

/// The error of the bridged run, handed from the task to the waiting thread.
private final class RunOutcome: @unchecked Sendable {
    // @unchecked: `stored` is read and written only under `lock`.
    private let lock = NSLock()
    private var stored: (any Error)?
    var error: (any Error)? { lock.withLock { stored } }
    func set(_ e: any Error) { lock.withLock { stored = e } }
}
