import Foundation
import KubeCore

/// What an exec credential plugin answered.
struct ExecCredential: Sendable, Equatable {
    var token: String?
    var clientCertData: [UInt8]?
    var clientKeyData: [UInt8]?
    /// nil: valid until the server rejects it (then re-run after the 401).
    var expiration: Date?
}

/// Runs `client.authentication.k8s.io` exec plugins as kubectl does (rule 19).
///
/// The plugin gets the environment of this process plus its configured `env`, and `KUBERNETES_EXEC_INFO`
/// holding an `ExecCredential` whose `spec` says it is not interactive and, when `provideClusterInfo` is
/// set, describes the cluster (kebab-case keys, CA as base64, like client-go's `clientauthentication.Cluster`).
/// It must print an `ExecCredential` of the same apiVersion with `status.token` or a client certificate.
enum ExecCredentialPlugin {
    static let supportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]
    static let timeLimitSeconds: Double = 120

    static func execInfo(_ exec: ExecConfig, cluster: KubeConfig) -> JSONValue {
        var spec: JSONValue = ["interactive": false]
        if exec.provideClusterInfo {
            var c: JSONValue = ["server": .string(cluster.server)]
            if let name = cluster.tlsServerName { c["tls-server-name"] = .string(name) }
            if cluster.insecureSkipTLSVerify { c["insecure-skip-tls-verify"] = true }
            if let ca = cluster.caData { c["certificate-authority-data"] = .string(Base64.encode(ca)) }
            spec["cluster"] = c
        }
        return ["apiVersion": .string(exec.apiVersion), "kind": "ExecCredential", "spec": spec]
    }

    /// Parses the plugin's standard output.
    static func decode(_ output: [UInt8], exec: ExecConfig) throws(KubeClientError) -> ExecCredential {
        let json: JSONValue
        do { json = try JSONValue.parse(output) } catch {
            throw .exec(command: exec.command, message: "output is not JSON: \(error.description)")
        }
        guard json["kind"]?.stringValue == "ExecCredential" else {
            throw .exec(command: exec.command, message: "output is not an ExecCredential")
        }
        guard json["apiVersion"]?.stringValue == exec.apiVersion else {
            throw .exec(command: exec.command, message: "answered apiVersion \(json["apiVersion"]?.stringValue ?? "none"), expected \(exec.apiVersion)")
        }
        guard let status = json["status"], status.objectValue != nil else {
            throw .exec(command: exec.command, message: "ExecCredential has no status")
        }
        var credential = ExecCredential()
        credential.token = status["token"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        credential.clientCertData = status["clientCertificateData"]?.stringValue.map { Array($0.utf8) }
        credential.clientKeyData = status["clientKeyData"]?.stringValue.map { Array($0.utf8) }
        if (credential.clientCertData == nil) != (credential.clientKeyData == nil) {
            throw .exec(command: exec.command, message: "clientCertificateData and clientKeyData must be given together")
        }
        if credential.token == nil && credential.clientCertData == nil {
            throw .exec(command: exec.command, message: "ExecCredential has neither a token nor a client certificate")
        }
        if let stamp = status["expirationTimestamp"]?.stringValue {
            guard let date = parseRFC3339(stamp) else {
                throw .exec(command: exec.command, message: "invalid expirationTimestamp \"\(stamp)\"")
            }
            credential.expiration = date
        }
        return credential
    }

    /// Runs the plugin without blocking a Swift concurrency thread: the blocking wait happens on a thread of its own.
    static func run(_ exec: ExecConfig, cluster: KubeConfig, environment: [String: String]) async throws -> ExecCredential {
        let executable = try resolveCommand(exec, environment: environment)
        var env = environment
        for item in exec.env { env[item.name] = item.value }
        env["KUBERNETES_EXEC_INFO"] = execInfo(exec, cluster: cluster).serialized()

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = exec.args
        process.environment = env
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw KubeClientError.exec(command: exec.command, message: "cannot start: \(error.localizedDescription)"
                                       + (exec.installHint.map { "\n\($0)" } ?? ""))
        }
        let box = ProcessBox(process)
        // The answer arrives once: from the reader thread when the plugin ends, or at once when it is killed
        // (cancelled request, or past its time limit: a hung plugin would stall every request of the client,
        // as they share its answer). A killed plugin's children may keep its pipes open, so a kill must not
        // wait for the readers.
        let outcome = PluginOutcome()
        DispatchQueue.global().asyncAfter(deadline: .now() + timeLimitSeconds) {
            box.kill()
            outcome.finish(.failure(KubeClientError.exec(command: exec.command, message: "did not finish within \(Int(timeLimitSeconds)) s")))
        }
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Result<PluginOutput, any Error>, Never>) in
                outcome.wait(c)
                let thread = Thread {
                    // Read both pipes to the end before waiting, so a chatty plugin cannot fill a pipe and hang.
                    let errData = OneShotBytes()
                    let errThread = Thread { errData.set([UInt8](stderr.fileHandleForReading.readDataToEndOfFile())) }
                    errThread.start()
                    let out = [UInt8](stdout.fileHandleForReading.readDataToEndOfFile())
                    box.process.waitUntilExit()
                    outcome.finish(.success(PluginOutput(stdout: out, stderr: errData.waitForValue(), status: box.process.terminationStatus)))
                }
                thread.start()
            }
        } onCancel: {
            box.kill()
            outcome.finish(.failure(CancellationError()))
        }
        let output = try result.get()
        if output.status != 0 {
            let detail = String(decoding: output.stderr.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw KubeClientError.exec(command: exec.command, message: "exited with status \(output.status)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return try decode(output.stdout, exec: exec)
    }

    /// A command with a "/" is a path (relative ones against the kubeconfig's folder); otherwise it is looked up in PATH.
    static func resolveCommand(_ exec: ExecConfig, environment: [String: String]) throws(KubeClientError) -> String {
        let fm = FileManager.default
        if exec.command.contains("/") {
            if exec.command.hasPrefix("/") { return exec.command }
            return (exec.baseDirectory.map { $0 + "/" } ?? "") + exec.command
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(exec.command)"
            if fm.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .exec(command: exec.command, message: "not found in PATH" + (exec.installHint.map { "\n\($0)" } ?? ""))
    }

    static func parseRFC3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }
}

/// `@unchecked Sendable`: `process` is only read for its pid and status after start; `killed` is guarded by `lock`.
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    private let lock = NSLock()
    private var didKill = false
    init(_ process: Process) { self.process = process }

    /// Kills the plugin if it is still running (after its time limit, or when the request was cancelled).
    func kill() {
        lock.withLock {
            guard process.isRunning else { return }
            didKill = true
            _ = Foundation.kill(process.processIdentifier, SIGKILL)
        }
    }

    var killed: Bool { lock.withLock { didKill } }
}

/// A one-shot value handed from one thread to another (the stderr reader to the waiter).
private final class OneShotBytes: @unchecked Sendable {
    // @unchecked: guarded by `condition`.
    private let condition = NSCondition()
    private var value: [UInt8]?

    func set(_ bytes: [UInt8]) {
        condition.lock()
        value = bytes
        condition.signal()
        condition.unlock()
    }

    func waitForValue() -> [UInt8] {
        condition.lock()
        defer { condition.unlock() }
        while value == nil { condition.wait() }
        return value ?? []
    }
}

struct PluginOutput: Sendable {
    var stdout: [UInt8]
    var stderr: [UInt8]
    var status: Int32
}

/// Delivers a plugin run's outcome to its waiting task exactly once, whoever finishes first.
private final class PluginOutcome: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var result: Result<PluginOutput, any Error>?
    private var continuation: CheckedContinuation<Result<PluginOutput, any Error>, Never>?

    func wait(_ c: CheckedContinuation<Result<PluginOutput, any Error>, Never>) {
        let ready: Result<PluginOutput, any Error>? = lock.withLock {
            if result == nil { continuation = c }
            return result
        }
        if let ready { c.resume(returning: ready) }
    }

    func finish(_ outcome: Result<PluginOutput, any Error>) {
        let c: CheckedContinuation<Result<PluginOutput, any Error>, Never>? = lock.withLock {
            guard result == nil else { return nil }
            result = outcome
            defer { continuation = nil }
            return continuation
        }
        c?.resume(returning: outcome)
    }
}
