import Foundation
import KubeClient
import Synchronization

/// The `gantry controller` a soak watches: a process of its own (its RSS is the controller's alone), without leader
/// election, logging JSON to a file from which its health port is read (it picks a free one).
final class SoakController: Sendable {
    let process: Process
    let logPath: String
    private let metrics: WebhookPoster
    private let listening = Port()

    init(binary: String, kubeconfig: String, logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["controller", "--kubeconfig", kubeconfig, "--no-leader-elect", "--health-port", "0",
                             "--health-host", "127.0.0.1", "--log-format", "json"]
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        self.logPath = logPath
        metrics = try WebhookPoster(userAgent: "gantry-soak")
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }
    var port: Int { listening.value ?? 0 }

    /// Waits until the controller logged its port and answers /metrics (at most a minute).
    func awaitMetrics() async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard process.isRunning else { throw BenchError.setup("the controller exited at start: see \(logPath)") }
            if listening.value == nil { listening.set(loggedPort()) }
            if listening.value != nil, await queueDepth() != nil { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BenchError.timeout("the controller did not serve /metrics within a minute: see \(logPath)")
    }

    /// Sum of `workqueue_depth` over every controller's queue; nil when /metrics does not answer or has no such
    /// series (an absent gauge must not read as an empty queue).
    func queueDepth() async -> Double? {
        guard let port = listening.value,
              let response = try? await metrics.get(url: "http://127.0.0.1:\(port)/metrics"), response.status == 200 else { return nil }
        let depths = String(decoding: response.body, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("workqueue_depth{") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }
        return depths.isEmpty ? nil : depths.reduce(0, +)
    }

    /// Whether the queues are empty, looked at every second for up to `within`.
    func drains(within: Duration) async -> Bool {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if await queueDepth() == 0 { return true }
            try? await Task.sleep(for: .seconds(1))
        }
        return false
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    private func loggedPort() -> Int? {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.contains("server listening") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let port = (object["port"] as? String).flatMap(Int.init) else { continue }
            return port
        }
        return nil
    }
}

/// The controller's health port once known, read from the sampling loop and set while waiting for it.
private final class Port: Sendable {
    private let state = Mutex<Int?>(nil)
    var value: Int? { state.withLock { $0 } }
    func set(_ port: Int?) { state.withLock { $0 = port } }
}
