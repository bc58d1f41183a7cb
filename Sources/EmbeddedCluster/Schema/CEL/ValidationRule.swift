import KubeCore

/// One `x-kubernetes-validations` entry, parsed and checked at schema load.
struct ValidationRule: Sendable {
    let rule: String
    let message: String
    let messageExpression: CELExpr?
    /// The Status cause reason: FieldValueInvalid (default), FieldValueForbidden, FieldValueRequired or
    /// FieldValueDuplicate (apiextensions types.go FieldValueErrorReason).
    let reason: String?
    /// `fieldPath` normalised to `field.Path` spelling relative to the node (`spec.x`, `labels[a]`).
    let fieldPath: String?
    let program: CELExpr
    let usesOldSelf: Bool
    /// The rule's and its message expression's constant `matches` patterns, compiled (the checker refused
    /// any that does not compile).
    let patterns: [String: CompiledPattern]

    static let reasons: Set<String> = ["FieldValueInvalid", "FieldValueForbidden", "FieldValueRequired", "FieldValueDuplicate"]

    /// Reads the entry; `node` is the schema the rule sits on, used to check field references like kube's
    /// compiler does ("undefined field 'x'") and to resolve `fieldPath`.
    static func parse(
        _ json: JSONValue, path: String, node: SchemaNode, isRoot: Bool, uncorrelatable: String?
    ) throws(SchemaError) -> ValidationRule {
        guard let o = json.objectValue else { throw SchemaError(path: path, message: "must be an object") }
        for key in o.keys.sorted() where !["rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"].contains(key) {
            throw SchemaError(path: path + "." + key, message: "unknown field of a validation rule")
        }
        guard let rule = o["rule"]?.stringValue, !rule.trimmed.isEmpty else {
            throw SchemaError(path: path + ".rule", message: "Required value: rule is not specified")
        }
        if let optional = o["optionalOldSelf"], optional != .bool(false) {
            throw SchemaError(path: path + ".optionalOldSelf", message: "optionalOldSelf is not supported by the embedded server")
        }
        // The message checks of ValidateCustomResourceDefinitionOpenAPISchema.
        let message = try string(o, "message", path) ?? ""
        let m = path + ".message"
        if !message.isEmpty && message.trimmed.isEmpty {
            throw SchemaError(path: m, message: "Invalid value: \(GoFormat.quote(message)): message must be non-empty if specified")
        }
        if message.trimmed.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) {
            throw SchemaError(path: m, message: "Invalid value: \(GoFormat.quote(message)): message must not contain line breaks")
        }
        if rule.trimmed.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) && message.trimmed.isEmpty {
            throw SchemaError(path: m, message: "Required value: message must be specified if rule contains line breaks")
        }
        let reason = try string(o, "reason", path)
        if let reason, !reasons.contains(reason) {
            throw SchemaError(path: path + ".reason", message: "Unsupported value: \(GoFormat.quote(reason)): supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"")
        }

        let program = try compile(rule, path: path + ".rule", node: node, isRoot: isRoot)
        let usesOldSelf = program.usesOldSelf
        if usesOldSelf, let within = uncorrelatable {
            throw SchemaError(path: path + ".rule", message: "Invalid value: \(GoFormat.quote(rule)): oldSelf cannot be used on the uncorrelatable portion of the schema within \(within)")
        }

        var messageExpression: CELExpr?
        if let m = try string(o, "messageExpression", path) {
            messageExpression = try compile(m, path: path + ".messageExpression", node: node, isRoot: isRoot)
        }

        var fieldPath: String?
        if let f = try string(o, "fieldPath", path) {
            do {
                fieldPath = try normalise(fieldPath: f, node: node)
            } catch {
                throw SchemaError(path: path + ".fieldPath", message: "Invalid value: \(GoFormat.quote(f)): \(error.message)")
            }
        }
        var patterns: [String: CompiledPattern] = [:]
        for source in program.constantPatterns + (messageExpression?.constantPatterns ?? []) {
            patterns[source] = try? CompiledPattern(source)
        }
        return ValidationRule(rule: rule, message: message, messageExpression: messageExpression, reason: reason,
            fieldPath: fieldPath, program: program, usesOldSelf: usesOldSelf, patterns: patterns)
    }

    private static func compile(_ source: String, path: String, node: SchemaNode, isRoot: Bool) throws(SchemaError) -> CELExpr {
        do {
            let expr = try CELParser.parse(source)
            try CELChecker(isRoot: isRoot).check(expr, self: node)
            return expr
        } catch {
            throw SchemaError(path: path, message: "Invalid value: \(GoFormat.quote(source)): compilation failed: \(error.message)")
        }
    }

    private static func string(_ o: [String: JSONValue], _ key: String, _ path: String) throws(SchemaError) -> String? {
        guard let v = o[key] else { return nil }
        guard let s = v.stringValue else { throw SchemaError(path: path + "." + key, message: "must be a string") }
        return s
    }

    /// `fieldPath` as cel/validation.go ValidFieldPath accepts it: `.a.b`, `.a['key.with.dots']`, each step an
    /// existing property or a map key; array notation for list indexes is not allowed.
    static func normalise(fieldPath: String, node: SchemaNode) throws(CELSyntaxError) -> String {
        var out = ""
        var schema = node
        var rest = Substring(fieldPath)
        func step(_ name: String, named: Bool) throws(CELSyntaxError) {
            if named {
                guard let next = schema.properties[name] else { throw CELSyntaxError(message: "does not refer to a valid field") }
                out += out.isEmpty ? name : "." + name
                schema = next
            } else {
                guard let next = schema.additionalSchema else { throw CELSyntaxError(message: "does not refer to a valid field") }
                out += "[\(name)]"
                schema = next
            }
        }
        guard !rest.isEmpty else { throw CELSyntaxError(message: "must not be empty") }
        while let c = rest.first {
            if c == "." {
                rest = rest.dropFirst()
                let name = rest.prefix { $0 != "." && $0 != "[" }
                guard !name.isEmpty else { throw CELSyntaxError(message: "unexpected end of JSON path") }
                rest = rest.dropFirst(name.count)
                try step(String(name), named: !schema.properties.isEmpty)
            } else if c == "[" {
                guard rest.hasPrefix("['"), let close = rest.firstRange(of: "']") else {
                    throw CELSyntaxError(message: "expected single quoted string")
                }
                let name = String(rest[rest.index(rest.startIndex, offsetBy: 2)..<close.lowerBound])
                rest = rest[close.upperBound...]
                try step(name, named: !schema.properties.isEmpty)
            } else {
                throw CELSyntaxError(message: "expected [ or . but got: \(c)")
            }
        }
        return out
    }
}
