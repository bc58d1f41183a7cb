import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// An InferenceService's metrics read from the platform's Prometheus (PlatformConfig `spec.prometheus.url`) with
/// the spec's PromQL templates (`rollout.analysis.source: Prometheus`, `autoscaling.query`), the placeholders
/// filled for the revision read. Shares the query API with idle-GPU detection (PrometheusQuery).
public struct PrometheusMetrics: Sendable {
    /// libcurl, outside the API server; nil when it could not start (every read then says so).
    let poster: WebhookPoster?

    public init() { poster = try? WebhookPoster(userAgent: "gantry/0.1 (linux) inference-metrics") }

    /// The values `template` answers for `revision` of `service` (one per sample); `field` names the template in
    /// messages. Fails when the platform names no Prometheus, or the query fails.
    func values(_ template: String, field: String, _ service: InferenceService, _ revision: InferenceServiceStatus.Revision?,
                platform: PlatformConfigSpec) async -> Result<(query: String, values: [Double]), MetricsReadFailure> {
        guard let base = platform.prometheus?.url else {
            return .failure(MetricsReadFailure(message: Self.missingURL(field)))
        }
        guard let poster else { return .failure(MetricsReadFailure(message: "\(field): libcurl could not start a client for Prometheus")) }
        let query = PrometheusTemplate.expand(template, namespace: service.namespace, name: service.name,
                                              revision: revision?.hash, color: revision?.color.rawValue)
        do {
            return .success((query, try PrometheusQuery.values(try await PrometheusQuery.run(query, base: base, with: poster))))
        } catch {
            return .failure(MetricsReadFailure(message: "\(field) \(query) at \(base): \(error)"))
        }
    }

    /// What a spec reading Prometheus says when the platform names none.
    public static func missingURL(_ field: String) -> String {
        "\(field) is read from Prometheus, but \(PrometheusEndpoint.field) is not set: an admin sets it to the server's URL (http://prometheus.monitoring:9090)"
    }

    /// The analysis' reading: requests and errors counters (samples summed; no errors sample is 0 errors), the
    /// highest latency sample. No requests sample gives no reading (the series is not there yet, or the query
    /// selects nothing), as a pod without the counter does.
    func analysisReading(_ analysis: Analysis, _ service: InferenceService, _ revision: InferenceServiceStatus.Revision,
                         platform: PlatformConfigSpec) async -> Result<AnalysisStatus.Reading, MetricsReadFailure> {
        let field = "spec.rollout.analysis"
        guard let requestsQuery = analysis.requestsQuery else { return .failure(MetricsReadFailure(message: "\(field).requestsQuery is not set")) }
        let requests: [Double]
        switch await values(requestsQuery, field: "\(field).requestsQuery", service, revision, platform: platform) {
        case .failure(let failure): return .failure(failure)
        case .success(let answer) where answer.values.isEmpty:
            return .failure(MetricsReadFailure(message: "\(field).requestsQuery \(answer.query) answered no sample"))
        case .success(let answer): requests = answer.values
        }
        var reading = AnalysisStatus.Reading(requests: requests.reduce(0, +), errors: nil, latencySeconds: nil)
        if let errorsQuery = analysis.errorsQuery {
            switch await values(errorsQuery, field: "\(field).errorsQuery", service, revision, platform: platform) {
            case .failure(let failure): return .failure(failure)
            case .success(let answer): reading.errors = answer.values.reduce(0, +)
            }
        }
        if let latencyQuery = analysis.latencyQuery {
            switch await values(latencyQuery, field: "\(field).latencyQuery", service, revision, platform: platform) {
            case .failure(let failure): return .failure(failure)
            case .success(let answer): reading.latencySeconds = answer.values.max()
            }
        }
        return .success(reading)
    }

    /// The autoscaler's value: the samples summed (the highest for a Value target), in the target's unit.
    func autoscalingValue(_ autoscaling: Autoscaling, query: String, _ service: InferenceService, _ revision: InferenceServiceStatus.Revision?,
                          platform: PlatformConfigSpec) async -> Result<AutoscalingReading, MetricsReadFailure> {
        switch await values(query, field: "spec.autoscaling.query", service, revision, platform: platform) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let answer) where answer.values.isEmpty:
            return .failure(MetricsReadFailure(message: "spec.autoscaling.query \(answer.query) answered no sample"))
        case .success(let answer):
            return .success(.service(autoscaling.effectiveTargetType == .value ? (answer.values.max() ?? 0) : answer.values.reduce(0, +)))
        }
    }
}
