import Foundation

/// Fault injection settings: a fraction of requests answered with an error code, and an added latency.
/// Text form (`--faults`): comma-separated `error=FRACTION:CODE` (CODE 429, 500 or 503) and `latency=50ms|1s`,
/// e.g. `error=0.1:503,latency=50ms`. Empty means off.
public struct FaultSpec: Sendable, Equatable {
    public var errorRate: Double = 0
    public var errorCode: Int = 503
    public var latency: Duration = .zero
    public init(errorRate: Double = 0, errorCode: Int = 503, latency: Duration = .zero) {
        self.errorRate = errorRate
        self.errorCode = errorCode
        self.latency = latency
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws {
        for item in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2 else { throw ParseError(description: "fault '\(item)': expected key=value") }
            switch kv[0] {
            case "error":
                let parts = kv[1].split(separator: ":").map(String.init)
                guard let first = parts.first, let rate = Double(first), (0...1).contains(rate) else {
                    throw ParseError(description: "fault '\(item)': the error rate must be a fraction between 0 and 1")
                }
                errorRate = rate
                if parts.count > 1 {
                    guard let code = Int(parts[1]), [429, 500, 503].contains(code) else {
                        throw ParseError(description: "fault '\(item)': the error code must be 429, 500 or 503")
                    }
                    errorCode = code
                }
            case "latency":
                let v = kv[1]
                if v.hasSuffix("ms"), let n = Int(v.dropLast(2)), (0...600_000).contains(n) { latency = .milliseconds(n) }
                else if v.hasSuffix("s"), let n = Double(v.dropLast()), (0...600).contains(n) { latency = .milliseconds(Int(n * 1000)) }
                else { throw ParseError(description: "fault '\(item)': latency must look like 50ms or 1s") }
            default:
                throw ParseError(description: "fault '\(item)': unknown fault (known: error, latency)")
            }
        }
    }
}

/// Which requests a queued failure applies to (every field that is set must match).
public struct FaultTarget: Sendable {
    public var method: String?
    /// A substring of the path, e.g. `/configmaps`.
    public var path: String?
    /// A query parameter that must be present, e.g. `continue` or `watch`.
    public var queryParameter: String?
    /// The authenticated user that must have sent the request (one of two clients on the same paths).
    public var user: String?
    public init(method: String? = nil, path: String? = nil, queryParameter: String? = nil, user: String? = nil) {
        self.method = method
        self.path = path
        self.queryParameter = queryParameter
        self.user = user
    }
    public static let any = FaultTarget()

    func matches(_ req: APIRequest, user: String?) -> Bool {
        if let method, method != req.method { return false }
        if let path, !req.path.contains(path) { return false }
        if let queryParameter, req.query[queryParameter] == nil { return false }
        if let wanted = self.user, wanted != user { return false }
        return true
    }
}

/// Applies the current FaultSpec to each request (health checks excepted).
final class FaultInjector: @unchecked Sendable {
    // @unchecked: `spec`, `queued` and `injectedCount` are read and written only under `lock`.
    private let lock = NSLock()
    private var spec = FaultSpec()
    private var injectedCount = 0
    var injected: Int { lock.withLock { injectedCount } }
    /// Deterministic failures queued by tests, answered before the random ones.
    private var queued: [(code: Int, retryAfter: Int?, target: FaultTarget)] = []
    /// Deterministic delays queued by tests: a matching request waits this long, then is handled.
    private var delays: [(delay: Duration, target: FaultTarget)] = []

    func failNext(_ count: Int, code: Int, retryAfterSeconds: Int?, target: FaultTarget) {
        guard count > 0 else { return }
        lock.withLock { queued += Array(repeating: (code, retryAfterSeconds, target), count: count) }
    }

    func delayNext(_ count: Int, by delay: Duration, target: FaultTarget) {
        guard count > 0 else { return }
        lock.withLock { delays += Array(repeating: (delay, target), count: count) }
    }

    func clearQueued() { lock.withLock { queued = []; delays = [] } }

    var current: FaultSpec {
        get { lock.withLock { spec } }
        set { lock.withLock { spec = newValue } }
    }

    /// Sleeps the configured latency; answers the error to send instead of handling the request, if any.
    func intercept(_ req: APIRequest, user: String?) async -> APIStatusError? {
        let s = current
        if s.latency > .zero { try? await Task.sleep(for: s.latency) }
        let delay = lock.withLock { () -> Duration? in
            guard let i = delays.firstIndex(where: { $0.target.matches(req, user: user) }) else { return nil }
            return delays.remove(at: i).delay
        }
        if let delay { try? await Task.sleep(for: delay) }
        let next = lock.withLock { () -> (code: Int, retryAfter: Int?, target: FaultTarget)? in
            guard let i = queued.firstIndex(where: { $0.target.matches(req, user: user) }) else { return nil }
            return queued.remove(at: i)
        }
        if let next {
            lock.withLock { injectedCount += 1 }
            return Self.error(code: next.code, retryAfter: next.retryAfter)
        }
        guard s.errorRate > 0, Double.random(in: 0..<1) < s.errorRate else { return nil }
        lock.withLock { injectedCount += 1 }
        return Self.error(code: s.errorCode, retryAfter: s.errorCode == 500 ? nil : 1)
    }

    static func error(code: Int, retryAfter: Int?) -> APIStatusError {
        switch code {
        case 410:
            // What an expired `continue` token or a compacted watch version gets.
            return APIStatusError(code: 410, reason: "Expired", message: "The provided continue parameter is too old to display a consistent list result. (injected fault)")
        case 429:
            return APIStatusError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                  retryAfterSeconds: retryAfter)
        case 422:
            // What a create gets when the object fails validation (the reaction to a refused child is tested).
            return APIStatusError(code: 422, reason: "Invalid", message: "the object is invalid (injected fault)")
        case 500:
            return APIStatusError(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault",
                                  retryAfterSeconds: retryAfter)
        default:
            return APIStatusError(code: 503, reason: "ServiceUnavailable", message: "The server is currently unable to handle the request (injected fault)",
                                  retryAfterSeconds: retryAfter)
        }
    }
}
