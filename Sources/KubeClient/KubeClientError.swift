/// Everything KubeClient can fail with, except answers of the API server, which are `APIError` (KubeCore).
///
/// Each case carries enough context to act on: a config error names the file, the field and, for YAML
/// syntax errors, the line and column; a transport error keeps libcurl's code and message.
public enum KubeClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A kubeconfig or in-cluster setting is missing or malformed.
    case config(file: String?, field: String?, line: Int? = nil, column: Int? = nil, message: String)
    /// libcurl failed (connection refused, TLS, timeout, ...). `code` is the CURLcode.
    case transport(code: Int, message: String)
    /// The transfer ran longer than the request timeout.
    case timeout(seconds: Double)
    /// A 2xx answer whose body is not what the verb expects.
    case decode(String)
    /// An exec credential plugin failed or answered nonsense.
    case exec(command: String, message: String)
    /// A streamed line (watch event, log line) is longer than the bound.
    case lineTooLong(limit: Int)
    /// The caller asked for something that cannot be sent (e.g. update of an object without a name).
    case invalidRequest(String)
    /// The client was shut down while the request was in flight.
    case shutdown
    /// A write refused by `ClientOptions.writeFence` (this replica no longer holds its leader lease); not sent.
    case fenced(method: String, path: String)

    public var description: String {
        switch self {
        case let .config(file, field, line, column, message):
            var where_ = file ?? "config"
            if let line { where_ += ":\(line)" + (column.map { ":\($0)" } ?? "") }
            if let field { where_ += ": \(field)" }
            return "\(where_): \(message)"
        case let .transport(code, message): return "transport error (curl \(code)): \(message)"
        case let .timeout(seconds): return "request timed out after \(seconds) s"
        case let .decode(message): return "cannot decode the server's answer: \(message)"
        case let .exec(command, message): return "exec credential plugin \(command): \(message)"
        case let .lineTooLong(limit): return "streamed line longer than \(limit) bytes"
        case let .invalidRequest(message): return "invalid request: \(message)"
        case .shutdown: return "the client was shut down"
        case let .fenced(method, path): return "\(method) \(path) not sent: this replica may no longer hold its leader lease (fenced)"
        }
    }

    /// Connection-level failures that happened before the request could reach the server
    /// (so even a non-idempotent verb may be retried).
    var isConnectFailure: Bool {
        guard case let .transport(code, _) = self else { return false }
        // CURLE_COULDNT_RESOLVE_PROXY 5, COULDNT_RESOLVE_HOST 6, COULDNT_CONNECT 7
        return code == 5 || code == 6 || code == 7
    }

    /// Transport failures worth retrying for idempotent verbs (the request may or may not have been processed).
    var isTransientTransport: Bool {
        switch self {
        case .transport(let code, _):
            // + SEND_ERROR 55, RECV_ERROR 56, GOT_NOTHING 52, PARTIAL_FILE 18, HTTP2 16, HTTP2_STREAM 92
            return isConnectFailure || [16, 18, 52, 55, 56, 92].contains(code)
        case .timeout: return true
        default: return false
        }
    }
}
