import Foundation
import KubeCore
import KubeYAML

/// A script annotation that cannot be used; `description` names the annotation, the field and the fix.
struct ScriptError: Error, Sendable, Equatable, CustomStringConvertible {
    var field: String
    var message: String
    var description: String {
        "invalid \(PodScript.annotation) annotation" + (field.isEmpty ? "" : " at \(field)") + ": \(message)"
    }
}

extension PodScript {
    /// Reads the pod's annotation; a pod without one gets image defaults. Never traps: a bad script is an error
    /// value the kubelet turns into `CreateContainerConfigError`.
    static func from(pod: JSONValue) -> Result<PodScript, ScriptError> {
        guard let text = pod.annotations[annotation] else { return .success(PodScript()) }
        do {
            return .success(try parse(text))
        } catch {
            return .failure(error)
        }
    }

    /// Parses JSON, YAML flow (`{…}`, read by `FlowParser` for column-exact errors) or block YAML (KubeYAML):
    /// either one script for every container, or `containers: {name: {…}}` (other top-level fields then apply
    /// to the containers not listed).
    static func parse(_ text: String) throws(ScriptError) -> PodScript {
        let json: JSONValue
        let trimmed = text.simTrimmed
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") || trimmed.isEmpty {
            do { json = try FlowParser.parse(text) } catch {
                throw ScriptError(field: "", message: "\(error) (write JSON or YAML, e.g. {exit: {code: 0, after: 10s}}; quote strings holding { } , or ': ')")
            }
        } else {
            do { json = try YAML.parse(text) } catch {
                throw ScriptError(field: "", message: "\(error) (write YAML or JSON, e.g. exit: {code: 0, after: 10s})")
            }
        }
        guard var object = json.objectValue else {
            throw ScriptError(field: "", message: "expected an object like {logs: [...], exit: {...}}")
        }
        var result = PodScript()
        if let containers = object.removeValue(forKey: "containers") {
            guard let map = containers.objectValue else {
                throw ScriptError(field: "containers", message: "expected a map of container name to script")
            }
            for (name, value) in map {
                result.perContainer[name] = try ContainerScript(json: value, field: "containers.\(name)")
            }
        }
        if !object.isEmpty || result.perContainer.isEmpty {
            result.all = try ContainerScript(json: .object(object), field: "")
        }
        return result
    }
}

extension ContainerScript {
    static let knownFields = ["startDelay", "readyAfter", "logs", "exit", "terminate", "http", "metrics"]

    init(json: JSONValue, field: String) throws(ScriptError) {
        func path(_ f: String) -> String { field.isEmpty ? f : "\(field).\(f)" }
        guard let object = json.objectValue else { throw ScriptError(field: field, message: "expected an object") }
        try Self.refuseUnknown(object, known: Self.knownFields, field: field)
        self.init()
        if let v = object["startDelay"] { startDelay = try Self.duration(v, path("startDelay")) }
        if let v = object["readyAfter"] { readyAfter = try Self.duration(v, path("readyAfter")) }
        if let v = object["logs"] {
            guard let items = v.arrayValue else { throw ScriptError(field: path("logs"), message: "expected a list") }
            logs = try items.enumerated().map { (i, item) throws(ScriptError) in try Self.logEntry(item, "\(path("logs"))[\(i)]") }
        }
        if let v = object["exit"] { exit = try Self.exitSpec(v, path("exit")) }
        if let v = object["terminate"] { terminate = try Self.terminateSpec(v, path("terminate")) }
        if let v = object["http"] {
            guard let map = v.objectValue else { throw ScriptError(field: path("http"), message: "expected a map of path to response") }
            for (p, spec) in map {
                guard p.hasPrefix("/") else { throw ScriptError(field: path("http"), message: "path \"\(p)\" must start with /") }
                let list = spec.arrayValue ?? [spec]
                http[p] = try list.map { (r) throws(ScriptError) in try Self.response(r, "\(path("http"))[\(p)]") }.sorted { $0.after < $1.after }
            }
        }
        if let v = object["metrics"] {
            let list = v.arrayValue ?? [v]
            metrics = try list.map { (m) throws(ScriptError) -> TimedText in
                if let s = m.stringValue { return TimedText(text: s) }
                guard let text = m["text"]?.stringValue else {
                    throw ScriptError(field: path("metrics"), message: "expected text or {after: 5s, text: \"...\"}")
                }
                return TimedText(after: try m["after"].map { (a) throws(ScriptError) in try Self.duration(a, path("metrics.after")) } ?? 0, text: text)
            }.sorted { $0.after < $1.after }
        }
        if exit != nil && exit?.after == nil && lastLogTime == nil {
            throw ScriptError(field: path("exit.after"), message: "required when a log series has no count (it never ends)")
        }
    }

    static func duration(_ v: JSONValue, _ field: String) throws(ScriptError) -> TimeInterval {
        do { return try SimDuration.parse(v) } catch { throw ScriptError(field: field, message: error.description) }
    }

    static func number(_ v: JSONValue?, _ field: String) throws(ScriptError) -> Double? {
        guard let v else { return nil }
        guard let d = v.doubleValue ?? v.stringValue.flatMap(Double.init), d.isFinite else {
            throw ScriptError(field: field, message: "expected a number, got \(v)")
        }
        return d
    }

    /// A curve's end: a number, or an expression of the container's environment (`"0.1 + HP_LR * 10"`).
    static func bound(_ v: JSONValue?, _ field: String) throws(ScriptError) -> (value: Double, expression: ScriptExpression?)? {
        guard let v else { return nil }
        if let d = v.doubleValue ?? v.stringValue.flatMap(Double.init), d.isFinite { return (d, nil) }
        guard let text = v.stringValue else { throw ScriptError(field: field, message: "expected a number or an expression, got \(v)") }
        do {
            return (0, try ScriptExpression.parse(text))
        } catch {
            throw ScriptError(field: field, message: "\(error.message) in \"\(text)\" (numbers, environment variables, + - * / ^, parentheses, \(ScriptExpression.functions.keys.sorted().joined(separator: ", ")))")
        }
    }

    static func logEntry(_ v: JSONValue, _ field: String) throws(ScriptError) -> LogEntry {
        if let line = v.stringValue { return .once(at: 0, lines: [line]) }
        guard let o = v.objectValue else { throw ScriptError(field: field, message: "expected a line or an object") }
        if let series = o["series"] { return .series(try logSeries(series, "\(field).series")) }
        if o["every"] != nil { return .series(try logSeries(v, field)) }
        let at = try o["at"].map { (a) throws(ScriptError) in try duration(a, "\(field).at") } ?? 0
        if let line = o["line"]?.stringValue { return .once(at: at, lines: [line]) }
        if let lines = o["lines"]?.arrayValue {
            return .once(at: at, lines: lines.map { $0.stringValue ?? $0.serialized() })
        }
        throw ScriptError(field: field, message: "expected {at: 1s, line: \"...\"}, {every: 1s, line: \"...\"} or {series: {...}}")
    }

    static let seriesFields = ["at", "every", "count", "start", "step", "template", "line", "lines"]

    static func logSeries(_ v: JSONValue, _ field: String) throws(ScriptError) -> LogSeries {
        guard let o = v.objectValue else { throw ScriptError(field: field, message: "expected an object") }
        guard let everyRaw = o["every"] else { throw ScriptError(field: "\(field).every", message: "required (e.g. every: 0.5s)") }
        let every = try duration(everyRaw, "\(field).every")
        guard every > 0 else { throw ScriptError(field: "\(field).every", message: "must be greater than 0") }
        var templates: [String] = []
        if let t = o["template"]?.stringValue ?? o["line"]?.stringValue { templates = [t] }
        if let ls = o["lines"]?.arrayValue { templates = ls.map { $0.stringValue ?? $0.serialized() } }
        guard !templates.isEmpty else {
            throw ScriptError(field: field, message: "needs template: \"step={step} loss={loss}\" (or line/lines)")
        }
        var s = LogSeries(every: every, templates: templates)
        if let a = o["at"] { s.at = try duration(a, "\(field).at") }
        if let c = o["count"] {
            guard let n = c.intValue, n >= 0, n <= 100_000_000 else {
                throw ScriptError(field: "\(field).count", message: "expected a whole number from 0 to 100000000")
            }
            s.count = Int(n)
        }
        s.start = try number(o["start"], "\(field).start") ?? 0
        s.step = try number(o["step"], "\(field).step") ?? 1
        for (name, value) in o where !seriesFields.contains(name) {
            guard let c = value.objectValue else {
                throw ScriptError(field: "\(field).\(name)", message: "unknown field; curves look like \(name): {from: 2.0, to: 0.1, curve: exp}")
            }
            guard let from = try bound(c["from"], "\(field).\(name).from") else {
                throw ScriptError(field: "\(field).\(name).from", message: "required")
            }
            let to = try bound(c["to"], "\(field).\(name).to") ?? from
            var curve = Curve(from: from.value, to: to.value)
            curve.fromExpression = from.expression
            curve.toExpression = to.expression
            if let shape = c["curve"] {
                guard let sh = shape.stringValue.flatMap(Curve.Shape.init(rawValue:)) else {
                    throw ScriptError(field: "\(field).\(name).curve", message: "expected one of \(Curve.Shape.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                curve.shape = sh
            }
            curve.noise = try number(c["noise"], "\(field).\(name).noise") ?? 0
            s.curves[name] = curve
        }
        return s
    }

    static func exitSpec(_ v: JSONValue, _ field: String) throws(ScriptError) -> ExitSpec {
        if let code = v.intValue { return ExitSpec(code: Int32(clamping: code)) }
        guard let o = v.objectValue else { throw ScriptError(field: field, message: "expected a code or {code: 1, after: 10s}") }
        var e = ExitSpec()
        if let c = o["code"] {
            guard let code = c.intValue, code >= 0, code <= 255 else { throw ScriptError(field: "\(field).code", message: "expected 0…255") }
            e.code = Int32(code)
        }
        if let a = o["after"] { e.after = try duration(a, "\(field).after") }
        if o["oom"]?.boolValue == true {
            e.reason = "OOMKilled"
            if o["code"] == nil { e.code = 137 }
        }
        if let r = o["reason"] {
            guard let s = r.stringValue, !s.isEmpty else { throw ScriptError(field: "\(field).reason", message: "expected a word like Error") }
            e.reason = s
        }
        e.message = o["message"]?.stringValue
        return e
    }

    static func terminateSpec(_ v: JSONValue, _ field: String) throws(ScriptError) -> TerminateSpec {
        guard let o = v.objectValue else { throw ScriptError(field: field, message: "expected {after: 5s, code: 0, lines: [...]}") }
        var t = TerminateSpec()
        if let a = o["after"] { t.after = try duration(a, "\(field).after") }
        if let c = o["code"] {
            guard let code = c.intValue, code >= 0, code <= 255 else { throw ScriptError(field: "\(field).code", message: "expected 0…255") }
            t.code = Int32(code)
        }
        if let l = o["lines"] {
            guard let ls = l.arrayValue else { throw ScriptError(field: "\(field).lines", message: "expected a list of lines") }
            t.lines = ls.map { $0.stringValue ?? $0.serialized() }
        }
        return t
    }

    static let responseFields = ["after", "status", "body", "headers", "ifHeaders"]

    /// A misspelt field is refused, never ignored (an ignored `ifHeaders` would answer every request).
    static func refuseUnknown(_ object: [String: JSONValue], known: [String], field: String) throws(ScriptError) {
        for key in object.keys.sorted() where !known.contains(key) {
            let hint = NodePoolSpec.closest(to: key, in: known).map { " (did you mean \($0)?)" } ?? ""
            throw ScriptError(field: field.isEmpty ? key : "\(field).\(key)", message: "unknown field\(hint); known: \(known.joined(separator: ", "))")
        }
    }

    static func response(_ v: JSONValue, _ field: String) throws(ScriptError) -> HTTPResponseSpec {
        guard let o = v.objectValue else { throw ScriptError(field: field, message: "expected {status: 200, body: ...}") }
        try refuseUnknown(o, known: responseFields, field: field)
        var r = HTTPResponseSpec()
        if let a = o["after"] { r.after = try duration(a, "\(field).after") }
        if let s = o["status"] {
            guard let code = s.intValue, code >= 100, code <= 599 else { throw ScriptError(field: "\(field).status", message: "expected an HTTP status 100…599") }
            r.status = Int(code)
        }
        if let b = o["body"] { r.body = b }
        for (k, h) in o["headers"]?.objectValue ?? [:] { r.headers[k] = h.stringValue ?? h.serialized() }
        if let v = o["ifHeaders"] {
            guard let map = v.objectValue else { throw ScriptError(field: "\(field).ifHeaders", message: "expected a map of header name to value, e.g. {X-Api-Key: s3cret}") }
            for (k, h) in map { r.ifHeaders[k.lowercased()] = h.stringValue ?? h.serialized() }
        }
        return r
    }
}
