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

            Example:
              gantry dev --kubeconfig .gantry/kubeconfig --port 6443 --faults error=0.05:503
              export KUBECONFIG=.gantry/kubeconfig
              kubectl get namespaces
            """)

    @Option(help: ArgumentHelp("Where to write the kubeconfig (its folder is created).", valueName: "path"))
    var kubeconfig: String = ".gantry/kubeconfig"

    @Option(help: ArgumentHelp("Port to listen on, on 127.0.0.1 (0 picks a free port).", valueName: "port"))
    var port: Int = 0

    @Option(help: ArgumentHelp("Simulated nodes, e.g. 'gpu=2x8,cpu=1' (parsed by the simulation).", valueName: "spec"))
    var nodes: String?

    @Option(name: .customLong("data-dir"),
            help: ArgumentHelp("Persist the cluster's objects in this folder and reload them on start.", valueName: "dir"))
    var dataDir: String?

    @Option(help: ArgumentHelp("Fault injection: comma-separated error=FRACTION:CODE (429, 500, 503) and latency=50ms.",
                               valueName: "spec"))
    var faults: String?

    @Flag(help: "Serve HTTPS with a generated CA (written into the kubeconfig) and require the kubeconfig's token.")
    var tls = false

    init() {}

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        if let faults { do { _ = try FaultSpec(parsing: faults) } catch { throw ValidationError("--faults: \(error)") } }
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
        let cluster = try await DevCluster.start(DevClusterOptions(port: port, nodes: nodes, dataDir: dataDir, faults: faults, tls: tls))
        let path = URL(fileURLWithPath: kubeconfig).standardizedFileURL.path
        try cluster.writeKubeconfig(to: path)
        // Written unbuffered: scripts wait for these lines before they run kubectl.
        FileHandle.standardOutput.write(Data("""
            gantry dev: serving the Kubernetes API at \(cluster.url)
            kubeconfig: \(path)
            export KUBECONFIG=\(path)

            """.utf8))
        // Serve until SIGINT/SIGTERM (Shutdown.swift), then stop cleanly: streams end, data is flushed.
        try await runUntilSignalled {
            while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
        }
        print("gantry dev: shutting down")
        await cluster.stop()
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
