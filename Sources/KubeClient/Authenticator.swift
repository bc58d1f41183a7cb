import Foundation
import KubeCore

/// The credentials to attach to one request.
struct Credentials: Sendable, Equatable {
    var bearerToken: String?
    var clientCertData: [UInt8]?
    var clientKeyData: [UInt8]?
}

/// Produces fresh credentials for requests: a static token, a token file re-read at most every minute and
/// after a 401 (rule 18: bound service-account tokens expire and the kubelet rotates the file), or an exec
/// plugin whose answer is cached until `expirationTimestamp` and re-run after a 401 (rule 19).
/// Tokens are never logged.
actor Authenticator {
    static let tokenFileMaxAge: TimeInterval = 60
    /// Refresh an exec credential this long before it expires, so no request goes out with a dying token.
    static let expirySkew: TimeInterval = 10

    private let config: KubeConfig
    private let environment: [String: String]
    private let now: @Sendable () -> Date
    private var fileToken: (token: String, readAt: Date)?
    private var execCredential: ExecCredential?
    private var execRun: Task<ExecCredential, any Error>?
    /// How many times the exec plugin ran (tests check the caching).
    private(set) var execRuns = 0

    init(config: KubeConfig, environment: [String: String] = ProcessInfo.processInfo.environment,
         now: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.environment = environment
        self.now = now
    }

    func credentials() async throws -> Credentials {
        var result = Credentials(clientCertData: config.clientCertData, clientKeyData: config.clientKeyData)
        if let token = config.token {
            result.bearerToken = token
        } else if let file = config.tokenFile {
            result.bearerToken = try readTokenFile(file)
        }
        if let exec = config.exec {
            let credential = try await execCredential(exec)
            if let token = credential.token { result.bearerToken = token }
            if let cert = credential.clientCertData, let key = credential.clientKeyData {
                result.clientCertData = cert
                result.clientKeyData = key
            }
        }
        return result
    }

    /// After a 401: forget cached tokens so the next request reads the file or runs the plugin again.
    func invalidate() {
        fileToken = nil
        execCredential = nil
    }

    /// Whether a 401 can be cured by fetching credentials again (otherwise retrying is pointless).
    nonisolated var canRefresh: Bool { config.tokenFile != nil || config.exec != nil }

    private func readTokenFile(_ file: String) throws -> String {
        if let cached = fileToken, now().timeIntervalSince(cached.readAt) < Self.tokenFileMaxAge {
            return cached.token
        }
        guard let data = FileManager.default.contents(atPath: file) else {
            throw KubeClientError.config(file: file, field: "tokenFile", message: "cannot read the token file")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        fileToken = (token, now())
        return token
    }

    private func execCredential(_ exec: ExecConfig) async throws -> ExecCredential {
        if let cached = execCredential {
            if let expiration = cached.expiration {
                if expiration.timeIntervalSince(now()) > Self.expirySkew { return cached }
            } else {
                return cached
            }
        }
        // One run at a time: concurrent requests share the plugin's answer. A cancelled request cancels the run
        // (killing the plugin), so cancellation stays prompt; requests sharing it then fail and retry later.
        if let running = execRun { return try await Self.value(of: running) }
        let config = self.config
        let environment = self.environment
        let task = Task { try await ExecCredentialPlugin.run(exec, cluster: config, environment: environment) }
        execRun = task
        execRuns += 1
        defer { execRun = nil }
        let credential = try await Self.value(of: task)
        execCredential = credential
        return credential
    }

    private static func value(of task: Task<ExecCredential, any Error>) async throws -> ExecCredential {
        try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
    }
}
