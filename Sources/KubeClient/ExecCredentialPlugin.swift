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
        let (output, errors, status) = await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<([UInt8], [UInt8], Int32), Never>) in
                let thread = Thread {
                    // Read both pipes to the end before waiting, so a chatty plugin cannot fill a pipe and hang.
                    let errData = OneShotBytes()
                    let errThread = Thread { errData.set([UInt8](stderr.fileHandleForReading.readDataToEndOfFile())) }
                    errThread.start()
                    let out = [UInt8](stdout.fileHandleForReading.readDataToEndOfFile())
                    box.process.waitUntilExit()
                    c.resume(returning: (out, errData.waitForValue(), box.process.terminationStatus))
                }
                thread.start()
            }
        } onCancel: {
            box.process.terminate()
        }
        try Task.checkCancellation()
        if status != 0 {
            let detail = String(decoding: errors.prefix(4096), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw KubeClientError.exec(command: exec.command, message: "exited with status \(status)" + (detail.isEmpty ? "" : ": \(detail)"))
        }
        return try decode(output, exec: exec)
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

/// `@unchecked Sendable`: Process is thread-safe for `terminate()` and is otherwise used by one thread at a time.
private final class ProcessBox: @unchecked Sendable {
    let process: Process
    init(_ process: Process) { self.process = process }
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
