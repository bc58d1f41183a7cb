import KubeCore

/// Value validation of a custom resource against its structural schema, in the passes kube-apiserver runs and
/// in its order: kube-openapi's schema validator, embedded-resource checks, list-type uniqueness, then CEL
/// rules (apiextensions registry/customresource/validator.go).
struct Validator {
    let checkRules: Bool

    /// On an update (`old` set) the schema's errors in values the update left unchanged are dropped
    /// (ratcheting, KEP-4008, on by default since 1.30: apiserver/validation/ratcheting.go), so an object written
    /// before its CRD's schema tightened can still be labelled, finalized or edited elsewhere.
    func validate(_ value: JSONValue, node: SchemaNode, at path: FieldPath, old: JSONValue? = nil) -> [FieldError] {
        var errors = openAPI(value, node, path, old: old)
        errors += embedded(value, node, path, isRoot: path.elements.isEmpty)
        // strategy.go: list-set and list-map uniqueness only if the stored object kept it (ratcheting).
        if old.map({ listTypes($0, node, path).isEmpty }) ?? true { errors += listTypes(value, node, path) }
        return withRules(errors, value, node: node, at: path, old: old)
    }

    /// A `/status` write (status_strategy.go ValidateUpdate): the written status against the schema's `status`
    /// alone, as `status.…`; list-type uniqueness on the whole object, unless the stored object already broke it
    /// (ratcheting); CEL rules on the whole object. The spec is the stored one, which was judged when written:
    /// it is not validated again, as kube-apiserver does not.
    func validateStatus(_ value: JSONValue, node: SchemaNode, old: JSONValue) -> [FieldError] {
        var errors: [FieldError] = []
        if let status = value["status"], let statusNode = node.properties["status"] {
            errors += openAPI(status, statusNode, FieldPath.root.child("status"), old: old["status"])
        }
        let listErrors = listTypes(value, node, .root)
        if !listErrors.isEmpty, listTypes(old, node, .root).isEmpty { errors += listErrors }
        return withRules(errors, value, node: node, at: .root, old: old)
    }

    /// `errors` plus the CEL rules' errors, unless a blocking error makes running them unsafe.
    private func withRules(_ errors: [FieldError], _ value: JSONValue, node: SchemaNode, at path: FieldPath, old: JSONValue?) -> [FieldError] {
        var errors = errors
        guard checkRules else { return errors }
        // strategy.go hasBlockingErr: after a type, required, enum or size error the rules may not be able to
        // run safely, so they are skipped with one placeholder error (field.Invalid(nil, nil, ...)).
        if errors.contains(where: { Self.blockingReasons.contains($0.reason) }) {
            errors.append(.invalid("<nil>", .json(.null), "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"))
        } else {
            var cel = CELValidator()
            errors += cel.validate(value, old: old, node: node, at: path)
        }
        return errors
    }

    static let blockingReasons: Set<String> = [
        "FieldValueNotSupported", "FieldValueRequired", "FieldValueTooLong", "FieldValueTooMany", "FieldValueTypeInvalid",
    ]

    // MARK: - kube-openapi (k8s.io/kube-openapi/pkg/validation/validate)

    /// The JSON type name kube-openapi infers for a decoded value (type.go schemaInfoForType).
    static func typeName(_ v: JSONValue) -> String {
        switch v {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// `old` is the value an update replaces at this place, where one correlates (`correlated`): a value equal
    /// to it is not judged, as upstream turns every error under an unchanged value into a warning.
    func openAPI(_ v: JSONValue, _ n: SchemaNode, _ p: FieldPath, old: JSONValue? = nil) -> [FieldError] {
        if let old, old == v { return [] }
        let name = p.openAPI
        let field = p.openAPIField
        let types = n.typeNames

        if case .null = v {
            // schema.go: for nil data only the type and the common (enum) validators run.
            var errors: [FieldError] = []
            if !types.isEmpty && !n.nullable {
                errors.append(typeError(field, name, types.joined(separator: ","), "null"))
            }
            // validator.go basicCommonValidator: a nil value never matches an enum, even one listing null.
            if let e = n.enumValues { errors.append(enumError(field, v, e)) }
            return errors
        }

        // type.go: an integral float passes as integer, an integer passes as number.
        let actual = Self.typeName(v)
        if !types.isEmpty {
            let integralFloat = actual == "number" && (v.doubleValue.map { $0.rounded() == $0 } ?? false)
            let ok = types.contains(actual)
                || (integralFloat && types.contains("integer"))
                || (actual == "integer" && types.contains("number"))
            if !ok {
                // The other validators would mostly not apply to a value of the wrong kind; stop here.
                return [typeError(field, name, types.joined(separator: ","), actual)]
            }
        }

        var errors: [FieldError] = []
        errors += junctors(v, n, p, old: old)
        if case .string(let s) = v {
            errors += string(s, n, field, name)
            if let f = n.format, !Formats.isValid(s, format: f) {
                // formats.go FormatOf → errors.InvalidType(path, in, format, data): a type error.
                errors.append(.typeInvalid(field, .json(v), "\(name) in body must be of type \(f): \(GoFormat.quote(s))"))
            }
        }
        if case .int = v { errors += number(v, n, field, name) }
        if case .double = v { errors += number(v, n, field, name) }
        if case .array(let a) = v { errors += array(a, n, p, old: old) }
        if let e = n.enumValues, !Self.enumContains(e, v) { errors.append(enumError(field, v, e)) }
        if case .object(let o) = v { errors += object(o, n, p, old: old?.objectValue) }
        return errors
    }

    private func typeError(_ field: String, _ name: String, _ expected: String, _ actual: String) -> FieldError {
        // errors.InvalidType with string data: "%s in %s must be of type %s: %q"; mapped to field.TypeInvalid.
        .typeInvalid(field, .json(.string(actual)), "\(name) in body must be of type \(expected): \(GoFormat.quote(actual))")
    }

    /// values.go Enum: deep equality, with integer/float of the same value considered equal.
    static func enumContains(_ allowed: [JSONValue], _ v: JSONValue) -> Bool {
        allowed.contains { candidate in
            if candidate == v { return true }
            if let a = candidate.doubleValue, let b = v.doubleValue,
                Self.typeName(candidate) != "string", Self.typeName(v) != "string"
            {
                return a == b
            }
            return false
        }
    }

    /// EnumFailCode → field.NotSupported; non-string allowed values are JSON-encoded (validation.go).
    private func enumError(_ field: String, _ v: JSONValue, _ allowed: [JSONValue]) -> FieldError {
        let values = allowed.map { $0.stringValue ?? $0.serialized() }
        return .notSupported(field, .json(v), values)
    }

    private func string(_ s: String, _ n: SchemaNode, _ field: String, _ name: String) -> [FieldError] {
        var errors: [FieldError] = []
        // values.go counts runes (utf8.RuneCount): Unicode scalars, not grapheme clusters.
        let length = Int64(s.unicodeScalars.count)
        if let max = n.maxLength, length > max {
            errors.append(.tooLong(field, max: max))
        }
        if let min = n.minLength, length < min {
            errors.append(.invalid(field, .json(.string(s)), "\(name) in body should be at least \(min) chars long"))
        }
        if let p = n.pattern, !p.matches(s) {
            errors.append(.invalid(field, .json(.string(s)), "\(name) in body should match '\(p.source)'"))
        }
        return errors
    }

    /// validator.go numberValidator: a bound that fits the schema's type is compared "natively" (values.go
    /// *NativeType: an int64 value against the bound truncated to int64, printed as that integer; a float64
    /// value against the float bound); a fractional bound on an integer field is compared as floats. kube's
    /// truncation quirk (`type: number, maximum: 0.5` compares an integer value with 0) is kept on purpose.
    private func number(_ v: JSONValue, _ n: SchemaNode, _ field: String, _ name: String) -> [FieldError] {
        var errors: [FieldError] = []
        let bad = BadValue.json(v)
        let isIntegerType = n.typeNames.contains("integer") && !n.typeNames.contains("number")
        // IsValueValidAgainstRange on the value: int32 fields are range-checked; the error is a plain error,
        // reported by validation.go as field.Invalid(nil, "", msg).
        if case .int(let i) = v, isIntegerType, n.format == "int32", Int64(Int32.min) > i || i > Int64(Int32.max) {
            errors.append(.invalid("<nil>", .json(.string("")), "Checked value must be of type integer with format int32 in \(name)"))
        }
        func native(_ bound: Double) -> Bool { !isIntegerType || bound.rounded() == bound }
        if let m = n.multipleOf {
            if case .int(let i) = v, native(m), Self.truncated(m) != 0 {
                let f = Self.truncated(m)
                if i % f != 0 { errors.append(.invalid(field, bad, "\(name) in body should be a multiple of \(f)")) }
            } else if let d = v.doubleValue {
                let q = m < 1 ? (1 / m) * d : d / m
                if q.rounded() != q || !q.isFinite {
                    errors.append(.invalid(field, bad, "\(name) in body should be a multiple of \(GoFormat.float(m))"))
                }
            }
        }
        if let max = n.maximum {
            let exclusive = n.exclusiveMaximum
            let word = exclusive ? "less than" : "less than or equal to"
            if case .int(let i) = v, native(max) {
                let bound = Self.truncated(max)
                if exclusive ? i >= bound : i > bound {
                    errors.append(.invalid(field, bad, "\(name) in body should be \(word) \(bound)"))
                }
            } else if let d = v.doubleValue, exclusive ? d >= max : d > max {
                errors.append(.invalid(field, bad, "\(name) in body should be \(word) \(GoFormat.float(max))"))
            }
        }
        if let min = n.minimum {
            let exclusive = n.exclusiveMinimum
            let word = exclusive ? "greater than" : "greater than or equal to"
            if case .int(let i) = v, native(min) {
                let bound = Self.truncated(min)
                if exclusive ? i <= bound : i < bound {
                    errors.append(.invalid(field, bad, "\(name) in body should be \(word) \(bound)"))
                }
            } else if let d = v.doubleValue, exclusive ? d <= min : d < min {
                errors.append(.invalid(field, bad, "\(name) in body should be \(word) \(GoFormat.float(min))"))
            }
        }
        return errors
    }

    /// Go's `int64(f)` without its undefined behaviour for out-of-range values.
    static func truncated(_ d: Double) -> Int64 {
        if d.isNaN { return 0 }
        if d >= 9.2e18 { return Int64.max }
        if d <= -9.2e18 { return Int64.min }
        return Int64(d.rounded(.towardZero))
    }

    private func array(_ a: [JSONValue], _ n: SchemaNode, _ p: FieldPath, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        if let items = n.items {
            let oldItems = old?.arrayValue
            for (i, item) in a.enumerated() {
                errors += openAPI(item, items, p.index(i), old: oldItems.flatMap { Self.correlated(item, at: i, in: $0, n) })
            }
        }
        let field = p.openAPIField
        if let min = n.minItems, Int64(a.count) < min {
            errors.append(.invalid(field, .json(.int(Int64(a.count))), "\(p.openAPI) in body should have at least \(min) items"))
        }
        if let max = n.maxItems, Int64(a.count) > max {
            errors.append(.tooMany(field, actual: a.count, max: max))
        }
        return errors
    }

    /// The old item an update's list item replaces (ratcheting.go correlateOldValueForChildAtNewIndex): in a
    /// list-type map the item with the same keys; in a list without a type the same index; none in a set or an
    /// atomic list, whose items are judged anew unless the whole list is unchanged.
    static func correlated(_ item: JSONValue, at index: Int, in old: [JSONValue], _ n: SchemaNode) -> JSONValue? {
        switch n.listType {
        case "map": return old.first { o in n.listMapKeys.allSatisfy { o[$0] == item[$0] } }
        case "set", "atomic": return nil
        default: return index < old.count ? old[index] : nil
        }
    }

    private func object(_ o: [String: JSONValue], _ n: SchemaNode, _ p: FieldPath, old: [String: JSONValue]?) -> [FieldError] {
        let field = p.openAPIField
        let count = Int64(o.count)
        // object_validator.go returns right after a property-count failure.
        if let min = n.minProperties, count < min {
            return [.invalid(field, .json(.int(count)), "\(p.openAPI) in body should have at least \(min) properties")]
        }
        if let max = n.maxProperties, count > max {
            return [.tooMany(field, actual: o.count, max: max)]
        }
        var errors: [FieldError] = []
        if let additional = n.additionalSchema {
            for key in o.keys.sorted() where n.properties[key] == nil {
                if let value = o[key] { errors += openAPI(value, additional, p.key(key), old: old?[key]) }
            }
        }
        for key in n.properties.keys.sorted() {
            if let value = o[key], let sub = n.properties[key] { errors += openAPI(value, sub, p.child(key), old: old?[key]) }
        }
        for key in n.required where o[key] == nil {
            errors.append(.required(p.child(key).openAPIField))
        }
        return errors
    }

    /// schema_props.go: allOf/anyOf/oneOf/not. Their summary errors are plain errors, not `*Validation`, so
    /// validation.go reports them as `field.Invalid(nil, "", msg)`: field `<nil>`, value `""`.
    /// The branches see the same old value: their properties and items correlate as this node's do.
    private func junctors(_ v: JSONValue, _ n: SchemaNode, _ p: FieldPath, old: JSONValue?) -> [FieldError] {
        var errors: [FieldError] = []
        let quoted = GoFormat.quote(p.openAPI)
        func summary(_ text: String) -> FieldError { .invalid("<nil>", .json(.string("")), text) }

        if !n.anyOf.isEmpty {
            let results = n.anyOf.map { openAPI(v, $0, p, old: old) }
            if !results.contains(where: \.isEmpty) {
                errors.append(summary("\(quoted) must validate at least one schema (anyOf)"))
                // kube keeps the errors of the branch that matched best; fewest errors approximates that.
                errors += results.min(by: { $0.count < $1.count }) ?? []
            }
        }
        if !n.oneOf.isEmpty {
            let results = n.oneOf.map { openAPI(v, $0, p, old: old) }
            let valid = results.filter(\.isEmpty).count
            if valid != 1 {
                let detail = valid == 0 ? "Found none valid" : "Found \(valid) valid alternatives"
                errors.append(summary("\(quoted) must validate one and only one schema (oneOf). \(detail)"))
                if valid == 0 { errors += results.min(by: { $0.count < $1.count }) ?? [] }
            }
        }
        if !n.allOf.isEmpty {
            let results = n.allOf.map { openAPI(v, $0, p, old: old) }
            let valid = results.filter(\.isEmpty).count
            errors += results.flatMap { $0 }
            if valid != results.count {
                errors.append(summary("\(quoted) must validate all the schemas (allOf)\(valid == 0 ? ". None validated" : "")"))
            }
        }
        if let not = n.not, openAPI(v, not, p).isEmpty {
            errors.append(summary("\(quoted) must not validate the schema (not)"))
        }
        return errors
    }
}
