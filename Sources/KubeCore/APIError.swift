/// An error answered by the API server, decoded from its `Status` object (API-SEMANTICS rule 14).
public struct APIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One field-level cause of an `Invalid` answer.
    public struct Cause: Sendable, Hashable {
        public var field: String
        public var reason: String
        public var message: String
        public init(field: String, reason: String, message: String) {
            self.field = field
            self.reason = reason
            self.message = message
        }
    }

    public var code: Int
    public var reason: String
    public var message: String
    public var causes: [Cause]
    /// Seconds to wait before retrying, from `Retry-After` or `details.retryAfterSeconds`.
    public var retryAfterSeconds: Int?

    public init(code: Int, reason: String, message: String, causes: [Cause] = [], retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Builds the error from a response body; a body that is not a Status still yields a useful error.
    public init(code: Int, body: JSONValue?, retryAfterHeader: Int? = nil) {
        let status = body?["kind"]?.stringValue == "Status" ? body : nil
        let causes = status?[path: "details", "causes"]?.arrayValue?.map {
            Cause(field: $0["field"]?.stringValue ?? "", reason: $0["reason"]?.stringValue ?? "",
                  message: $0["message"]?.stringValue ?? "")
        } ?? []
        let retry = retryAfterHeader ?? status?[path: "details", "retryAfterSeconds"]?.intValue.map { Int($0) }
        self.init(code: Int(status?["code"]?.intValue ?? Int64(code)),
                  reason: status?["reason"]?.stringValue ?? Self.defaultReason(code),
                  message: status?["message"]?.stringValue ?? "the server answered HTTP \(code)",
                  causes: causes, retryAfterSeconds: retry)
    }

    public static func defaultReason(_ code: Int) -> String {
        switch code {
        case 400: return "BadRequest"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "NotFound"
        case 405: return "MethodNotAllowed"
        case 409: return "Conflict"
        case 410: return "Expired"
        case 415: return "UnsupportedMediaType"
        case 422: return "Invalid"
        case 429: return "TooManyRequests"
        case 500: return "InternalError"
        case 503: return "ServiceUnavailable"
        case 504: return "Timeout"
        default: return "Unknown"
        }
    }

    public var isNotFound: Bool { code == 404 }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    public var isInvalid: Bool { code == 422 }
    public var isGone: Bool { code == 410 }
    public var isUnauthorized: Bool { code == 401 }
    public var isForbidden: Bool { code == 403 }
    public var isTooManyRequests: Bool { code == 429 }
    /// Worth retrying with backoff: throttling and server-side trouble, never a client mistake.
    public var isTransient: Bool { code == 429 || code == 500 || code == 502 || code == 503 || code == 504 }

    public var description: String {
        var text = "\(reason) (\(code)): \(message)"
        for cause in causes { text += "\n  \(cause.field): \(cause.message)" }
        return text
    }
}
