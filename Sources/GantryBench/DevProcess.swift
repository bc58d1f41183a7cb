import Foundation
import KubeClient

/// A `gantry dev` server in a process of its own, so a benchmark can tell the API server's CPU from its own.
struct DevProcess: Sendable {
    let process: Process
    let dir: String
    var kubeconfig: String { dir + "/kubeconfig" }

    /// Starts the server, runs `body`, and stops the server whatever `body` does.
    static func with<T: Sendable>(binary: String, nodes: String, _ body: (DevProcess) async throws -> T) async throws -> T {
        let dir = NSTemporaryDirectory() + "gantry-bench-dev-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["dev", "--kubeconfig", dir + "/kubeconfig", "--nodes", nodes]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dev = DevProcess(process: process, dir: dir)
        defer { dev.stop() }
        guard await awaitStartupHint(out) else { throw BenchError.setup("gantry dev exited before printing its startup lines") }
        return try await body(dev)
    }

    /// Waits until `gantry dev` printed the `export KUBECONFIG=` line that ends its startup hint (scripts wait for
    /// it); false when the process closed its output first. Read on a thread of its own: a blocking pipe read
    /// must not hold a thread of the concurrency pool.
    static func awaitStartupHint(_ out: Pipe) async -> Bool {
        await withCheckedContinuation { c in
            Thread.detachNewThread {
                var text = ""
                while !text.contains("export KUBECONFIG=") {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                c.resume(returning: text.contains("export KUBECONFIG="))
            }
        }
    }

    func client() throws -> KubeClient {
        try KubeClient(config: KubeConfig.load(path: kubeconfig, environment: [:]))
    }

    /// CPU time (user + system) the server process has used.
    func cpuTime() -> Duration { ProcessCPU.of(pid: process.processIdentifier) }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
