import GantryAPI
import KubeCore

/// One line of training output read as metrics: `step=120 loss=0.42 val_acc=0.81` or `{"step": 120, "loss": 0.42}`.
/// Lines that carry no number (plain log output) are not metrics and are skipped.
public struct MetricLine: Sendable, Hashable {
    public var step: Int?
    public var values: [String: Double]

    public static func parse(_ line: String, format: MetricsSource.Format, stepKey: String) -> MetricLine? {
        switch format {
        case .keyValue: return parseKeyValue(line, stepKey: stepKey)
        case .json: return parseJSON(line, stepKey: stepKey)
        }
    }

    /// Whitespace- or comma-separated `key=value` (or `key: value`) pairs; `nan`/`inf` are kept so divergence
    /// can be detected.
    static func parseKeyValue(_ line: String, stepKey: String) -> MetricLine? {
        var values: [String: Double] = [:]
        var step: Int?
        let tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," })
        var i = tokens.startIndex
        while i < tokens.endIndex {
            var token = tokens[i]
            var key: Substring
            var raw: Substring
            if let eq = token.firstIndex(of: "=") {
                key = token[..<eq]
                raw = token[token.index(after: eq)...]
            } else if token.hasSuffix(":"), token.first?.isLetter == true, tokens.index(after: i) < tokens.endIndex,
                      !tokens[tokens.index(after: i)].contains("=") {
                key = token.dropLast()
                i = tokens.index(after: i)
                token = tokens[i]
                raw = token
            } else {
                i = tokens.index(after: i)
                continue
            }
            i = tokens.index(after: i)
            guard !key.isEmpty, let value = number(raw) else { continue }
            if key == stepKey { step = Int(exactly: value.rounded()) ?? step } else { values[String(key)] = value }
        }
        guard step != nil || !values.isEmpty else { return nil }
        return MetricLine(step: step, values: values)
    }

    static func parseJSON(_ line: String, stepKey: String) -> MetricLine? {
        guard line.first == "{", let object = (try? JSONValue.parse(line))?.objectValue else { return nil }
        var values: [String: Double] = [:]
        var step: Int?
        for (key, value) in object {
            guard let parsed = value.doubleValue ?? value.stringValue.flatMap({ Self.number(Substring($0)) }) else { continue }
            if key == stepKey { step = Int(exactly: parsed.rounded()) } else { values[key] = parsed }
        }
        guard step != nil || !values.isEmpty else { return nil }
        return MetricLine(step: step, values: values)
    }

    static func number(_ text: Substring) -> Double? {
        switch text.lowercased() {
        case "nan", "-nan": return .nan
        case "inf", "+inf", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: return Double(text)
        }
    }
}
