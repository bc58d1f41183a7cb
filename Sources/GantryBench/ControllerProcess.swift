import Foundation
import KubeClient

/// `gantry controller` in a process of its own, so its RSS (`/proc/PID/status`) and CPU (`/proc/PID/stat`) are
/// its own and not the benchmark's or the API server's. Single replica (`--no-leader-elect`): no Lease renewals
/// in the request counts. Its health server (`--health-port 0`) gives readiness ("caches synced", as
/// controller-runtime's `/readyz`) and `/metrics` (`rest_client_requests_total`).
struct ControllerProcess: Sendable {
    let process: Process
    let healthPort: Int
    let started: ContinuousClock.Instant
    let http: WebhookPoster

    var pid: Int32 { process.processIdentifier }

    /// Starts the controller against `kubeconfig` (with `arguments` added to its command line), runs `body`, and
    /// stops the controller whatever `body` does. With `logPath` its log is also kept in that file (a soak's evidence).
    static func with<T: Sendable>(binary: String, kubeconfig: String, arguments: [String] = [], logPath: String? = nil,
                                  _ body: (ControllerProcess) async throws -> T) async throws -> T {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["controller", "--kubeconfig", kubeconfig, "--no-leader-elect", "--health-port", "0",
                             "--log-format", "json", "--log-level", "info"] + arguments
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let started = ContinuousClock.now
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        let log = logPath.flatMap { path -> FileHandle? in
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            return FileHandle(forWritingAtPath: path)
        }
        guard let port = await awaitHealthPort(err, copyTo: log) else { throw BenchError.setup("gantry controller exited before its health server listened") }
        return try await body(ControllerProcess(process: process, healthPort: port, started: started, http: try WebhookPoster(userAgent: "gantry-bench")))
    }

    /// Reads the JSON log lines until the health server names its port; then keeps draining the pipe (a full pipe
    /// would block the controller's logging), into `copyTo` when given. On a thread of its own: the read blocks.
    static func awaitHealthPort(_ pipe: Pipe, copyTo log: FileHandle? = nil) async -> Int? {
        await withCheckedContinuation { (c: CheckedContinuation<Int?, Never>) in
            Thread.detachNewThread {
                var pending = "", resumed = false
                while true {
                    let chunk = pipe.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    log?.write(chunk)
                    guard !resumed else { continue }
                    pending += String(decoding: chunk, as: UTF8.self)
                    while let newline = pending.firstIndex(of: "\n") {
                        let line = String(pending[..<newline])
                        pending = String(pending[pending.index(after: newline)...])
                        guard line.contains("server listening"),
                              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String],
                              let port = object["port"].flatMap(Int.init) else { continue }
                        resumed = true
                        c.resume(returning: port)
                        break
                    }
                }
                if !resumed { c.resume(returning: nil) }
            }
        }
    }

    /// Polls `/readyz` every 5 ms until it answers 200 (every informer listed); the instant it did.
    func awaitSynced(timeout: Duration) async throws -> ContinuousClock.Instant {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let answer = try? await http.get(url: "http://127.0.0.1:\(healthPort)/readyz", timeout: .seconds(2)), answer.status == 200 {
                return ContinuousClock.now
            }
            guard process.isRunning else { throw BenchError.setup("gantry controller exited before its caches synced") }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw BenchError.timeout("gantry controller caches not synced within \(timeout)")
    }

    /// `rest_client_requests_total` summed per method, from the controller's own `/metrics`.
    func requestsByMethod() async throws -> [String: Double] {
        let answer = try await http.get(url: "http://127.0.0.1:\(healthPort)/metrics")
        var totals: [String: Double] = [:]
        for line in String(decoding: answer.body, as: UTF8.self).split(separator: "\n") where line.hasPrefix("rest_client_requests_total{") {
            guard let methodRange = line.range(of: "method=\""), let space = line.lastIndex(of: " "),
                  let value = Double(line[line.index(after: space)...]) else { continue }
            let method = line[methodRange.upperBound...].prefix { $0 != "\"" }
            totals[String(method), default: 0] += value
        }
        return totals
    }

    /// Writes (every method but GET) the controller has made so far.
    func writes() async throws -> Int {
        Int(try await requestsByMethod().filter { $0.key != "GET" }.values.reduce(0, +))
    }

    /// A `gantry dev` process with `nodes`, Gantry's CRDs, a client (user agent `gantry-bench`) and a synced
    /// `gantry controller` process: the three-process set-up of the end-to-end scenarios.
    static func withOperator<T: Sendable>(nodes: String, _ body: (DevProcess, KubeClient, ControllerProcess) async throws -> T) async throws -> T {
        let binary = try DevStartupBench.gantryBinary()
        return try await DevProcess.with(binary: binary, nodes: nodes) { dev in
            let client = try KubeClient(config: KubeConfig.load(path: dev.kubeconfig, environment: [:]), options: ClientOptions(userAgent: "gantry-bench"))
            try await EarlyStopBench(quick: true).installCRDs(client)
            return try await with(binary: binary, kubeconfig: dev.kubeconfig) { controller in
                _ = try await controller.awaitSynced(timeout: .seconds(60))
                return try await body(dev, client, controller)
            }
        }
    }

    func cpuTime() -> Duration { ProcessCPU.of(pid: pid) }
    func memory() -> ProcessMemory.Reading? { ProcessMemory.read(pid: pid) }
}
