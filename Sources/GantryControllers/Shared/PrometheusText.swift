/// Samples of the Prometheus text exposition format (`name{label="value",…} value [timestamp]`), selected by a
/// metric name with optional exact label matchers (`http_requests_total{code="500"}`).
public struct PrometheusSelector: Sendable, Hashable {
    public var name: String
    public var labels: [String: String]

    /// Nil when `text` is not `name` or `name{k="v",…}`.
    public init?(_ text: String) {
        guard let brace = text.firstIndex(of: "{") else {
            guard !text.isEmpty else { return nil }
            name = text
            labels = [:]
            return
        }
        guard text.hasSuffix("}"), let parsed = PrometheusText.labels(text[text.index(after: brace)..<text.index(before: text.endIndex)]) else { return nil }
        name = String(text[..<brace])
        labels = parsed
    }

    func matches(_ sample: PrometheusText.Sample) -> Bool {
        sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
    }
}

public enum PrometheusText {
    public struct Sample: Sendable, Hashable {
        public var name: String
        public var labels: [String: String]
        public var value: Double
    }

    /// Values of the samples `selector` matches.
    public static func values(_ selector: PrometheusSelector, in text: String) -> [Double] {
        text.split(separator: "\n").compactMap { line in sample(line).flatMap { selector.matches($0) ? $0.value : nil } }
    }

    static func sample(_ line: Substring) -> Sample? {
        let line = line.drop { $0 == " " }
        guard let first = line.first, first != "#" else { return nil }
        let nameEnd = line.firstIndex { $0 == "{" || $0 == " " } ?? line.endIndex
        let name = String(line[..<nameEnd])
        var rest = line[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            guard let close = closingBrace(rest), let parsed = Self.labels(rest[rest.index(after: rest.startIndex)..<close]) else { return nil }
            labels = parsed
            rest = rest[rest.index(after: close)...]
        }
        guard let value = rest.split(separator: " ").first.flatMap({ Double($0) }) else { return nil }
        return Sample(name: name, labels: labels, value: value)
    }

    /// The `}` closing a label set, skipping braces inside quoted values.
    static func closingBrace(_ s: Substring) -> Substring.Index? {
        var quoted = false, escaped = false
        for i in s.indices {
            let c = s[i]
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true } else if c == "\"" { quoted.toggle() } else if c == "}" && !quoted { return i }
        }
        return nil
    }

    /// `k="v",k2="v2"` (escapes `\"`, `\\`, `\n` in values), or nil when malformed.
    static func labels(_ s: Substring) -> [String: String]? {
        var labels: [String: String] = [:]
        var i = s.startIndex
        while i < s.endIndex {
            while i < s.endIndex, s[i] == " " || s[i] == "," { i = s.index(after: i) }
            guard i < s.endIndex else { break }
            guard let eq = s[i...].firstIndex(of: "=") else { return nil }
            let key = s[i..<eq].trimmingSpaces
            var j = s.index(after: eq)
            guard j < s.endIndex, s[j] == "\"" else { return nil }
            j = s.index(after: j)
            var value = ""
            var closed = false
            while j < s.endIndex {
                let c = s[j]
                if c == "\\", s.index(after: j) < s.endIndex {
                    let next = s[s.index(after: j)]
                    value.append(next == "n" ? "\n" : next)
                    j = s.index(j, offsetBy: 2)
                    continue
                }
                if c == "\"" { closed = true; j = s.index(after: j); break }
                value.append(c)
                j = s.index(after: j)
            }
            guard closed, !key.isEmpty else { return nil }
            labels[key] = value
            i = j
        }
        return labels
    }
}

extension Substring {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
