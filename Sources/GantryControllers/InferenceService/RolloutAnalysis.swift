import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// Reads the analysed colour's metrics: every replica's `/metrics` through the API server's pod proxy, the
/// requests and errors counters summed, the latency gauge's highest value (or the same figures from Prometheus
/// with `source: Prometheus`, PrometheusMetrics). A replica that cannot be read makes the reading fail (no
/// verdict on part of the traffic).
public enum RolloutAnalysis {
    public typealias ReadFailure = MetricsReadFailure

    public static func read(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, client: KubeClient,
                            prometheus: PrometheusMetrics, platform: PlatformConfigSpec) async -> Result<AnalysisStatus.Reading, ReadFailure> {
        guard let analysis = service.spec.effectiveRollout.analysis else { return .failure(ReadFailure(message: "no spec.rollout.analysis")) }
        if analysis.effectiveSource == .prometheus {
            return await prometheus.analysisReading(analysis, service, revision, platform: platform)
        }
        let requestsMetric = analysis.requestsMetric ?? ""
        guard let requests = PrometheusSelector(requestsMetric) else { return .failure(ReadFailure(message: "requestsMetric \(requestsMetric) is not a metric selector")) }
        let errors = analysis.errorsMetric.flatMap(PrometheusSelector.init)
        let latency = analysis.latencyMetric.flatMap(PrometheusSelector.init)
        var reading = AnalysisStatus.Reading(requests: 0, errors: errors == nil ? nil : 0, latencySeconds: nil)
        let replicas = InferencePlanning.servingReplicas(service)
        let scraped = await ServingMetrics.scrapePods(service, revision, replicas: replicas, port: analysis.port ?? service.spec.effectivePort,
                                                      path: analysis.effectivePath, client: client)
        for (pod, result) in scraped {
            let text: String
            switch result {
            case .failure(let failure): return .failure(failure)
            case .success(let body): text = body
            }
            let served = PrometheusText.values(requests, in: text)
            guard !served.isEmpty else { return .failure(ReadFailure(message: "pod \(pod) has no \(requestsMetric) sample")) }
            reading.requests += served.reduce(0, +)
            if let errors { reading.errors = (reading.errors ?? 0) + PrometheusText.values(errors, in: text).reduce(0, +) }
            if let latency, let highest = PrometheusText.values(latency, in: text).max() {
                reading.latencySeconds = max(reading.latencySeconds ?? highest, highest)
            }
        }
        return .success(reading)
    }

    /// A breach of the analysis' limits between `baseline` and `reading`, described with the figures; nil when
    /// within them (or too few requests yet for an error-ratio verdict).
    public static func breach(_ analysis: Analysis, baseline: AnalysisStatus.Reading, reading: AnalysisStatus.Reading) -> (ratio: Double?, message: String?) {
        let served = reading.requests - baseline.requests
        var ratio: Double?
        if let errors = reading.errors, served > 0 {
            ratio = max(0, errors - (baseline.errors ?? 0)) / served
        }
        if let ratio, served >= Double(analysis.effectiveMinRequests), ratio > analysis.effectiveMaxErrorRatio {
            let failed = Int(((reading.errors ?? 0) - (baseline.errors ?? 0)).rounded())
            return (ratio, "error ratio \(String(format: "%.3f", ratio)) (\(failed) of \(Int(served.rounded())) requests) above maxErrorRatio \(analysis.effectiveMaxErrorRatio)")
        }
        if let limit = analysis.maxLatencySeconds, let latency = reading.latencySeconds, latency > limit {
            return (ratio, "latency \(String(format: "%.3f", latency))s (\(analysis.latencyDescription)) above maxLatencySeconds \(limit)")
        }
        return (ratio, nil)
    }
}
