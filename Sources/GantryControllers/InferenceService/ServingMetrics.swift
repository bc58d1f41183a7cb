import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// Why metrics could not be read (a pod or Service that did not answer, a series that is not there).
public struct MetricsReadFailure: Error, Sendable, Hashable {
    public var message: String
    public init(message: String) { self.message = message }
}

/// Prometheus text read through the API server's proxy subresources, so the operator needs no network path to the
/// pods: a revision's pods (`pods/proxy`) or a Service (`services/proxy`). Shared by the analysis after a swap
/// (RolloutAnalysis) and the autoscaler (AutoscalingMetrics).
public enum ServingMetrics {
    /// Each replica's metrics text (`/metrics` of pods `0..<replicas` of `revision`), in index order.
    public static func scrapePods(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision, replicas: Int,
                                  port: Int, path: String, client: KubeClient) async -> [(pod: String, text: Result<String, MetricsReadFailure>)] {
        var out: [(pod: String, text: Result<String, MetricsReadFailure>)] = []
        for index in 0..<max(0, replicas) {
            let pod = InferenceChildren.podName(service, revision, index)
            out.append((pod, await scrape(.pods, namespace: service.namespace, name: pod, port: port, path: path, client: client)))
        }
        return out
    }

    /// The metrics text of one pod or Service (a Service answers from one of its ready endpoints).
    public static func scrape(_ type: ResourceType, namespace: String, name: String, port: Int?, path: String,
                              client: KubeClient) async -> Result<String, MetricsReadFailure> {
        let what = "\(type == .pods ? "pod" : "Service") \(name) \(path)"
        do {
            let response = try await client.proxy(type, namespace: namespace, name: name, port: port.map(String.init), path: path)
            guard response.status == 200 else {
                let said = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200)
                return .failure(MetricsReadFailure(message: "\(what) answered \(response.status)" + (said.isEmpty ? "" : ": \(said)")))
            }
            return .success(response.bodyText)
        } catch {
            return .failure(MetricsReadFailure(message: "\(what): \(error)"))
        }
    }
}
