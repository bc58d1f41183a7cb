/// A parsed label selector (`a=b,c!=d,e in (f,g),!h`), matched client-side by caches and indexes.
///
/// Deliberate twin of EmbeddedCluster's `LabelQuery` (Selectors.swift), the server side's own parser and matcher:
/// the embedded cluster is the independent oracle, so a misreading of the selector syntax here cannot be mirrored
/// by the server the tests run against. Each is tested on its own (KubeCoreTests, EmbeddedClusterTests' PatchTests).
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public init(_ requirements: [Requirement] = []) { self.requirements = requirements }

    /// Equality selector from a label map (what `matchLabels` means).
    public init(matchLabels: [String: String]) {
        requirements = matchLabels.sorted { $0.key < $1.key }.map { .equals($0.key, $0.value) }
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { r in
            switch r {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .isIn(let k, let vs): return labels[k].map(vs.contains) ?? false
            case .notIn(let k, let vs): return labels[k].map { !vs.contains($0) } ?? true
            case .exists(let k): return labels[k] != nil
            case .doesNotExist(let k): return labels[k] == nil
            }
        }
    }

    /// The selector in the query-string syntax the API server parses.
    public var description: String {
        requirements.map { r in
            switch r {
            case .equals(let k, let v): return "\(k)=\(v)"
            case .notEquals(let k, let v): return "\(k)!=\(v)"
            case .isIn(let k, let vs): return "\(k) in (\(vs.sorted().joined(separator: ",")))"
            case .notIn(let k, let vs): return "\(k) notin (\(vs.sorted().joined(separator: ",")))"
            case .exists(let k): return k
            case .doesNotExist(let k): return "!\(k)"
            }
        }.joined(separator: ",")
    }

    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public let selector: String
        public let reason: String
        public var description: String { "invalid label selector \"\(selector)\": \(reason)" }
    }

    /// Parses the string syntax (`=`, `==`, `!=`, `in`, `notin`, `key`, `!key`).
    public static func parse(_ text: String) throws(ParseError) -> LabelSelector {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let t = term.trimmingSpaces
            if t.isEmpty { continue }
            if let r = try Self.parseSetTerm(t, selector: text) {
                requirements.append(r)
            } else if let range = t.range(of: "!=") {
                requirements.append(.notEquals(String(t[..<range.lowerBound]).trimmingSpaces, String(t[range.upperBound...]).trimmingSpaces))
            } else if let range = t.range(of: "==") ?? t.range(of: "=") {
                requirements.append(.equals(String(t[..<range.lowerBound]).trimmingSpaces, String(t[range.upperBound...]).trimmingSpaces))
            } else if t.hasPrefix("!") {
                requirements.append(.doesNotExist(String(t.dropFirst()).trimmingSpaces))
            } else if t.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) {
                requirements.append(.exists(t))
            } else {
                throw ParseError(selector: text, reason: "cannot parse \"\(t)\"")
            }
        }
        return LabelSelector(requirements)
    }

    /// Splits on commas outside parentheses.
    static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == ",", depth == 0 { terms.append(current); current = "" } else { current.append(c) }
        }
        terms.append(current)
        return terms
    }

    static func parseSetTerm(_ t: String, selector: String) throws(ParseError) -> Requirement? {
        let words = t.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard words.count >= 2, words[1] == "in" || words[1] == "notin" ||
            (words.count == 2 && (words[1].hasPrefix("in(") || words[1].hasPrefix("notin(")))
        else { return nil }
        let key = String(words[0])
        let rest = t.dropFirst(key.count).trimmingSpaces
        let isIn = rest.hasPrefix("in")
        let list = rest.dropFirst(isIn ? 2 : 5).trimmingSpaces
        guard list.hasPrefix("("), list.hasSuffix(")") else {
            throw ParseError(selector: selector, reason: "values of \"\(key)\" must be in parentheses")
        }
        let values = Set(list.dropFirst().dropLast().split(separator: ",").map { String($0).trimmingSpaces })
        return isIn ? .isIn(key, values) : .notIn(key, values)
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
