import Foundation
import GantryTestSupport

/// One `gantry controller` process of this checkout, its stdout and stderr in a log file the test reads.
final class ControllerProcess: Sendable {
    let process: Process
    let logPath: String

    /// Starts `gantry controller --kubeconfig KUBECONFIG --health-port 0 ARGS`.
    convenience init(kubeconfig: String, logPath: String, _ args: [String]) throws {
        try self.init(arguments: ["controller", "--kubeconfig", kubeconfig, "--health-port", "0", "--health-host", "127.0.0.1"] + args,
                      environment: nil, logPath: logPath)
    }

    /// Starts `gantry ARGUMENTS` (or `executable ARGUMENTS`, a wrapper that ends by exec'ing gantry, so the process
    /// signalled is gantry's) with exactly `environment` (nil: this process's).
    init(executable: String = GantryBinary.path, arguments: [String], environment: [String: String]?, logPath: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        self.logPath = logPath
    }

    var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Lines logged at error or critical level, in the text format (`<time> <level> <label> : ...`) or JSON.
    var errorLines: [String] {
        output.split(separator: "\n").map(String.init).filter { line in
            if line.hasPrefix("{") { return line.contains(#""level":"error""#) || line.contains(#""level":"critical""#) }
            let words = line.split(separator: " ", maxSplits: 2)
            return words.count > 1 && (words[1] == "error" || words[1] == "critical")
        }
    }

    /// The health server's port, once it logged it (JSON log format).
    var healthPort: Int? { loggedPort(["health and metrics server listening", "health server listening"]) }

    /// The port of `--metrics-port`'s own listener, once it logged it (JSON log format).
    var metricsPort: Int? { loggedPort(["metrics server listening"]) }

    private func loggedPort(_ messages: [String]) -> Int? {
        for line in output.split(separator: "\n") where messages.contains(where: { line.contains("\"\($0)\"") }) {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let port = (object["port"] as? String).flatMap(Int.init) else { continue }
            return port
        }
        return nil
    }

    /// HTTP status of GET `path` on the health server (0 when it does not answer).
    func probe(_ path: String) async -> Int {
        guard let port = healthPort else { return 0 }
        let r = await runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                                   "http://127.0.0.1:\(port)\(path)"])
        return Int(r.stdout) ?? 0
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits on the process's exit, off the concurrency pool; the exit status, or nil if it still ran after
    /// `timeout` (a generous bound against a hang, not a window the test depends on).
    func waitForExit(timeout: TimeInterval) async -> Int32? {
        let process = self.process
        return await withCheckedContinuation { (c: CheckedContinuation<Int32?, Never>) in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline { usleep(20_000) }
                c.resume(returning: process.isRunning ? nil : process.terminationStatus)
            }
        }
    }

    /// Kills a process a failed test left behind.
    func killIfRunning() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
