import KubeCore

/// Label selector in the query-string syntax of
/// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors :
/// `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated (AND).
///
/// Deliberate twin of KubeCore's `LabelSelector` (the client's caches): the embedded cluster is the independent
/// oracle, so it parses and matches selectors with its own code, written from the API documentation.
struct LabelQuery: Sendable, Equatable {
    enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case notExists(String)
    }

    var requirements: [Requirement] = []
    var isEmpty: Bool { requirements.isEmpty }

    init() {}

    init(parsing text: String) throws(APIStatusError) {
        var parts: [String] = []
        var depth = 0
        var current = ""
        for ch in text {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if ch == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            requirements.append(try Self.parseRequirement(part, whole: text))
        }
    }

    private static func parseRequirement(_ part: String, whole: String) throws(APIStatusError) -> Requirement {
        func bad(_ why: String) -> APIStatusError {
            APIStatusError.badRequest("unable to parse requirement: \(why)")
        }
        if part.hasPrefix("!") {
            let key = part.dropFirst().trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty else { throw bad("found '!', expected: identifier") }
            return .notExists(key)
        }
        if let r = part.range(of: "!=") {
            return .notEquals(part[..<r.lowerBound].trimmingCharacters(in: .whitespaces),
                              part[r.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        if let r = part.range(of: "==") {
            return .equals(part[..<r.lowerBound].trimmingCharacters(in: .whitespaces),
                           part[r.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        if let r = part.range(of: "=") {
            return .equals(part[..<r.lowerBound].trimmingCharacters(in: .whitespaces),
                           part[r.upperBound...].trimmingCharacters(in: .whitespaces))
        }
        let words = part.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true).map(String.init)
        if words.count == 2 {
            let key = words[0]
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            let op: String
            let list: Substring
            if rest.hasPrefix("notin") { op = "notin"; list = rest.dropFirst(5) }
            else if rest.hasPrefix("in") { op = "in"; list = rest.dropFirst(2) }
            else { throw bad("found '\(rest)', expected: in, notin, =, ==, !=") }
            let trimmed = list.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("("), trimmed.hasSuffix(")") else { throw bad("found '\(trimmed)', expected: '('") }
            let values = Set(trimmed.dropFirst().dropLast().split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty })
            return op == "in" ? .isIn(key, values) : .notIn(key, values)
        }
        return .exists(part)
    }

    /// Whether an object's labels match, read in place (building a `[String: String]` of every object's labels
    /// was a sixth of a paged LIST's cost).
    func matches(object: JSONValue) -> Bool {
        if requirements.isEmpty { return true }
        let labels = object[path: "metadata", "labels"]?.objectValue ?? [:]
        func label(_ key: String) -> String? { labels[key]?.stringValue }
        return requirements.allSatisfy { req in
            switch req {
            case .equals(let k, let v): return label(k) == v
            case .notEquals(let k, let v): return label(k) != v
            case .isIn(let k, let vs): return label(k).map { vs.contains($0) } ?? false
            case .notIn(let k, let vs): return label(k).map { !vs.contains($0) } ?? true
            case .exists(let k): return label(k) != nil
            case .notExists(let k): return label(k) == nil
            }
        }
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { req in
            switch req {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .isIn(let k, let vs): return labels[k].map { vs.contains($0) } ?? false
            case .notIn(let k, let vs): return labels[k].map { !vs.contains($0) } ?? true
            case .exists(let k): return labels[k] != nil
            case .notExists(let k): return labels[k] == nil
            }
        }
    }
}

/// Field selector: `path=value`, `path==value`, `path!=value`, comma-separated. Supported paths follow
/// kube-apiserver: `metadata.name` and `metadata.namespace` for every kind, plus per-kind fields
/// (Pods: `spec.nodeName`, `status.phase`, ...; Events: EventConversion.swift).
struct FieldQuery: Sendable, Equatable {
    struct Term: Sendable, Equatable {
        var path: String
        var value: String
        var negated: Bool
    }

    var terms: [Term] = []
    var isEmpty: Bool { terms.isEmpty }

    init() {}

    /// `extra`: a CRD version's `selectableFields` (paths like `spec.color`), selectable besides the metadata ones.
    init(parsing text: String, kind: String, extra: [String] = []) throws(APIStatusError) {
        for raw in text.split(separator: ",") {
            let part = raw.trimmingCharacters(in: .whitespaces)
            if part.isEmpty { continue }
            let term: Term
            if let r = part.range(of: "!=") {
                term = Term(path: String(part[..<r.lowerBound]), value: String(part[r.upperBound...]), negated: true)
            } else if let r = part.range(of: "==") {
                term = Term(path: String(part[..<r.lowerBound]), value: String(part[r.upperBound...]), negated: false)
            } else if let r = part.range(of: "=") {
                term = Term(path: String(part[..<r.lowerBound]), value: String(part[r.upperBound...]), negated: false)
            } else {
                throw APIStatusError.badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            guard Self.supported(term.path, kind: kind) || extra.contains(term.path) else {
                // kube-apiserver: `field label not supported: spec.foo`
                throw APIStatusError.badRequest("field label not supported: \(term.path)")
            }
            terms.append(term)
        }
        // events.k8s.io/v1 labels select on the stored core/v1 fields they convert to.
        if kind == "events.k8s.io/Event" {
            for i in terms.indices { terms[i].path = EventConversion.v1FieldLabels[terms[i].path] ?? terms[i].path }
        }
    }

    static func supported(_ path: String, kind: String) -> Bool {
        if path == "metadata.name" || path == "metadata.namespace" { return true }
        switch kind {
        case "Pod": return ["spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName",
                            "spec.serviceAccountName", "status.podIP", "status.nominatedNodeName"].contains(path)
        case "Event": return EventConversion.coreFieldLabels.contains(path)
        case "events.k8s.io/Event": return EventConversion.v1FieldLabels[path] != nil
        case "Secret": return path == "type"
        case "Node": return path == "spec.unschedulable"
        case "Namespace": return path == "status.phase"
        default: return false
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        terms.allSatisfy { term in
            // The one computed field label (core Events' `source`), recognised by its stored shape: an object.
            if term.path == "source", object["source"]?.objectValue != nil || object["reportingComponent"] != nil {
                return (EventConversion.selectableValue("source", object) == term.value) != term.negated
            }
            let keys = term.path.split(separator: ".").map(String.init)
            let actual: String
            switch object[path: keys] {
            case .string(let s)?: actual = s
            case .bool(let b)?: actual = b ? "true" : "false"
            case .int(let i)?: actual = String(i)
            default: actual = ""
            }
            return (actual == term.value) != term.negated
        }
    }
}
