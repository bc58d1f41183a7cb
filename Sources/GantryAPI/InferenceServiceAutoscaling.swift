import KubeCore

/// The serving size follows a metric (spec.autoscaling), by the rules of Kubernetes' HorizontalPodAutoscaler:
/// desired = ceil(current × value / target) outside a tolerance, a scale-up taken at once (or after its own
/// window), a scale-down only once every recommendation of the scale-down window agrees, bounded by min and max.
/// The size decided is written to status (`status.autoscaling.desiredReplicas`, `status.replicas`), never to spec.
public struct Autoscaling: Codable, Sendable, Hashable {
    public enum Metric: String, Codable, Sendable, Hashable, CaseIterable {
        /// Requests in flight per replica (a gauge, averaged over the serving pods).
        case concurrency
        /// Requests per second per replica (the per-second rate of a counter, averaged over the serving pods).
        case rps
        /// CPU use as a percentage of `resources.cpu` (the rate of process_cpu_seconds_total, averaged).
        case cpu
        /// Age in seconds of the oldest message waiting in the queue the workers pull from (a value, not per replica).
        case queueAge
        /// `metricName`, as `targetType` says.
        case custom
    }

    /// How a metric's value relates to the number of replicas (HPA's target types).
    public enum TargetType: String, Codable, Sendable, Hashable, CaseIterable {
        /// The target is per replica: the pods' values are averaged (a Service's value is divided by the replicas).
        case averageValue = "AverageValue"
        /// The target is for the value itself: the highest of the pods' values (or the Service's value).
        case value = "Value"
    }

    /// Where the metric is read when not from the serving pods: a Service (a queue's exporter), through the API
    /// server's service proxy. Needed to scale from zero, when there is no pod to read.
    public struct MetricsSource: Codable, Sendable, Hashable {
        /// A Service in the same namespace.
        public var service: String
        /// The Service's port (default: its first).
        public var port: Int?
        /// Path of the Prometheus text (default /metrics).
        public var path: String?
        public init(service: String, port: Int? = nil, path: String? = nil) {
            self.service = service
            self.port = port
            self.path = path
        }
        public var effectivePath: String { path ?? "/metrics" }
    }

    /// A limit on how fast the size may change in one direction (autoscaling/v2 HPAScalingPolicy).
    public struct ScalingPolicy: Codable, Sendable, Hashable {
        public enum Kind: String, Codable, Sendable, Hashable, CaseIterable {
            /// At most `value` replicas added (removed) within `periodSeconds`.
            case pods = "Pods"
            /// At most `value` percent of the replicas at the start of the period.
            case percent = "Percent"
        }
        public var type: Kind
        public var value: Int
        public var periodSeconds: Int
        public init(type: Kind, value: Int, periodSeconds: Int) {
            self.type = type
            self.value = value
            self.periodSeconds = periodSeconds
        }
    }

    /// HPA's `behavior.scaleUp` / `scaleDown` rates (the stabilization windows are the fields beside them).
    public struct ScalingRules: Codable, Sendable, Hashable {
        public enum Select: String, Codable, Sendable, Hashable, CaseIterable {
            /// The policy allowing the biggest change (HPA's default).
            case max = "Max"
            /// The policy allowing the smallest change.
            case min = "Min"
            /// No change in this direction.
            case disabled = "Disabled"
        }
        public var policies: [ScalingPolicy]?
        public var selectPolicy: Select?
        public init(policies: [ScalingPolicy]? = nil, selectPolicy: Select? = nil) {
            self.policies = policies
            self.selectPolicy = selectPolicy
        }
        public var effectiveSelectPolicy: Select { selectPolicy ?? .max }
        /// The longest period a policy looks back over (how long scale changes must be remembered).
        public var longestPeriodSeconds: Int { policies?.map(\.periodSeconds).max() ?? 0 }
    }

    public var minReplicas: Int?
    public var maxReplicas: Int
    public var metric: Metric
    /// Per replica for concurrency and rps, a percentage of the CPU request for cpu, seconds for queueAge.
    public var target: Double
    /// The Prometheus series read (exact label matchers allowed); each metric has a default.
    public var metricName: String?
    /// custom only (default AverageValue).
    public var targetType: TargetType?
    /// custom only: the series is a counter and its per-second rate is compared with the target.
    public var counter: Bool?
    /// Port and path of the serving pods' metrics (default: spec.port, /metrics).
    public var port: Int?
    public var path: String?
    public var metricsFrom: MetricsSource?
    /// PromQL sent to the platform's Prometheus (PlatformConfig spec.prometheus.url) instead of reading pods:
    /// its samples summed (the highest for a Value target) are the service's value in the target's unit (write
    /// `rate()` in the query for a rate), with the placeholders of `PrometheusTemplate` for the serving revision.
    public var query: String?
    /// How often the metric is read (HPA's sync period, default 15 s).
    public var intervalSeconds: Int?
    /// No change while |value / target − 1| is within this (default 0.1, as HPA).
    public var tolerance: Double?
    /// A scale-up happens only once every recommendation of this window asks for more (default 0: at once).
    public var scaleUpStabilizationSeconds: Int?
    /// A scale-down goes only to the highest recommendation of this window (default 300, as HPA).
    public var scaleDownStabilizationSeconds: Int?
    /// How fast the size may grow and shrink (HPA's behavior policies); unset: no limit but maxReplicas/minReplicas.
    public var scaleUp: ScalingRules?
    public var scaleDown: ScalingRules?

    public init(minReplicas: Int? = nil, maxReplicas: Int, metric: Metric, target: Double) {
        self.minReplicas = minReplicas
        self.maxReplicas = maxReplicas
        self.metric = metric
        self.target = target
    }

    public var effectiveMinReplicas: Int { minReplicas ?? 1 }
    public var effectiveIntervalSeconds: Int { intervalSeconds ?? 15 }
    public var effectiveTolerance: Double { tolerance ?? 0.1 }
    public var effectiveScaleUpStabilizationSeconds: Int { scaleUpStabilizationSeconds ?? 0 }
    public var effectiveScaleDownStabilizationSeconds: Int { scaleDownStabilizationSeconds ?? 300 }
    public var effectivePath: String { path ?? "/metrics" }

    /// The series each metric reads unless `metricName` says otherwise.
    public static func defaultMetricName(_ metric: Metric) -> String? {
        switch metric {
        case .concurrency: "http_requests_in_flight"
        case .rps: "http_requests_total"
        case .cpu: "process_cpu_seconds_total"
        case .queueAge: "queue_oldest_message_age_seconds"
        case .custom: nil
        }
    }

    public var effectiveMetricName: String { metricName ?? Self.defaultMetricName(metric) ?? "" }

    /// Whether the series is a counter whose per-second rate Gantry computes (rps, cpu, a custom counter; never
    /// for a `query`, whose answer is the value).
    public var readsRate: Bool {
        guard query == nil else { return false }
        return switch metric {
        case .rps, .cpu: true
        case .concurrency, .queueAge: false
        case .custom: counter ?? false
        }
    }

    /// concurrency, rps and cpu are per replica; queueAge is a value; custom as targetType says.
    public var effectiveTargetType: TargetType {
        switch metric {
        case .concurrency, .rps, .cpu: .averageValue
        case .queueAge: .value
        case .custom: targetType ?? .averageValue
        }
    }
}

/// What the autoscaler last read and decided (spec.autoscaling).
public struct AutoscalingStatus: Codable, Sendable, Hashable {
    /// One recommendation (the replicas the metric asked for, before stabilization and bounds) and when.
    public struct Recommendation: Codable, Sendable, Hashable {
        public var at: String
        public var replicas: Int
        public init(at: String, replicas: Int) {
            self.at = at
            self.replicas = replicas
        }
    }
    /// A change of the serving size.
    public struct Scale: Codable, Sendable, Hashable {
        public var from: Int
        public var to: Int
        public var at: String
        public init(from: Int, to: Int, at: String) {
            self.from = from
            self.to = to
            self.at = at
        }
    }
    /// `concurrency (http_requests_in_flight)`.
    public var metric: String
    /// The value compared with the target: per replica (AverageValue) or the value (Value); nil when unreadable.
    public var currentValue: Double?
    public var target: Double
    /// The serving size the autoscaler decided: the replicas of every live revision (never written to spec).
    public var desiredReplicas: Int
    /// The last reading's recommendation, before stabilization and bounds.
    public var recommendation: Int?
    /// The last change of the size.
    public var lastScale: Scale?
    /// When the metric was last read.
    public var lastCheck: String?
    /// CamelCase: ScaledUp, ScaledDown, ScaleDownStabilized, ScaleUpStabilized, ScaleUpLimit, ScaleDownLimit,
    /// AtMaxReplicas, AtMinReplicas, WithinTolerance, MetricsUnreadable.
    public var reason: String
    public var message: String
    /// The recommendations still inside a stabilization window (older ones that cannot change a decision dropped).
    public var recommendations: [Recommendation]?
    /// The changes of the size inside the longest scaleUp/scaleDown policy period (what the rate limits count).
    public var recentScales: [Scale]?
    public init(metric: String, target: Double, desiredReplicas: Int, reason: String, message: String) {
        self.metric = metric
        self.target = target
        self.desiredReplicas = desiredReplicas
        self.reason = reason
        self.message = message
    }
}
