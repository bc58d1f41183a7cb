import Foundation
import KubeClient
import KubeCore

/// Prometheus' instant-query API (`/api/v1/query`): the request, and its answer read either as per-GPU readings by
/// `namespace/pod` (idle GPUs) or as plain values (an InferenceService's analysis and autoscaling).
enum PrometheusQuery {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func url(base: String, query: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = query.addingPercentEncoding(withAllowedCharacters: allowed) ?? query
        return base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/v1/query?query=" + encoded
    }

    /// Sends `query` to the server at `base`; the answer once Prometheus says it succeeded. A refused query (400
    /// with Prometheus' error, e.g. a parse error) throws that error's text.
    static func run(_ query: String, base: String, with poster: WebhookPoster) async throws -> JSONValue {
        let response = try await poster.get(url: url(base: base, query: query))
        guard let answer = try? JSONValue.parse(response.bodyText) else {
            throw Failure(description: "HTTP \(response.status) without a JSON answer from \(base)")
        }
        return try checked(answer)
    }

    static func checked(_ answer: JSONValue) throws -> JSONValue {
        guard answer["status"] == "success" else {
            throw Failure(description: "the query failed: \(answer["error"]?.stringValue ?? "status \(answer["status"]?.stringValue ?? "missing")")")
        }
        return answer
    }

    /// The values of an instant query's answer: one per sample of a vector (labels ignored), or the scalar.
    static func values(_ answer: JSONValue) throws -> [Double] {
        let answer = try checked(answer)
        let result = answer[path: "data", "result"]
        switch answer[path: "data", "resultType"]?.stringValue {
        case "vector":
            return (result?.arrayValue ?? []).compactMap { $0["value"]?.arrayValue?.last?.stringValue.flatMap(Double.init) }.filter(\.isFinite)
        case "scalar":
            return [result?.arrayValue?.last?.stringValue.flatMap(Double.init)].compactMap { $0 }.filter(\.isFinite)
        case let other:
            throw Failure(description: "the query answers a \(other ?? "missing") result, not an instant vector or a scalar")
        }
    }

    /// dcgm-exporter attributes each GPU to the pod using it with the labels `namespace` and `pod`; a scrape without
    /// `honor_labels` that already sets them keeps the exporter's as `exported_namespace` and `exported_pod`, which
    /// win when present. Samples with neither are not a pod's GPU and are skipped.
    static func readings(_ answer: JSONValue) throws -> [String: [Double]] {
        let answer = try checked(answer)
        guard answer[path: "data", "resultType"] == "vector", let samples = answer[path: "data", "result"]?.arrayValue else {
            throw Failure(description: "the query does not answer an instant vector (resultType \(answer[path: "data", "resultType"]?.stringValue ?? "missing"))")
        }
        var result: [String: [Double]] = [:]
        for sample in samples {
            let labels = sample["metric"]
            guard let namespace = (labels?["exported_namespace"] ?? labels?["namespace"])?.stringValue,
                  let pod = (labels?["exported_pod"] ?? labels?["pod"])?.stringValue,
                  let text = sample["value"]?.arrayValue?.last?.stringValue, let value = Double(text), value.isFinite else { continue }
            result["\(namespace)/\(pod)", default: []].append(value)
        }
        return result
    }
}
