import Foundation

/// Arithmetic over the container's environment, for curves whose values depend on the run's
/// hyperparameters: `to: "0.1 + (log10(HP_LR) + 2.5)^2"`. Numbers, environment variable names, + − × ÷ ^,
/// parentheses and log, log10, exp, sqrt, abs, min, max. A variable the container does not have evaluates to
/// nan, which the log shows as written.
indirect enum ScriptExpression: Sendable, Hashable {
    case number(Double)
    case variable(String)
    case unary(Character, ScriptExpression)
    case binary(Character, ScriptExpression, ScriptExpression)
    case call(String, [ScriptExpression])

    static let functions: [String: Int] = ["log": 1, "log10": 1, "exp": 1, "sqrt": 1, "abs": 1, "min": 2, "max": 2]

    func evaluate(_ env: [String: String]) -> Double {
        switch self {
        case .number(let d): return d
        case .variable(let name): return env[name].flatMap(Double.init) ?? .nan
        case .unary(_, let e): return -e.evaluate(env)
        case .binary(let op, let a, let b):
            let x = a.evaluate(env), y = b.evaluate(env)
            switch op {
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            case "/": return x / y
            default: return pow(x, y)
            }
        case .call(let f, let args):
            let v = args.map { $0.evaluate(env) }
            switch f {
            case "log": return Foundation.log(v[0])
            case "log10": return Foundation.log10(v[0])
            case "exp": return Foundation.exp(v[0])
            case "sqrt": return v[0].squareRoot()
            case "abs": return Swift.abs(v[0])
            case "min": return Swift.min(v[0], v[1])
            default: return Swift.max(v[0], v[1])
            }
        }
    }

    /// Parses `text`; the error says what was expected and where.
    static func parse(_ text: String) throws(ScriptExpressionError) -> ScriptExpression {
        var p = Parser(chars: Array(text))
        let e = try p.sum()
        p.skipSpace()
        guard p.at == p.chars.count else { throw p.error("unexpected '\(p.chars[p.at])'") }
        return e
    }

    struct Parser {
        let chars: [Character]
        var at = 0
        /// Recursion plus operator-chain links: parsing, evaluating and freeing the tree all recurse over it, so
        /// `((((…` or `1+1+…+1` a hundred thousand long is refused here instead of overflowing the stack.
        var depth = 0
        static let maxDepth = 64

        mutating func deeper() throws(ScriptExpressionError) {
            depth += 1
            guard depth <= Self.maxDepth else { throw error("expression nested deeper than \(Self.maxDepth) levels") }
        }

        func error(_ message: String) -> ScriptExpressionError { ScriptExpressionError(message: "\(message) at position \(at + 1)") }

        mutating func skipSpace() { while at < chars.count, chars[at] == " " { at += 1 } }

        mutating func peek() -> Character? { skipSpace(); return at < chars.count ? chars[at] : nil }

        mutating func sum() throws(ScriptExpressionError) -> ScriptExpression {
            let entry = depth
            defer { depth = entry }
            var e = try product()
            while let op = peek(), op == "+" || op == "-" { at += 1; try deeper(); e = .binary(op, e, try product()) }
            return e
        }

        mutating func product() throws(ScriptExpressionError) -> ScriptExpression {
            let entry = depth
            defer { depth = entry }
            var e = try power()
            while let op = peek(), op == "*" || op == "/" { at += 1; try deeper(); e = .binary(op, e, try power()) }
            return e
        }

        /// Right-associative, binding tighter than unary minus on its left (`-x^2` is −(x²)).
        mutating func power() throws(ScriptExpressionError) -> ScriptExpression {
            let base = try unary()
            guard peek() == "^" else { return base }
            at += 1
            try deeper()
            defer { depth -= 1 }
            return .binary("^", base, try power())
        }

        mutating func unary() throws(ScriptExpressionError) -> ScriptExpression {
            guard let sign = peek(), sign == "-" || sign == "+" else { return try atom() }
            at += 1
            try deeper()
            defer { depth -= 1 }
            return sign == "-" ? .unary("-", try power()) : try power()
        }

        mutating func atom() throws(ScriptExpressionError) -> ScriptExpression {
            guard let c = peek() else { throw error("expected a number, a variable or '('") }
            try deeper()
            defer { depth -= 1 }
            if c == "(" {
                at += 1
                let e = try sum()
                guard peek() == ")" else { throw error("expected ')'") }
                at += 1
                return e
            }
            if c.isNumber || c == "." {
                let start = at
                while at < chars.count, chars[at].isNumber || chars[at] == "." || chars[at] == "e" || chars[at] == "E"
                        || ((chars[at] == "-" || chars[at] == "+") && at > start && (chars[at - 1] == "e" || chars[at - 1] == "E")) { at += 1 }
                guard let d = Double(String(chars[start..<at])) else { throw error("'\(String(chars[start..<at]))' is not a number") }
                return .number(d)
            }
            guard c.isLetter || c == "_" else { throw error("unexpected '\(c)'") }
            let start = at
            while at < chars.count, chars[at].isLetter || chars[at].isNumber || chars[at] == "_" { at += 1 }
            let name = String(chars[start..<at])
            guard peek() == "(" else { return .variable(name) }
            guard let arity = ScriptExpression.functions[name] else {
                throw error("unknown function \(name) (known: \(ScriptExpression.functions.keys.sorted().joined(separator: ", ")))")
            }
            at += 1
            var args: [ScriptExpression] = []
            while true {
                args.append(try sum())
                if peek() == "," { at += 1; continue }
                guard peek() == ")" else { throw error("expected ',' or ')'") }
                at += 1
                break
            }
            guard args.count == arity else { throw error("\(name) takes \(arity) argument\(arity == 1 ? "" : "s")") }
            return .call(name, args)
        }
    }
}

struct ScriptExpressionError: Error, Sendable, Hashable { var message: String }
