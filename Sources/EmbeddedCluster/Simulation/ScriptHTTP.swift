import Foundation
import KubeCore

/// An answer to a proxied request (`/api/v1/namespaces/ns/pods/p:8080/proxy/path`).
struct SimHTTPResponse: Sendable, Hashable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
}

/// How a scripted container answers HTTP: the most specific path pattern wins (exact, then the longest `*`
/// prefix), and among its responses the last whose `after` has passed and whose `ifHeaders` the request carries
/// (at the same `after`, one with `ifHeaders` before one without). Before the first one applies the container
/// answers 503, like a server still starting; unknown paths answer 404, and so does a request none of whose
/// responses' `ifHeaders` it carries.
enum ScriptHTTP {
    /// `headers`: the request's, names lowercased.
    static func respond(_ script: ContainerScript, path rawPath: String, headers requestHeaders: [String: String] = [:],
                        uptime: TimeInterval, context: ScriptContext) -> SimHTTPResponse {
        let path = rawPath.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        let normalized = path.isEmpty ? "/" : path
        var vars = context.variables(at: uptime)
        if normalized == "/metrics", !script.metrics.isEmpty {
            let m = script.metrics.last { $0.after <= uptime } ?? script.metrics[0]
            guard m.after <= uptime else { return text(503, "metrics not available yet\n") }
            return SimHTTPResponse(status: 200, headers: ["Content-Type": "text/plain; version=0.0.4; charset=utf-8"],
                                   body: Array(ScriptTemplate.render(m.text, vars).utf8))
        }
        guard let (pattern, responses) = match(normalized, in: script.http) else {
            return text(404, "404 page not found\n")
        }
        // `{model}`: what a `*` matched, else the last path segment (`/v1/models/m` → `m`).
        vars["model"] = pattern.hasSuffix("*") ? String(normalized.dropFirst(pattern.count - 1))
            : normalized.split(separator: "/").last.map(String.init) ?? ""
        let started = responses.filter { $0.after <= uptime }
        guard !started.isEmpty else { return text(503, "simulated container is starting\n") }
        let carried = started.filter { $0.ifHeaders.allSatisfy { requestHeaders[$0.key] == $0.value } }
        guard let r = carried.last(where: { c in carried.allSatisfy { ($0.after, $0.ifHeaders.count) <= (c.after, c.ifHeaders.count) } }) else {
            return text(404, "no answer of the script matches this request's headers (ifHeaders)\n")
        }
        var headers = r.headers
        let body: [UInt8]
        if let s = r.body.stringValue {
            body = Array(ScriptTemplate.render(s, vars).utf8)
            if headers["Content-Type"] == nil { headers["Content-Type"] = "text/plain; charset=utf-8" }
        } else {
            body = ScriptTemplate.render(json: r.body, vars).serializedBytes()
            if headers["Content-Type"] == nil { headers["Content-Type"] = "application/json" }
        }
        return SimHTTPResponse(status: r.status, headers: headers, body: body)
    }

    static func match(_ path: String, in table: [String: [ContainerScript.HTTPResponseSpec]]) -> (String, [ContainerScript.HTTPResponseSpec])? {
        if let exact = table[path] { return (path, exact) }
        let candidates = table.filter { $0.key.hasSuffix("*") && path.hasPrefix(String($0.key.dropLast())) }
        guard let best = candidates.max(by: { $0.key.count < $1.key.count || ($0.key.count == $1.key.count && $0.key > $1.key) }) else {
            return nil
        }
        return (best.key, best.value)
    }

    static func text(_ status: Int, _ body: String) -> SimHTTPResponse {
        SimHTTPResponse(status: status, headers: ["Content-Type": "text/plain; charset=utf-8"], body: Array(body.utf8))
    }
}
