import KubeCore

/// Runs `x-kubernetes-validations` over an object tree like apiextensions' schema/cel/validation.go: rules of
/// a node see that node's value as `self` (never null: null values are not validated by rules), transition
/// rules (using `oldSelf`) run only where an old value correlates (same property or map key, or list-type map
/// item with the same keys); a rule without `oldSelf` is skipped where that old value equals the new one (ratcheting).
struct CELValidator {
    mutating func validate(_ value: JSONValue, old: JSONValue?, node: SchemaNode, at path: FieldPath) -> [FieldError] {
        if case .null = value { return [] }
        var errors = rules(value, old: old, node: node, at: path)
        switch value {
        case .object(let o):
            for key in o.keys.sorted() {
                guard let child = o[key] else { continue }
                let oldChild = old?.objectValue?[key]
                if let sub = node.properties[key] {
                    errors += validate(child, old: oldChild, node: sub, at: path.child(key))
                } else if let sub = node.additionalSchema {
                    errors += validate(child, old: oldChild, node: sub, at: path.key(key))
                }
            }
        case .array(let a):
            guard let items = node.items else { break }
            let oldItems = node.listType == "map" ? (old?.arrayValue ?? []) : []
            for (i, item) in a.enumerated() {
                let oldItem = oldItems.first { Self.sameKeys($0, item, node.listMapKeys) }
                errors += validate(item, old: oldItem, node: items, at: path.index(i))
            }
        default:
            break
        }
        return errors
    }

    private static func sameKeys(_ a: JSONValue, _ b: JSONValue, _ keys: [String]) -> Bool {
        keys.allSatisfy { a[$0] == b[$0] }
    }

    private func rules(_ value: JSONValue, old: JSONValue?, node: SchemaNode, at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let field = path.fieldPath
        // kube ≤1.34 prints the schema type as the bad value (`Invalid value: "object": ...`); 1.35 (PR #133832)
        // omits it for objects and arrays and prints scalars themselves. We follow the long-standing form.
        let shown = BadValue.json(.string(node.celTypeName))
        let unchanged = !node.rules.isEmpty && old == value
        for rule in node.rules {
            if rule.usesOldSelf && old == nil { continue }
            // Ratcheting (cel/validation.go, 1.30+): a rule without oldSelf is not held against a value the update
            // left unchanged (upstream evaluates it and turns a failure into a warning).
            if !rule.usesOldSelf && unchanged { continue }
            var variables: [String: JSONValue] = ["self": value]
            if let old { variables["oldSelf"] = old }
            let evaluator = CELEvaluator(variables: variables, patterns: rule.patterns)
            let ruleText = rule.message.isEmpty ? rule.rule.trimmed : rule.message.trimmed
            let result: JSONValue
            do {
                result = try evaluator.eval(rule.program)
            } catch {
                if error.message.hasPrefix("no such overload") {
                    errors.append(.invalid(field, shown, "'\(error.message)': call arguments did not match a supported operator, function or macro signature for rule: \(ruleText)"))
                } else {
                    errors.append(.invalid(field, shown, "\(error.message) evaluating rule: \(ruleText)"))
                }
                continue
            }
            if result == .bool(true) { continue }

            var target = field
            if let fp = rule.fieldPath { target = path.elements.isEmpty ? fp : field + "." + fp }
            var detail = rule.message.isEmpty ? "failed rule: \(ruleText)" : rule.message.trimmed
            if let m = rule.messageExpression, case .string(let s)? = try? evaluator.eval(m) {
                let t = s.trimmed
                // evalMessageExpression: an empty or multi-line result falls back to the static message.
                if !t.isEmpty && !t.contains("\n") { detail = t }
            }
            switch rule.reason {
            case "FieldValueForbidden": errors.append(.forbidden(target, detail))
            case "FieldValueRequired": errors.append(.required(target, detail))
            case "FieldValueDuplicate": errors.append(.duplicate(target, shown))
            default: errors.append(.invalid(target, shown, detail))
            }
        }
        return errors
    }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
