/// Tokens of the CEL subset (cel-spec langdef.md lexis), without bytes, unsigned, raw or triple-quoted strings.
enum CELToken: Sendable, Equatable {
    case ident(String)
    case int(Int64)
    case double(Double)
    case string(String)
    case op(String)
    case end
}

struct CELSyntaxError: Error, Sendable {
    let message: String
}

/// Turns rule text into tokens; everything outside the subset is a syntax error here rather than a surprise later.
struct CELLexer {
    private let chars: [Character]
    private var i = 0

    init(_ text: String) { chars = Array(text) }

    static func tokens(_ text: String) throws(CELSyntaxError) -> [CELToken] {
        var lexer = CELLexer(text)
        var out: [CELToken] = []
        while true {
            let t = try lexer.next()
            out.append(t)
            if t == .end { return out }
        }
    }

    private var current: Character? { i < chars.count ? chars[i] : nil }
    private func peek(_ offset: Int = 1) -> Character? { i + offset < chars.count ? chars[i + offset] : nil }

    private mutating func next() throws(CELSyntaxError) -> CELToken {
        // Whitespace and line comments, in a loop: thousands of comment lines must not mean thousands of frames.
        while let c = current, c.isWhitespace || (c == "/" && peek() == "/") {
            if c.isWhitespace { i += 1 } else { while let d = current, d != "\n" { i += 1 } }
        }
        guard let c = current else { return .end }
        if c.isASCII && (c.isLetter || c == "_") {
            var s = ""
            while let d = current, d.isLetter || d.isNumber || d == "_", d.isASCII { s.append(d); i += 1 }
            if (s == "r" || s == "R" || s == "b" || s == "B"), let q = current, q == "'" || q == "\"" {
                throw CELSyntaxError(message: "raw and bytes string literals are not supported")
            }
            return .ident(s)
        }
        if c.isASCII && c.isNumber || (c == "." && (peek()?.isASCII ?? false) && (peek()?.isNumber ?? false)) {
            return try number()
        }
        if c == "'" || c == "\"" { return .string(try string(quote: c)) }
        let two = String(c) + (peek().map { String($0) } ?? "")
        if ["==", "!=", "<=", ">=", "&&", "||"].contains(two) {
            i += 2
            return .op(two)
        }
        if "<>!?:.,()[]+-*/%".contains(c) {
            i += 1
            return .op(String(c))
        }
        if c == "{" || c == "}" {
            throw CELSyntaxError(message: "map and message literals are not supported")
        }
        throw CELSyntaxError(message: "unexpected character '\(c)'")
    }

    private mutating func number() throws(CELSyntaxError) -> CELToken {
        var s = ""
        if current == "0", let x = peek(), x == "x" || x == "X" {
            i += 2
            while let d = current, d.isHexDigit { s.append(d); i += 1 }
            if let u = current, u == "u" || u == "U" { throw CELSyntaxError(message: "unsigned integers are not supported") }
            guard let v = Int64(s, radix: 16) else { throw CELSyntaxError(message: "invalid hex literal") }
            return .int(v)
        }
        var isDouble = false
        while let d = current, d.isASCII, d.isNumber { s.append(d); i += 1 }
        if current == ".", let d = peek(), d.isASCII, d.isNumber {
            isDouble = true
            s.append("."); i += 1
            while let d = current, d.isASCII, d.isNumber { s.append(d); i += 1 }
        }
        if let e = current, e == "e" || e == "E" {
            isDouble = true
            s.append("e"); i += 1
            if let sign = current, sign == "+" || sign == "-" { s.append(sign); i += 1 }
            while let d = current, d.isASCII, d.isNumber { s.append(d); i += 1 }
        }
        if let u = current, u == "u" || u == "U" { throw CELSyntaxError(message: "unsigned integers are not supported") }
        if isDouble {
            guard let v = Double(s) else { throw CELSyntaxError(message: "invalid number '\(s)'") }
            return .double(v)
        }
        guard let v = Int64(s) else { throw CELSyntaxError(message: "integer literal '\(s)' out of range") }
        return .int(v)
    }

    private mutating func string(quote: Character) throws(CELSyntaxError) -> String {
        if peek() == quote && peek(2) == quote { throw CELSyntaxError(message: "triple-quoted strings are not supported") }
        i += 1
        var out = ""
        while true {
            guard let c = current else { throw CELSyntaxError(message: "unterminated string literal") }
            i += 1
            if c == quote { return out }
            if c == "\n" { throw CELSyntaxError(message: "unterminated string literal") }
            if c != "\\" { out.append(c); continue }
            guard let e = current else { throw CELSyntaxError(message: "unterminated string literal") }
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "r": out.append("\r")
            case "\\": out.append("\\")
            case "'": out.append("'")
            case "\"": out.append("\"")
            case "`": out.append("`")
            case "?": out.append("?")
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "v": out.append("\u{0B}")
            case "u", "U", "x", "X":
                let n = e == "u" ? 4 : e == "U" ? 8 : 2
                var hex = ""
                for _ in 0..<n {
                    guard let h = current, h.isHexDigit else { throw CELSyntaxError(message: "invalid escape sequence") }
                    hex.append(h); i += 1
                }
                guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                    throw CELSyntaxError(message: "invalid escape sequence")
                }
                out.unicodeScalars.append(scalar)
            default:
                throw CELSyntaxError(message: "invalid escape sequence '\\\(e)'")
            }
        }
    }
}
