import Foundation
import KubeCore

/// The answer of Prometheus' instant-query API (`/api/v1/query`, resultType `vector`) as per-GPU readings by
/// `namespace/pod`. dcgm-exporter attributes each GPU to the pod using it with the labels `namespace` and `pod`;
/// a scrape without `honor_labels` that already sets them keeps the exporter's as `exported_namespace` and
/// `exported_pod`, which win when present. Samples with neither are not a pod's GPU and are skipped.
enum PrometheusQuery {
    struct Failure: Error, CustomStringConvertible { var description: String }

    static func url(base: String, query: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = query.addingPercentEncoding(withAllowedCharacters: allowed) ?? query
        return base.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/api/v1/query?query=" + encoded
    }

    static func readings(_ answer: JSONValue) throws -> [String: [Double]] {
        guard answer["status"] == "success" else {
            throw Failure(description: "the query failed: \(answer["error"]?.stringValue ?? "status \(answer["status"]?.stringValue ?? "missing")")")
        }
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
