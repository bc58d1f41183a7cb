import Foundation
import GantryTestSupport

/// One scrape of a Prometheus text exposition (version 0.0.4): every sample with its labels.
struct MetricsScrape: Sendable {
    struct Sample: Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }
    let samples: [Sample]
    /// The exposition as served.
    let text: String

    init(_ text: String) {
        self.text = text
        samples = text.split(separator: "\n").compactMap { line in
            line.hasPrefix("#") ? nil : Self.sample(String(line))
        }
    }

    /// GET /metrics of a running controller.
    static func of(_ controller: ControllerProcess) async throws -> MetricsScrape {
        guard let port = controller.healthPort else { throw TestFailure("the controller has not logged its health port yet") }
        let r = await runProcess("/usr/bin/curl", ["-sf", "--max-time", "5", "http://127.0.0.1:\(port)/metrics"])
        guard r.ok else { throw TestFailure("GET /metrics failed (\(r.status)): \(r.stderr)") }
        return MetricsScrape(r.stdout)
    }

    /// The samples of a series whose labels include `labels`.
    func values(_ name: String, _ labels: [String: String] = [:]) -> [Double] {
        samples.filter { sample in sample.name == name && labels.allSatisfy { key, value in sample.labels[key] == value } }.map(\.value)
    }

    /// The one sample of `name` with `labels`, or nil when there is none or several.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = values(name, labels)
        return found.count == 1 ? found[0] : nil
    }

    /// Names as exposed: a histogram `x` appears as `x_bucket`, `x_sum` and `x_count`.
    var names: Set<String> { Set(samples.map(\.name)) }

    static func sample(_ line: String) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let series = line[..<space]
        guard let open = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
        var labels: [String: String] = [:]
        var rest = series[series.index(after: open)...].dropLast()  // without the closing brace
        while let equals = rest.firstIndex(of: "=") {
            let key = rest[..<equals].trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            var cursor = rest.index(equals, offsetBy: 2)  // past `="`
            var text = ""
            while cursor < rest.endIndex, rest[cursor] != "\"" {
                if rest[cursor] == "\\", rest.index(after: cursor) < rest.endIndex { cursor = rest.index(after: cursor) }
                text.append(rest[cursor])
                cursor = rest.index(after: cursor)
            }
            labels[key] = text
            rest = cursor < rest.endIndex ? rest[rest.index(after: cursor)...] : rest[rest.endIndex...]
        }
        return Sample(name: String(series[..<open]), labels: labels, value: value)
    }
}
