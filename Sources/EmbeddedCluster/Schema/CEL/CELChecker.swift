/// Compile-time checks that kube's CEL compiler would also fail on: unknown variables and selecting fields the
/// schema does not declare ("undefined field 'x'"). Types are tracked only as far as the schema says; values
/// of unknown shape (preserve-unknown-fields, int-or-string) are dynamic and checked at run time.
struct CELChecker {
    let isRoot: Bool

    /// What an expression is statically known to be.
    private enum Shape {
        case node(SchemaNode, root: Bool)
        case dynamic
    }

    func check(_ e: CELExpr, self node: SchemaNode) throws(CELSyntaxError) {
        _ = try shape(e, ["self": .node(node, root: isRoot), "oldSelf": .node(node, root: isRoot)])
    }

    private func shape(_ e: CELExpr, _ scope: [String: Shape]) throws(CELSyntaxError) -> Shape {
        switch e {
        case .null, .bool, .int, .double, .string: return .dynamic
        case .list(let items):
            for item in items { _ = try shape(item, scope) }
            return .dynamic
        case .ident(let name):
            guard let s = scope[name] else { throw CELSyntaxError(message: "undeclared reference to '\(name)'") }
            return s
        case .select(let target, let field), .has(let target, let field):
            let t = try shape(target, scope)
            let selected = try select(t, field)
            if case .has = e { return .dynamic }
            return selected
        case .index(let target, let index):
            _ = try shape(index, scope)
            guard case .node(let n, _) = try shape(target, scope) else { return .dynamic }
            if n.type == "array", let items = n.items { return .node(items, root: false) }
            if let additional = n.additionalSchema { return .node(additional, root: false) }
            if n.type == "object" && !n.properties.isEmpty {
                throw CELSyntaxError(message: "found no matching overload for '_[_]' applied to an object with declared properties (use '.field')")
            }
            return .dynamic
        case .call(let name, let target, let args):
            // The receiver's declared type must offer the function, as kube's type checker demands.
            var receiver = Shape.dynamic
            if let subject = target ?? args.first { receiver = try shape(subject, scope) }
            for a in (target == nil ? Array(args.dropFirst()) : args) { _ = try shape(a, scope) }
            // cel-go checks constant regular expressions at compile time.
            if name == "matches", case .string(let pattern)? = args.last {
                do {
                    _ = try CompiledPattern(pattern)
                } catch {
                    throw CELSyntaxError(message: "invalid regular expression '\(pattern)': \(error)")
                }
            }
            if case .node(let n, _) = receiver, let type = n.type, !n.intOrString {
                let allowed: Set<String> = name == "size" ? ["string", "array", "object"] : ["string"]
                if !allowed.contains(type) {
                    throw CELSyntaxError(message: "found no matching overload for '\(name)' applied to '\(Self.celType(type))'")
                }
            }
            return .dynamic
        case .quantifier(_, let range, let variable, let body):
            var inner = scope
            switch try shape(range, scope) {
            case .node(let n, _) where n.type == "array":
                inner[variable] = n.items.map { Shape.node($0, root: false) } ?? Shape.dynamic
            case .node(let n, _) where n.type == "object" && n.additionalSchema == nil && !n.properties.isEmpty:
                throw CELSyntaxError(message: "all() and exists() need a list or a map, not an object with declared properties")
            default:
                inner[variable] = .dynamic
            }
            _ = try shape(body, inner)
            return .dynamic
        case .not(let a), .negate(let a):
            _ = try shape(a, scope)
            return .dynamic
        case .binary(_, let a, let b), .and(let a, let b), .or(let a, let b):
            _ = try shape(a, scope)
            _ = try shape(b, scope)
            return .dynamic
        case .conditional(let c, let t, let f):
            _ = try shape(c, scope)
            _ = try shape(t, scope)
            _ = try shape(f, scope)
            return .dynamic
        }
    }

    /// CEL's name for a schema type in messages.
    static func celType(_ type: String) -> String {
        switch type {
        case "integer": return "int"
        case "number": return "double"
        case "boolean": return "bool"
        case "array": return "list"
        case "object": return "map"
        default: return type
        }
    }

    private func select(_ target: Shape, _ field: String) throws(CELSyntaxError) -> Shape {
        guard case .node(let n, let root) = target else { return .dynamic }
        if let p = n.properties[field] { return .node(p, root: false) }
        if let additional = n.additionalSchema { return .node(additional, root: false) }
        // Type meta and object meta are declared on the resource root and on embedded resources
        // (model.WithTypeAndObjectMeta).
        if root || n.embeddedResource, ["apiVersion", "kind", "metadata"].contains(field) { return .dynamic }
        if n.preserveUnknownFields || n.intOrString || n.type == nil { return .dynamic }
        if n.type == "object" { throw CELSyntaxError(message: "undefined field '\(field)'") }
        throw CELSyntaxError(message: "type '\(n.type ?? "dyn")' does not support field selection")
    }
}
