import GantryAPI
import KubeRuntime

/// The condition `MetricsConfigured`, present while the spec reads the platform's Prometheus (analysis source
/// Prometheus, autoscaling.query): False with the field to set when the PlatformConfig names no server, so a
/// missing URL shows before a rollout needs it rather than as a warning in the middle of one.
extension InferencePlanning {
    static let metricsCondition = "MetricsConfigured"

    /// The spec's fields that read Prometheus.
    var prometheusReaders: [String] {
        [rollout.analysis?.effectiveSource == .prometheus ? "spec.rollout.analysis (source Prometheus)" : nil,
         service.spec.autoscaling?.query != nil ? "spec.autoscaling.query" : nil].compactMap { $0 }
    }

    mutating func reportMetricsSource() {
        let readers = prometheusReaders
        guard !readers.isEmpty else {
            conditions.remove(Self.metricsCondition)
            return
        }
        let fields = readers.joined(separator: " and ")
        if let url = prometheus?.url {
            conditions.set(Self.metricsCondition, .true, "PrometheusURLSet", "\(fields) read from \(url)")
        } else {
            conditions.set(Self.metricsCondition, .false, "PrometheusURLMissing", PrometheusMetrics.missingURL(fields))
        }
    }
}
