import Foundation
import KubeCore

/// Log lines a script writes, computed for a time window so the driver can append them incrementally
/// (and a series of a million lines costs only the lines in the window).
struct ScriptLogLine: Sendable, Hashable {
    /// Seconds since the container started.
    var at: TimeInterval
    var text: String
}

/// Names a template can use besides the series variables: `{pod}`, `{namespace}`, `{container}`, `{node}`,
/// `{startTime}` (RFC 3339), `{now}`.
struct ScriptContext: Sendable, Hashable {
    var pod: String = ""
    var namespace: String = ""
    var container: String = ""
    var node: String = ""
    var startTime: Date = Date(timeIntervalSince1970: 0)
    /// The container's literal environment values: curve expressions read them (`HP_LR`).
    var env: [String: String] = [:]
    /// Requests this run of the container answered through the API server's proxy (not counting /metrics).
    var requests = 0

    func variables(at t: TimeInterval) -> [String: String] {
        ["pod": pod, "namespace": namespace, "container": container, "node": node,
         "startTime": Timestamp.format(startTime), "now": Timestamp.format(startTime.addingTimeInterval(t)),
         "t": ScriptTemplate.number(t, decimals: 1), "requests": String(requests)]
    }
}

enum ScriptLogs {
    /// Upper bound of lines returned per call, so one slow tick cannot build an unbounded buffer.
    static let maxLinesPerWindow = 10_000

    /// Times are compared to the microsecond: windows end at run-relative offsets computed from `Date`s (whose
    /// doubles hold ~1e-7 s near the present), so a line due exactly at the container's exit must not fall on
    /// the wrong side of its last window by a rounding error (it did: a script's last line was lost).
    static let tolerance: TimeInterval = 1e-6

    /// Lines with `after < at <= through`, in time order (ties keep script order).
    static func lines(_ script: ContainerScript, after rawAfter: TimeInterval, through rawThrough: TimeInterval, context: ScriptContext) -> [ScriptLogLine] {
        let after = rawAfter + tolerance, through = rawThrough + tolerance
        var out: [(ScriptLogLine, Int)] = []
        var order = 0
        for entry in script.logs {
            switch entry {
            case .once(let at, let lines):
                guard at > after, at <= through else { continue }
                for l in lines {
                    out.append((ScriptLogLine(at: at, text: ScriptTemplate.render(l, context.variables(at: at))), order)); order += 1
                }
            case .series(let s):
                // Indices with s.at + i·every in (after, through].
                let first = max(0, clampedIndex((after - s.at) / s.every) + 1)
                var last = clampedIndex((through - s.at) / s.every)
                if let count = s.count { last = min(last, count - 1) }
                guard last >= first else { continue }
                let upper = min(last, first + maxLinesPerWindow - 1)
                for i in first...upper {
                    let at = s.at + Double(i) * s.every
                    out.append((ScriptLogLine(at: at, text: seriesLine(s, index: i, context: context, at: at)), order)); order += 1
                }
            }
            if out.count >= maxLinesPerWindow { break }
        }
        return out.sorted { $0.0.at != $1.0.at ? $0.0.at < $1.0.at : $0.1 < $1.1 }.prefix(maxLinesPerWindow).map(\.0)
    }

    /// `Int(x.rounded(.down))` without the trap on huge or non-finite values.
    static func clampedIndex(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? Int(Int32.max) : -1 }
        return Int(max(-1, min(x, Double(Int32.max))).rounded(.down))
    }

    static func seriesLine(_ s: ContainerScript.LogSeries, index i: Int, context: ScriptContext, at: TimeInterval) -> String {
        var vars = context.variables(at: at)
        vars["i"] = String(i)
        vars["step"] = ScriptTemplate.number(s.start + Double(i) * s.step, decimals: nil)
        if let count = s.count { vars["count"] = String(count) }
        var numeric: [String: Double] = [:]
        for (name, curve) in s.curves { numeric[name] = value(curve.resolved(context.env), index: i, count: s.count, name: name) }
        let template = s.templates[i % s.templates.count]
        return ScriptTemplate.render(template, vars, numbers: numeric)
    }

    /// The curve's value at line `i` of `count` (progress p from 0 to 1):
    /// linear: straight line; exp: to + (from − to)·e^(−5p), a fast drop that flattens out like a training loss;
    /// flat: `from`; diverge: the exp curve for the first half, then growth ×e^(24(p−½)) — past 1e4 it prints `nan`.
    /// A series without a count progresses as if it had 100 lines, then stays at the end value.
    static func value(_ c: ContainerScript.Curve, index i: Int, count: Int?, name: String) -> Double {
        let n = max(2, count ?? 100)
        let p = min(1, Double(i) / Double(n - 1))
        func exp(_ p: Double) -> Double { c.to + (c.from - c.to) * Foundation.exp(-5 * p) }
        var v: Double
        switch c.shape {
        case .linear: v = c.from + (c.to - c.from) * p
        case .exp: v = exp(p)
        case .flat: v = c.from
        case .diverge: v = p <= 0.5 ? exp(p) : exp(0.5) * Foundation.exp(24 * (p - 0.5))
        }
        if c.noise > 0 {
            // Deterministic jitter in [-noise, +noise] from the line index and variable name.
            let h = FakeDigest.fnv1a("\(name)#\(i)", seed: 7)
            let u = Double(h % 2_000_001) / 1_000_000 - 1
            v *= 1 + c.noise * u
        }
        if c.shape == .diverge && abs(v) > 1e4 { return .nan }
        return v
    }
}

/// `{name}` and `{name:.3}` placeholders; unknown names stay as written so a typo is visible in the log.
enum ScriptTemplate {
    static func render(_ template: String, _ vars: [String: String], numbers: [String: Double] = [:]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            guard let close = rest[open...].firstIndex(of: "}") else { rest = rest[open...]; break }
            let inner = rest[rest.index(after: open)..<close]
            // Only `{name}` / `{name:.N}` are placeholders; other braces (Prometheus labels, JSON) stay literal.
            guard isPlaceholder(inner) else {
                out += "{"
                rest = rest[rest.index(after: open)...]
                continue
            }
            let parts = inner.split(separator: ":", maxSplits: 1)
            let name = parts.first.map(String.init) ?? ""
            var decimals: Int? = nil
            if parts.count == 2, parts[1].hasPrefix(".") { decimals = Int(parts[1].dropFirst()) }
            if let d = numbers[name] {
                out += number(d, decimals: decimals ?? 4)
            } else if let s = vars[name] {
                out += s
            } else {
                out += rest[open...close]
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func isPlaceholder(_ inner: Substring) -> Bool {
        let parts = inner.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { return false }
        if parts.count == 2 { return parts[1].hasPrefix(".") && parts[1].dropFirst().allSatisfy(\.isNumber) && parts[1].count > 1 }
        return true
    }

    /// Fixed decimals, or the shortest form for whole numbers when `decimals` is nil; NaN prints as `nan`.
    static func number(_ d: Double, decimals: Int?) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        guard let decimals else {
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        }
        return String(format: "%.\(max(0, min(decimals, 12)))f", d)
    }

    /// Templates every string inside a JSON body.
    static func render(json: JSONValue, _ vars: [String: String]) -> JSONValue {
        switch json {
        case .string(let s): return .string(render(s, vars))
        case .array(let a): return .array(a.map { render(json: $0, vars) })
        case .object(let o): return .object(o.mapValues { render(json: $0, vars) })
        default: return json
        }
    }
}
