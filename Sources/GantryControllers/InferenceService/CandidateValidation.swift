import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// `rollout.validation`: the requests a candidate must answer as expected before it gets traffic, sent to the
/// preview Service through the API server's service proxy (the operator needs no network path to the pods).
public enum CandidateValidation {
    /// Sends every request to the preview Service and judges the answers.
    public static func run(_ requests: [ValidationRequest], service: InferenceService, revision: String, client: KubeClient,
                           now: @Sendable () -> Date = { Date() }) async -> InferenceServiceStatus.ValidationOutcome {
        var results: [InferenceServiceStatus.ValidationResult] = []
        for request in requests {
            let clock = ContinuousClock()
            let started = clock.now
            do {
                let response = try await client.proxy(.services, namespace: service.namespace, name: InferenceChildren.previewName(service),
                                                      port: "http", path: request.path, method: request.effectiveMethod,
                                                      body: request.body.map { Array($0.utf8) },
                                                      headers: (request.headers ?? []).map { ($0.name, $0.value) })
                let elapsed = clock.now - started
                let millis = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
                results.append(judge(request, code: response.status, body: response.body, latencyMilliseconds: millis))
            } catch {
                results.append(.init(request: describe(request), code: nil, latencyMilliseconds: nil, passed: false,
                                     message: "the request did not reach the preview: \(error)"))
            }
        }
        return .init(revision: revision, passed: results.allSatisfy(\.passed), at: Timestamp.format(now()), results: results)
    }

    static func describe(_ r: ValidationRequest) -> String { "\(r.effectiveMethod) \(r.path)" }

    /// Whether one answer meets its request's expectations; the message says the first that did not.
    public static func judge(_ request: ValidationRequest, code: Int, body: [UInt8], latencyMilliseconds: Int) -> InferenceServiceStatus.ValidationResult {
        let expect = request.expect
        func result(_ passed: Bool, _ message: String) -> InferenceServiceStatus.ValidationResult {
            .init(request: describe(request), code: code, latencyMilliseconds: latencyMilliseconds, passed: passed, message: message)
        }
        let wanted = expect?.status ?? 200
        guard code == wanted else { return result(false, "status \(code), expected \(wanted)") }
        if let limit = expect?.maxLatencyMilliseconds, latencyMilliseconds > limit {
            return result(false, "answered in \(latencyMilliseconds) ms, more than maxLatencyMilliseconds \(limit)")
        }
        let fields = expect?.json ?? []
        guard !fields.isEmpty else { return result(true, "ok") }
        guard let json = try? JSONValue.parse(String(decoding: body, as: UTF8.self)) else {
            return result(false, "the answer is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))")
        }
        for field in fields {
            let found = value(at: field.path, in: json)
            if let equals = field.equals {
                let text = found.map(Self.text) ?? "nothing"
                if text != equals { return result(false, "\(field.path) is \(text), expected \(equals)") }
            } else if let target = field.value {
                let number = found?.doubleValue ?? found?.intValue.map(Double.init)
                let tolerance = field.tolerance ?? 0
                guard let number, abs(number - target) <= tolerance else {
                    return result(false, "\(field.path) is \(found.map(Self.text) ?? "nothing"), expected \(target) ± \(tolerance)")
                }
            }
        }
        return result(true, "ok")
    }

    /// The value at a dotted path; numeric segments index arrays.
    static func value(at path: String, in json: JSONValue) -> JSONValue? {
        var current: JSONValue? = json
        for segment in path.split(separator: ".").map(String.init) {
            if let index = Int(segment), let array = current?.arrayValue {
                current = array.indices.contains(index) ? array[index] : nil
            } else {
                current = current?[segment]
            }
        }
        return current
    }

    static func text(_ v: JSONValue) -> String {
        if let s = v.stringValue { return s }
        return v.serialized()
    }
}
