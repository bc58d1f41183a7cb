/// Recursive-descent parser for the CEL subset, following cel-spec's grammar and precedence:
/// `?:` < `||` < `&&` < relations (`== != < <= > >= in`) < `+ -` < `* / %` < unary (`! -`) < member access.
/// Only the functions and macros listed in `supportedFunctions` are accepted; anything else is refused at
/// schema load instead of being silently treated as true or false.
struct CELParser {
    static let supportedFunctions: Set<String> = ["size", "startsWith", "endsWith", "contains", "matches"]
    /// Recursion plus operator-chain links (see `link`); cel-go's parser likewise counts both toward one
    /// recursion limit (its default maxRecursionDepth is 250; ours is lower as every level is several Swift frames).
    private static let maxDepth = 100

    private var tokens: [CELToken]
    private var pos = 0
    private var depth = 0

    /// cel-go's default `expressionSizeCodePointLimit`; also what keeps a rule's tree in proportion to a CRD.
    static let maxCodePoints = 100_000

    static func parse(_ text: String) throws(CELSyntaxError) -> CELExpr {
        let size = text.unicodeScalars.count
        guard size <= maxCodePoints else {
            throw CELSyntaxError(message: "expression code point size exceeds limit: size: \(size), limit \(maxCodePoints)")
        }
        var p = CELParser(tokens: try CELLexer.tokens(text))
        let e = try p.expr()
        guard p.current == .end else { throw CELSyntaxError(message: "unexpected \(p.describe(p.current)) after the expression") }
        // Operator chains (`a && b && ...`) are parsed by loops but nest in the tree; evaluation recurses over
        // the tree, so its depth is bounded here (cel-go also limits nesting).
        guard e.depth <= maxTreeDepth else { throw CELSyntaxError(message: "expression nested too deeply") }
        return e
    }

    static let maxTreeDepth = 128

    private init(tokens: [CELToken]) { self.tokens = tokens }

    private var current: CELToken { pos < tokens.count ? tokens[pos] : .end }

    private func describe(_ t: CELToken) -> String {
        switch t {
        case .ident(let s): return "'\(s)'"
        case .int(let i): return "'\(i)'"
        case .double(let d): return "'\(d)'"
        case .string(let s): return "string '\(s)'"
        case .op(let o): return "'\(o)'"
        case .end: return "end of input"
        }
    }

    private mutating func accept(_ op: String) -> Bool {
        if current == .op(op) { pos += 1; return true }
        return false
    }

    private mutating func expect(_ op: String) throws(CELSyntaxError) {
        guard accept(op) else { throw CELSyntaxError(message: "expected '\(op)' but found \(describe(current))") }
    }

    private mutating func nested<T>(_ body: (inout CELParser) throws(CELSyntaxError) -> T) throws(CELSyntaxError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw CELSyntaxError(message: "expression nested too deeply") }
        return try body(&self)
    }

    /// A chain (`a + b + c`, `a.b.c`) is parsed by a loop but nests one level in the tree per link, and
    /// evaluating or freeing the tree recurses over it: each link counts as a level, until the chain's parser returns.
    private mutating func link() throws(CELSyntaxError) {
        depth += 1
        guard depth <= Self.maxDepth else { throw CELSyntaxError(message: "expression nested too deeply") }
    }

    private mutating func expr() throws(CELSyntaxError) -> CELExpr {
        try nested { (p: inout CELParser) throws(CELSyntaxError) -> CELExpr in
            let cond = try p.or()
            guard p.accept("?") else { return cond }
            let then = try p.or()
            try p.expect(":")
            let otherwise = try p.expr()
            return .conditional(cond, then, otherwise)
        }
    }

    private mutating func or() throws(CELSyntaxError) -> CELExpr {
        var terms = [try and()]
        while accept("||") { terms.append(try and()) }
        return Self.balanced(terms[...], CELExpr.or)
    }

    private mutating func and() throws(CELSyntaxError) -> CELExpr {
        var terms = [try relation()]
        while accept("&&") { terms.append(try relation()) }
        return Self.balanced(terms[...], CELExpr.and)
    }

    /// `a && b && c && d` as a balanced tree, as cel-go's parser builds logical chains: a chain of any length
    /// nests only log2(n) levels, and `&&`/`||` are associative in CEL (errors included), so the value is the same.
    private static func balanced(_ terms: ArraySlice<CELExpr>, _ join: (CELExpr, CELExpr) -> CELExpr) -> CELExpr {
        guard terms.count > 1, let first = terms.first else { return terms.first ?? .null }
        if terms.count == 2, let last = terms.last { return join(first, last) }
        let mid = terms.startIndex + terms.count / 2
        return join(balanced(terms[..<mid], join), balanced(terms[mid...], join))
    }

    private mutating func relation() throws(CELSyntaxError) -> CELExpr {
        let entry = depth
        defer { depth = entry }
        var e = try addition()
        while true {
            if case .op(let o) = current, ["==", "!=", "<", "<=", ">", ">="].contains(o) {
                pos += 1
                try link()
                e = .binary(o, e, try addition())
            } else if current == .ident("in") {
                pos += 1
                try link()
                e = .binary("in", e, try addition())
            } else {
                return e
            }
        }
    }

    private mutating func addition() throws(CELSyntaxError) -> CELExpr {
        let entry = depth
        defer { depth = entry }
        var e = try multiplication()
        while case .op(let o) = current, o == "+" || o == "-" {
            pos += 1
            try link()
            e = .binary(o, e, try multiplication())
        }
        return e
    }

    private mutating func multiplication() throws(CELSyntaxError) -> CELExpr {
        let entry = depth
        defer { depth = entry }
        var e = try unary()
        while case .op(let o) = current, o == "*" || o == "/" || o == "%" {
            pos += 1
            try link()
            e = .binary(o, e, try unary())
        }
        return e
    }

    private mutating func unary() throws(CELSyntaxError) -> CELExpr {
        try nested { (p: inout CELParser) throws(CELSyntaxError) -> CELExpr in
            if p.accept("!") { return .not(try p.unary()) }
            if p.accept("-") {
                // Fold literals so that -9223372036854775808 is representable.
                if case .int(let i) = p.current, i >= 0 { p.pos += 1; return try p.member(.int(-i)) }
                if case .double(let d) = p.current { p.pos += 1; return try p.member(.double(-d)) }
                return .negate(try p.unary())
            }
            return try p.member(try p.primary())
        }
    }

    private mutating func member(_ start: CELExpr) throws(CELSyntaxError) -> CELExpr {
        let entry = depth
        defer { depth = entry }
        var e = start
        while true {
            if current == .op(".") || current == .op("[") { try link() }
            if accept(".") {
                guard case .ident(let name) = current else {
                    throw CELSyntaxError(message: "expected a field or method name after '.' but found \(describe(current))")
                }
                pos += 1
                if accept("(") {
                    e = try method(name, on: e)
                } else {
                    e = .select(e, name)
                }
            } else if accept("[") {
                let i = try expr()
                try expect("]")
                e = .index(e, i)
            } else {
                return e
            }
        }
    }

    private mutating func arguments() throws(CELSyntaxError) -> [CELExpr] {
        var args: [CELExpr] = []
        if accept(")") { return args }
        repeat { args.append(try expr()) } while accept(",")
        try expect(")")
        return args
    }

    private mutating func method(_ name: String, on target: CELExpr) throws(CELSyntaxError) -> CELExpr {
        if name == "all" || name == "exists" {
            guard case .ident(let v) = current, v != "self", v != "oldSelf" else {
                throw CELSyntaxError(message: "\(name)() needs a variable name as its first argument")
            }
            pos += 1
            try expect(",")
            let body = try expr()
            try expect(")")
            return .quantifier(name == "all" ? .all : .exists, range: target, variable: v, body: body)
        }
        guard Self.supportedFunctions.contains(name) else { throw unsupported(name) }
        let args = try arguments()
        let expected = name == "size" ? 0 : 1
        guard args.count == expected else {
            throw CELSyntaxError(message: "\(name)() takes \(expected) argument(s) on a receiver, got \(args.count)")
        }
        return .call(name, target: target, args: args)
    }

    private func unsupported(_ name: String) -> CELSyntaxError {
        CELSyntaxError(message: "function '\(name)' is not in the supported CEL subset (size, has, all, exists, startsWith, endsWith, contains, matches)")
    }

    private mutating func primary() throws(CELSyntaxError) -> CELExpr {
        let t = current
        pos += 1
        switch t {
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .ident("true"): return .bool(true)
        case .ident("false"): return .bool(false)
        case .ident("null"): return .null
        case .ident("in"): throw CELSyntaxError(message: "unexpected 'in'")
        case .ident(let name):
            guard accept("(") else { return .ident(name) }
            if name == "has" {
                let args = try arguments()
                guard args.count == 1, case .select(let target, let field) = args[0] else {
                    throw CELSyntaxError(message: "invalid argument to has() macro")
                }
                return .has(target, field)
            }
            guard name == "size" else { throw unsupported(name) }
            let args = try arguments()
            guard args.count == 1 else { throw CELSyntaxError(message: "size() takes one argument") }
            return .call("size", target: nil, args: args)
        case .op("("):
            let e = try expr()
            try expect(")")
            return e
        case .op("["):
            var items: [CELExpr] = []
            if accept("]") { return .list(items) }
            repeat {
                if current == .op("]") { break }  // trailing comma
                items.append(try expr())
            } while accept(",")
            try expect("]")
            return .list(items)
        default:
            throw CELSyntaxError(message: "unexpected \(describe(t))")
        }
    }
}
