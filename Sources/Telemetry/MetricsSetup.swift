import CoreMetrics
import Prometheus
import Synchronization

/// Routes swift-metrics to a Prometheus registry. swift-metrics' backend is process-wide by design and may be
/// bootstrapped only once, so this keeps the registry of the first call and hands it to later callers.
public enum MetricsSetup {
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    /// `durationBuckets`: histogram buckets of the timers named (others get swift-prometheus' defaults, 5 ms to
    /// 10 s); only the first call's apply.
    @discardableResult
    public static func bootstrap(durationBuckets: [String: [Duration]] = [:]) -> PrometheusCollectorRegistry {
        installed.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.durationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
            current = registry
            return registry
        }
    }
}
