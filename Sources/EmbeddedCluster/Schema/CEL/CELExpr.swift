/// The syntax tree of the supported CEL subset. Macros (`has`, `all`, `exists`) are their own cases, as
/// cel-go expands them at parse time.
indirect enum CELExpr: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case list([CELExpr])
    case ident(String)
    case select(CELExpr, String)
    case index(CELExpr, CELExpr)
    /// `has(e.f)`: presence test, never an error for an absent field.
    case has(CELExpr, String)
    /// A global (`size(x)`) or receiver (`x.size()`) function call.
    case call(String, target: CELExpr?, args: [CELExpr])
    case quantifier(Quantifier, range: CELExpr, variable: String, body: CELExpr)
    case not(CELExpr)
    case negate(CELExpr)
    case binary(String, CELExpr, CELExpr)
    case and(CELExpr, CELExpr)
    case or(CELExpr, CELExpr)
    case conditional(CELExpr, CELExpr, CELExpr)

    enum Quantifier: String, Sendable {
        case all, exists
    }

    var children: [CELExpr] {
        switch self {
        case .null, .bool, .int, .double, .string, .ident: return []
        case .list(let items): return items
        case .select(let e, _), .has(let e, _), .not(let e), .negate(let e): return [e]
        case .index(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b): return [a, b]
        case .call(_, let target, let args): return (target.map { [$0] } ?? []) + args
        case .quantifier(_, let range, _, let body): return [range, body]
        case .conditional(let a, let b, let c): return [a, b, c]
        }
    }

    /// Tree depth, computed without recursion so that a pathological tree cannot exhaust the stack.
    var depth: Int {
        var deepest = 0
        var stack: [(CELExpr, Int)] = [(self, 1)]
        while let (e, d) = stack.popLast() {
            deepest = max(deepest, d)
            for c in e.children { stack.append((c, d + 1)) }
        }
        return deepest
    }

    /// Whether the expression reads `oldSelf` (a transition rule).
    /// The constant patterns of `matches` calls in this expression: compiled once with the rule, as cel-go
    /// does, instead of on every evaluation (compiling was a tenth of the API server's CPU on a write burst).
    var constantPatterns: [String] {
        switch self {
        case .ident, .null, .bool, .int, .double, .string: return []
        case .list(let items): return items.flatMap(\.constantPatterns)
        case .select(let e, _), .has(let e, _), .not(let e), .negate(let e): return e.constantPatterns
        case .index(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            return a.constantPatterns + b.constantPatterns
        case .call(let name, let target, let args):
            var own: [String] = []
            if name == "matches", case .string(let pattern)? = args.last { own = [pattern] }
            return own + (target?.constantPatterns ?? []) + args.flatMap(\.constantPatterns)
        case .quantifier(_, let range, _, let body): return range.constantPatterns + body.constantPatterns
        case .conditional(let a, let b, let c): return a.constantPatterns + b.constantPatterns + c.constantPatterns
        }
    }

    var usesOldSelf: Bool {
        switch self {
        case .ident(let n): return n == "oldSelf"
        case .null, .bool, .int, .double, .string: return false
        case .list(let items): return items.contains { $0.usesOldSelf }
        case .select(let e, _), .has(let e, _), .not(let e), .negate(let e): return e.usesOldSelf
        case .index(let a, let b), .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            return a.usesOldSelf || b.usesOldSelf
        case .call(_, let target, let args): return (target?.usesOldSelf ?? false) || args.contains { $0.usesOldSelf }
        case .quantifier(_, let range, _, let body): return range.usesOldSelf || body.usesOldSelf
        case .conditional(let a, let b, let c): return a.usesOldSelf || b.usesOldSelf || c.usesOldSelf
        }
    }
}
