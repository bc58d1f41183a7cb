import KubeCore

/// A reader for the compact notation of `--nodes` specs and script annotations: YAML flow style
/// (`{gpu: 8, product: A100, taints: [a=b:NoSchedule]}`), of which JSON is a subset.
///
/// Why our own: it must report the column of a mistake in a one-line command-line spec, and KubeYAML (block
/// YAML with line/column errors) is optional here. Plain scalars follow YAML's flow rules closely enough:
/// a key ends at `: `, a value at `,` `}` or `]`; `true`/`false`/`null`, integers and floats are typed, the rest
/// are strings. Strings holding `{`, `,` or `: ` must be quoted (`"step={step}"`).
struct FlowParser {
    struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// 1-based column in the input.
        var column: Int
        var message: String
        var description: String { "at column \(column): \(message)" }
    }

    let chars: [Character]
    var index = 0

    init(_ text: String) { chars = Array(text) }

    var atEnd: Bool { index >= chars.count }
    var peek: Character? { index < chars.count ? chars[index] : nil }
    var column: Int { index + 1 }

    func fail(_ message: String, at position: Int? = nil) -> Failure {
        Failure(column: (position ?? index) + 1, message: message)
    }

    mutating func skipSpace() {
        while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { index += 1 }
    }

    mutating func expect(_ c: Character) throws(Failure) {
        skipSpace()
        guard peek == c else {
            throw fail("expected '\(c)' but found \(peek.map { "'\($0)'" } ?? "the end")")
        }
        index += 1
    }

    /// Parses a whole document: one value and nothing after it.
    static func parse(_ text: String) throws(Failure) -> JSONValue {
        var p = FlowParser(text)
        let v = try p.parseValue()
        p.skipSpace()
        if !p.atEnd { throw p.fail("unexpected '\(p.chars[p.index])' after the value") }
        return v
    }

    /// Nesting depth, bounded so a hostile annotation cannot exhaust the stack.
    var depth = 0
    static let maxDepth = 64

    mutating func parseValue() throws(Failure) -> JSONValue {
        skipSpace()
        switch peek {
        case nil: throw fail("expected a value but found the end")
        case "{", "[":
            guard depth < Self.maxDepth else { throw fail("nested deeper than \(Self.maxDepth) levels") }
            depth += 1
            defer { depth -= 1 }
            return peek == "{" ? try parseObject() : try parseArray()
        case "\"", "'": return .string(try parseQuoted())
        default: return Self.typed(try parsePlain(isKey: false))
        }
    }

    mutating func parseObject() throws(Failure) -> JSONValue {
        try expect("{")
        var object: [String: JSONValue] = [:]
        skipSpace()
        if peek == "}" { index += 1; return .object(object) }
        while true {
            skipSpace()
            let keyStart = index
            let key: String
            if peek == "\"" || peek == "'" { key = try parseQuoted() } else { key = try parsePlain(isKey: true) }
            if key.isEmpty { throw fail("expected a key", at: keyStart) }
            try expect(":")
            if object[key] != nil { throw fail("duplicate key \"\(key)\"", at: keyStart) }
            object[key] = try parseValue()
            skipSpace()
            if peek == "," {
                index += 1
                skipSpace()
                if peek == "}" { index += 1; return .object(object) }
                continue
            }
            if peek == "}" { index += 1; return .object(object) }
            throw fail("expected ',' or '}' but found \(peek.map { "'\($0)'" } ?? "the end") (quote strings holding , { } or ': ')")
        }
    }

    mutating func parseArray() throws(Failure) -> JSONValue {
        try expect("[")
        var items: [JSONValue] = []
        skipSpace()
        if peek == "]" { index += 1; return .array(items) }
        while true {
            items.append(try parseValue())
            skipSpace()
            if peek == "," {
                index += 1
                skipSpace()
                if peek == "]" { index += 1; return .array(items) }
                continue
            }
            if peek == "]" { index += 1; return .array(items) }
            throw fail("expected ',' or ']' but found \(peek.map { "'\($0)'" } ?? "the end")")
        }
    }

    mutating func parseQuoted() throws(Failure) -> String {
        let start = index
        guard let quote = peek else { throw fail("expected a string") }
        index += 1
        var out = ""
        while let c = peek {
            index += 1
            if c == quote { return out }
            if c == "\\" && quote == "\"" {
                guard let e = peek else { break }
                index += 1
                switch e {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "u":
                    let hex = String(chars[index..<min(index + 4, chars.count)])
                    guard hex.count == 4, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw fail("invalid \\u escape", at: index - 2)
                    }
                    index += 4
                    out.unicodeScalars.append(scalar)
                default: out.append(e)
                }
            } else {
                out.append(c)
            }
        }
        throw fail("unterminated string", at: start)
    }

    /// A plain (unquoted) scalar. Keys end at `:` followed by a space or a bracket; values at `,` `}` `]`.
    mutating func parsePlain(isKey: Bool) throws(Failure) -> String {
        let start = index
        while let c = peek {
            if c == "," || c == "}" || c == "]" || c == "{" || c == "[" { break }
            if isKey && c == ":" {
                let next = index + 1 < chars.count ? chars[index + 1] : " "
                if next == " " || next == "\t" || next == "{" || next == "[" || next == "\"" { break }
            }
            index += 1
        }
        let text = String(chars[start..<index]).simTrimmed
        if text.isEmpty && !isKey { throw fail("expected a value", at: start) }
        return text
    }

    static func typed(_ text: String) -> JSONValue {
        switch text {
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case "null", "~", "Null", "NULL": return .null
        default: break
        }
        if let i = Int64(text) { return .int(i) }
        let numeric = text.allSatisfy { $0.isNumber || "+-.eE".contains($0) } && text.contains(where: \.isNumber)
        if numeric, let d = Double(text) { return .double(d) }
        return .string(text)
    }
}

extension String {
    /// Without spaces, tabs and newlines at either end (Foundation-free, for hot simulation paths).
    var simTrimmed: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
