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

/// Applies the current FaultSpec to each request (health checks excepted).
final class FaultInjector: @unchecked Sendable {
    // @unchecked: `spec` and `injectedCount` are read and written only under `lock`.
    private let lock = NSLock()
    private var spec = FaultSpec()
    private(set) var injectedCount = 0

    var current: FaultSpec {
        get { lock.withLock { spec } }
        set { lock.withLock { spec = newValue } }
    }

    /// Sleeps the configured latency; answers the error to send instead of handling the request, if any.
    func intercept() async -> APIStatusError? {
        let s = current
        if s.latency > .zero { try? await Task.sleep(for: s.latency) }
        guard s.errorRate > 0, Double.random(in: 0..<1) < s.errorRate else { return nil }
        lock.withLock { injectedCount += 1 }
        switch s.errorCode {
        case 429:
            return APIStatusError(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                  retryAfterSeconds: 1)
        case 500:
            return APIStatusError(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault")
        default:
            return APIStatusError(code: 503, reason: "ServiceUnavailable", message: "The server is currently unable to handle the request (injected fault)",
                                  retryAfterSeconds: 1)
        }
    }
}
