import CoreMetrics
import Prometheus
import Synchronization

/// Routes swift-metrics to a Prometheus registry. swift-metrics' backend is process-wide by design and may be
/// bootstrapped only once, so this keeps the registry of the first call and hands it to later callers.
public enum MetricsSetup {
    private static let installed = Mutex<PrometheusCollectorRegistry?>(nil)

    @discardableResult
    public static func bootstrap() -> PrometheusCollectorRegistry {
        installed.withLock { current in
            if let current { return current }
            let registry = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
            current = registry
            return registry
        }
    }
}
