import CoreMetrics
import Logging

/// Tuning of a `KubeClient`.
///
/// Defaults: no client-side rate limit (`qps: nil`), like controller-runtime since v0.15, which relies on the
/// API server's priority and fairness instead (client-go's old default was 5 QPS / burst 10; rule 20);
/// `burst` 10 when a `qps` is set; 30 s request timeout for non-streaming requests (watch and logs have
/// none: they end when the server or the consumer ends them); 3 retries of transient failures.
public struct ClientOptions: Sendable {
    /// Requests per second allowed on average; nil = no client-side limit.
    public var qps: Double?
    public var burst: Int
    public var requestTimeout: Duration
    public var connectTimeout: Duration
    public var userAgent: String
    public var maxRetries: Int
    /// Base and cap of the jittered exponential backoff between retries.
    public var retryBaseDelay: Duration
    public var retryMaxDelay: Duration
    /// Bytes of a watch or log stream buffered before the transfer is paused.
    public var streamBufferBytes: Int
    /// Longest watch event or log line accepted.
    public var maxLineLength: Int
    /// Where request metrics go; nil = the process-wide `MetricsSystem.factory`.
    public var metricsFactory: (any MetricsFactory)?
    public var logger: Logger
    /// Asked before every write (any verb but GET and HEAD), at each attempt: false refuses it with
    /// `KubeClientError.fenced` before anything is sent. A leader-elected controller passes
    /// `LeaderElector.holdsLease`, so a replica whose lease may have passed to another writes nothing.
    public var writeFence: (@Sendable () -> Bool)?

    public init(qps: Double? = nil, burst: Int = 10, requestTimeout: Duration = .seconds(30),
                connectTimeout: Duration = .seconds(10), userAgent: String = "gantry/0.1 (linux) kubeclient",
                maxRetries: Int = 3, retryBaseDelay: Duration = .milliseconds(200), retryMaxDelay: Duration = .seconds(10),
                streamBufferBytes: Int = 1 << 20, maxLineLength: Int = LineFramer.defaultMaxLineLength,
                metricsFactory: (any MetricsFactory)? = nil, logger: Logger = Logger(label: "gantry.kubeclient")) {
        self.qps = qps
        self.burst = burst
        self.requestTimeout = requestTimeout
        self.connectTimeout = connectTimeout
        self.userAgent = userAgent
        self.maxRetries = maxRetries
        self.retryBaseDelay = retryBaseDelay
        self.retryMaxDelay = retryMaxDelay
        self.streamBufferBytes = streamBufferBytes
        self.maxLineLength = maxLineLength
        self.metricsFactory = metricsFactory
        self.logger = logger
    }

    var retryPolicy: RetryPolicy { RetryPolicy(maxRetries: maxRetries, baseDelay: retryBaseDelay, maxDelay: retryMaxDelay) }
}
