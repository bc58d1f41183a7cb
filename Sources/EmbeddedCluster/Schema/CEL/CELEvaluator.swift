import KubeCore

/// A runtime error, worded as cel-go words them (kube embeds the text: "no such key: x evaluating rule: ...").
struct CELEvalError: Error, Sendable {
    let message: String
    static let noOverload = CELEvalError(message: "no such overload")
}

/// Evaluates the CEL subset over JSON values. CEL's runtime values for custom resources are exactly JSON's
/// (null, bool, int, double, string, list, map), so `JSONValue` is the value type.
struct CELEvaluator {
    var variables: [String: JSONValue]
    /// Patterns compiled with the rule; any other (a computed one) is compiled where it is matched.
    var patterns: [String: CompiledPattern] = [:]

    func eval(_ e: CELExpr) throws(CELEvalError) -> JSONValue {
        switch e {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .list(let items):
            var out: [JSONValue] = []
            for item in items { out.append(try eval(item)) }
            return .array(out)
        case .ident(let name):
            guard let v = variables[name] else { throw CELEvalError(message: "undeclared reference to '\(name)'") }
            return v
        case .select(let target, let field):
            guard case .object(let o) = try eval(target) else { throw CELEvalError.noOverload }
            guard let v = o[field] else { throw CELEvalError(message: "no such key: \(field)") }
            return v
        case .has(let target, let field):
            guard case .object(let o) = try eval(target) else { throw CELEvalError.noOverload }
            return .bool(o[field] != nil)
        case .index(let target, let index):
            return try self.index(try eval(target), try eval(index))
        case .call(let name, let target, let args):
            return try call(name, target: target, args: args)
        case .quantifier(let q, let range, let variable, let body):
            return try quantify(q, try eval(range), variable, body)
        case .not(let inner):
            guard case .bool(let b) = try eval(inner) else { throw CELEvalError.noOverload }
            return .bool(!b)
        case .negate(let inner):
            switch try eval(inner) {
            case .int(let i):
                guard i != .min else { throw CELEvalError(message: "integer overflow") }
                return .int(-i)
            case .double(let d): return .double(-d)
            default: throw CELEvalError.noOverload
            }
        case .and(let l, let r): return try logical(l, r, shortCircuit: false)
        case .or(let l, let r): return try logical(l, r, shortCircuit: true)
        case .conditional(let c, let t, let f):
            guard case .bool(let b) = try eval(c) else { throw CELEvalError.noOverload }
            return try eval(b ? t : f)
        case .binary(let op, let l, let r):
            return try binary(op, try eval(l), try eval(r))
        }
    }

    /// CEL's commutative `&&`/`||`: the deciding value wins even if the other side is an error.
    private func logical(_ l: CELExpr, _ r: CELExpr, shortCircuit: Bool) throws(CELEvalError) -> JSONValue {
        var leftError: CELEvalError?
        do {
            switch try eval(l) {
            case .bool(let b) where b == shortCircuit: return .bool(b)
            case .bool: break
            default: leftError = .noOverload
            }
        } catch {
            leftError = error
        }
        switch try eval(r) {
        case .bool(let b) where b == shortCircuit: return .bool(b)
        case .bool(let b):
            if let leftError { throw leftError }
            return .bool(b)
        default:
            throw leftError ?? .noOverload
        }
    }

    private func quantify(_ q: CELExpr.Quantifier, _ range: JSONValue, _ variable: String, _ body: CELExpr) throws(CELEvalError) -> JSONValue {
        let elements: [JSONValue]
        switch range {
        case .array(let a): elements = a
        case .object(let o): elements = o.keys.sorted().map { .string($0) }
        default: throw CELEvalError.noOverload
        }
        var scope = self
        var firstError: CELEvalError?
        for element in elements {
            scope.variables[variable] = element
            do throws(CELEvalError) {
                guard case .bool(let b) = try scope.eval(body) else { throw CELEvalError.noOverload }
                if q == .all && !b { return .bool(false) }
                if q == .exists && b { return .bool(true) }
            } catch {
                if firstError == nil { firstError = error }
            }
        }
        if let firstError { throw firstError }
        return .bool(q == .all)
    }

    private func index(_ target: JSONValue, _ index: JSONValue) throws(CELEvalError) -> JSONValue {
        switch (target, index) {
        case (.array(let a), _):
            guard let i = Self.integral(index) else { throw CELEvalError.noOverload }
            guard i >= 0 && i < Int64(a.count) else { throw CELEvalError(message: "index out of bounds: \(i)") }
            return a[Int(i)]
        case (.object(let o), .string(let k)):
            guard let v = o[k] else { throw CELEvalError(message: "no such key: \(k)") }
            return v
        default:
            throw CELEvalError.noOverload
        }
    }

    /// A list index: an int, or a double with an integral value (cel-go accepts both).
    private static func integral(_ v: JSONValue) -> Int64? {
        switch v {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e18: return Int64(d)
        default: return nil
        }
    }

    private func call(_ name: String, target: CELExpr?, args: [CELExpr]) throws(CELEvalError) -> JSONValue {
        if name == "size" {
            let subject: JSONValue
            if let target { subject = try eval(target) } else if let first = args.first { subject = try eval(first) } else {
                throw CELEvalError.noOverload
            }
            switch subject {
            case .string(let s): return .int(Int64(s.unicodeScalars.count))
            case .array(let a): return .int(Int64(a.count))
            case .object(let o): return .int(Int64(o.count))
            default: throw CELEvalError.noOverload
            }
        }
        guard let target, let argument = args.first,
            case .string(let s) = try eval(target), case .string(let arg) = try eval(argument)
        else { throw CELEvalError.noOverload }
        // CEL strings compare by code points, not by Unicode canonical equivalence as Swift's String does.
        let sBytes = Array(s.utf8)
        let aBytes = Array(arg.utf8)
        switch name {
        case "startsWith": return .bool(sBytes.starts(with: aBytes))
        case "endsWith": return .bool(sBytes.reversed().starts(with: aBytes.reversed()))
        case "contains":
            if aBytes.isEmpty { return .bool(true) }
            guard sBytes.count >= aBytes.count else { return .bool(false) }
            for start in 0...(sBytes.count - aBytes.count) where sBytes[start..<(start + aBytes.count)].elementsEqual(aBytes) {
                return .bool(true)
            }
            return .bool(false)
        case "matches":
            do {
                return .bool(try (patterns[arg] ?? CompiledPattern(arg)).matches(s))
            } catch {
                throw CELEvalError(message: "invalid regular expression: \(arg)")
            }
        default:
            throw CELEvalError(message: "no such overload: \(name)")
        }
    }

    private func binary(_ op: String, _ l: JSONValue, _ r: JSONValue) throws(CELEvalError) -> JSONValue {
        switch op {
        case "==": return .bool(Self.equal(l, r))
        case "!=": return .bool(!Self.equal(l, r))
        case "<", "<=", ">", ">=":
            let c = try Self.compare(l, r)
            switch op {
            case "<": return .bool(c < 0)
            case "<=": return .bool(c <= 0)
            case ">": return .bool(c > 0)
            default: return .bool(c >= 0)
            }
        case "in":
            switch r {
            case .array(let a): return .bool(a.contains { Self.equal(l, $0) })
            case .object(let o):
                guard case .string(let k) = l else { return .bool(false) }
                return .bool(o[k] != nil)
            default: throw CELEvalError.noOverload
            }
        default:
            return try arithmetic(op, l, r)
        }
    }

    /// No implicit conversions: int with int, double with double, string + string, list + list.
    private func arithmetic(_ op: String, _ l: JSONValue, _ r: JSONValue) throws(CELEvalError) -> JSONValue {
        switch (l, r) {
        case (.int(let a), .int(let b)):
            let result: (Int64, Bool)
            switch op {
            case "+": result = a.addingReportingOverflow(b)
            case "-": result = a.subtractingReportingOverflow(b)
            case "*": result = a.multipliedReportingOverflow(by: b)
            case "/":
                guard b != 0 else { throw CELEvalError(message: "division by zero") }
                result = a.dividedReportingOverflow(by: b)
            case "%":
                guard b != 0 else { throw CELEvalError(message: "modulus by zero") }
                result = a.remainderReportingOverflow(dividingBy: b)
            default: throw CELEvalError.noOverload
            }
            if result.1 { throw CELEvalError(message: "integer overflow") }
            return .int(result.0)
        case (.double(let a), .double(let b)):
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            case "/": return .double(a / b)
            default: throw CELEvalError.noOverload
            }
        case (.string(let a), .string(let b)) where op == "+": return .string(a + b)
        case (.array(let a), .array(let b)) where op == "+": return .array(a + b)
        default: throw CELEvalError.noOverload
        }
    }

    /// CEL heterogeneous equality: numbers compare by value across int and double; other kinds of different
    /// types are simply unequal; lists and maps compare element-wise.
    static func equal(_ l: JSONValue, _ r: JSONValue) -> Bool {
        switch (l, r) {
        case (.int(let a), .int(let b)): return a == b
        case (.int, .double), (.double, .int), (.double, .double):
            return l.doubleValue == r.doubleValue
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.array(let a), .array(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { equal($0, $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { k, v in b[k].map { equal(v, $0) } ?? false }
        default: return l == r
        }
    }

    /// Ordering for int/double (also across the two), strings (by bytes, as Go) and bools.
    static func compare(_ l: JSONValue, _ r: JSONValue) throws(CELEvalError) -> Int {
        switch (l, r) {
        case (.int(let a), .int(let b)): return a < b ? -1 : a == b ? 0 : 1
        case (.int, .double), (.double, .int), (.double, .double):
            guard let a = l.doubleValue, let b = r.doubleValue, !a.isNaN, !b.isNaN else { throw CELEvalError.noOverload }
            return a < b ? -1 : a == b ? 0 : 1
        case (.string(let a), .string(let b)):
            if a.utf8.elementsEqual(b.utf8) { return 0 }
            return a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : 1
        case (.bool(let a), .bool(let b)): return a == b ? 0 : (!a ? -1 : 1)
        default: throw CELEvalError.noOverload
        }
    }
}
