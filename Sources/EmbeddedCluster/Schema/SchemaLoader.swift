import KubeCore

/// Reads an `openAPIV3Schema` into `SchemaNode`s, refusing what kube-apiserver refuses for v1 CRDs
/// (apiextensions validation.go ValidateCustomResourceDefinitionOpenAPISchema and schema/validation.go
/// ValidateStructural) and what this implementation cannot honour, always naming the schema path.
struct SchemaLoader {
    private static let plainKeys: Set<String> = [
        "type", "nullable", "format", "properties", "additionalProperties", "items", "required", "enum",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
        "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "allOf", "anyOf",
        "oneOf", "not", "default", "description", "title", "example", "externalDocs",
        "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
    ]
    /// JSON-schema keywords that v1 CRDs forbid ("must not be set" in ValidateCustomResourceDefinitionOpenAPISchema).
    private static let forbiddenKeys: Set<String> = [
        "$ref", "$schema", "id", "definitions", "patternProperties", "dependencies", "additionalItems",
    ]
    /// Inside allOf/anyOf/oneOf/not only value validations are structural ("must be empty to be structural":
    /// the generic fields and extensions belong to the skeleton).
    private static let notInJunctors: Set<String> = [
        "type", "nullable", "default", "additionalProperties", "description", "title", "x-kubernetes-int-or-string",
        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource", "x-kubernetes-list-type",
        "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
    ]

    static func load(_ json: JSONValue) throws(SchemaError) -> SchemaNode {
        let path = "openAPIV3Schema"
        guard json.objectValue != nil else { throw SchemaError(path: path, message: "must be an object") }
        guard json["type"]?.stringValue == "object" else {
            throw SchemaError(path: path + ".type", message: "must be object at the root")
        }
        return try node(json, path: path, junctor: false, isRoot: true)
    }

    /// `uncorrelatable`: the highest array (not list-type map) above this node, if any. Old values only
    /// correlate through properties, map values and list-type map items, so transition rules below such an
    /// array are refused (validation.go withForbidOldSelfValidations).
    /// `intOrStringBranch`: a junctor member under x-kubernetes-int-or-string, where kube permits
    /// `type: integer` / `type: string` (the `anyOf: [{type: integer}, {type: string}]` controller-gen emits).
    private static func node(
        _ json: JSONValue, path: String, junctor: Bool, isRoot: Bool = false, uncorrelatable: String? = nil,
        intOrStringBranch: Bool = false
    ) throws(SchemaError) -> SchemaNode {
        guard let o = json.objectValue else { throw SchemaError(path: path, message: "must be a schema object") }
        for key in o.keys.sorted() {
            if key == "type" && intOrStringBranch && ["integer", "string"].contains(o[key]?.stringValue ?? "") {
                continue
            }
            if forbiddenKeys.contains(key) {
                throw SchemaError(path: path + "." + key, message: "must not be set (not supported for v1 CustomResourceDefinitions)")
            }
            if !plainKeys.contains(key) {
                throw SchemaError(path: path + "." + key, message: "unknown schema keyword")
            }
            if junctor && notInJunctors.contains(key) {
                throw SchemaError(path: path + "." + key, message: "must be empty to be structural (inside allOf, anyOf, oneOf or not only value validations are allowed)")
            }
        }

        let intOrString = try bool(o, "x-kubernetes-int-or-string", path)
        let preserve = try bool(o, "x-kubernetes-preserve-unknown-fields", path)
        if o["x-kubernetes-preserve-unknown-fields"] != nil && !preserve {
            throw SchemaError(path: path + ".x-kubernetes-preserve-unknown-fields", message: "must be true or undefined")
        }
        let embedded = try bool(o, "x-kubernetes-embedded-resource", path)
        let type = try string(o, "type", path)
        if type == "null" {
            throw SchemaError(path: path + ".type", message: "Forbidden: type cannot be set to null, use nullable as an alternative")
        }
        if let type, !["object", "array", "string", "integer", "number", "boolean"].contains(type) {
            throw SchemaError(path: path + ".type", message: "Unsupported value: \(GoFormat.quote(type)): supported values: \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\"")
        }
        if intOrString && type != nil {
            throw SchemaError(path: path + ".type", message: "must be empty if x-kubernetes-int-or-string is true")
        }
        if !junctor && type == nil && !intOrString && !preserve {
            throw SchemaError(path: path + ".type", message: "Required value: must not be empty for specified object fields (set x-kubernetes-preserve-unknown-fields or x-kubernetes-int-or-string to leave it open)")
        }
        if embedded && type != "object" {
            throw SchemaError(path: path + ".type", message: "must be object if x-kubernetes-embedded-resource is true")
        }
        if embedded && o["properties"] == nil && !preserve {
            throw SchemaError(path: path + ".properties", message: "Required value: must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields")
        }

        var properties: [String: SchemaNode] = [:]
        if let p = o["properties"] {
            guard let po = p.objectValue else { throw SchemaError(path: path + ".properties", message: "must be an object") }
            for name in po.keys.sorted() {
                guard let sub = po[name] else { continue }
                properties[name] = try node(sub, path: path + ".properties[\(name)]", junctor: junctor, uncorrelatable: uncorrelatable)
            }
        }

        var additional: SchemaNode.Additional?
        if let a = o["additionalProperties"] {
            // Only `additionalProperties: true` may sit beside properties (ValidateCustomResourceDefinitionOpenAPISchema).
            if o["properties"] != nil && a != .bool(true) {
                throw SchemaError(path: path + ".additionalProperties", message: "Forbidden: additionalProperties and properties are mutual exclusive")
            }
            switch a {
            case .bool(true): additional = .allowed(true)
            case .bool(false):
                throw SchemaError(path: path + ".additionalProperties", message: "Forbidden: additionalProperties cannot be set to false")
            case .object:
                additional = .schema(try node(a, path: path + ".additionalProperties", junctor: junctor, uncorrelatable: uncorrelatable))
            default:
                throw SchemaError(path: path + ".additionalProperties", message: "must be a boolean or a schema")
            }
        }

        var items: SchemaNode?
        if let i = o["items"] {
            guard i.objectValue != nil else {
                throw SchemaError(path: path + ".items", message: "must be a single schema (tuple items are not supported)")
            }
            let listType = o["x-kubernetes-list-type"]?.stringValue
            let forbid = uncorrelatable ?? (listType == "map" ? nil : path)
            items = try node(i, path: path + ".items", junctor: junctor, uncorrelatable: forbid)
        } else if type == "array" {
            throw SchemaError(path: path + ".items", message: "Required value: must be specified")
        }

        var required: [String] = []
        if let r = o["required"] {
            guard let ra = r.arrayValue else { throw SchemaError(path: path + ".required", message: "must be a list of strings") }
            for (i, item) in ra.enumerated() {
                guard let s = item.stringValue else {
                    throw SchemaError(path: path + ".required[\(i)]", message: "must be a string")
                }
                required.append(s)
            }
        }

        var enumValues: [JSONValue]?
        if let e = o["enum"] {
            guard let ea = e.arrayValue else { throw SchemaError(path: path + ".enum", message: "must be a list") }
            enumValues = ea
        }

        if try bool(o, "uniqueItems", path) {
            // v1 CRDs refuse it rather than pay for an O(n²) check; list-type set is the replacement.
            throw SchemaError(path: path + ".uniqueItems", message: "Forbidden: uniqueItems cannot be set to true since the runtime complexity becomes quadratic")
        }

        var pattern: CompiledPattern?
        if let p = try string(o, "pattern", path) {
            do {
                pattern = try CompiledPattern(p)
            } catch {
                throw SchemaError(path: path + ".pattern", message: "Invalid value: \(GoFormat.quote(p)): must be a valid regular expression, but isn't: \(error)")
            }
        }

        let multipleOf = try number(o, "multipleOf", path)
        if let m = multipleOf, m <= 0 {
            throw SchemaError(path: path + ".multipleOf", message: "Invalid value: \(GoFormat.float(m)): must be greater than zero")
        }

        let listType = try string(o, "x-kubernetes-list-type", path)
        var listMapKeys: [String] = []
        if let k = o["x-kubernetes-list-map-keys"] {
            guard let ka = k.arrayValue else {
                throw SchemaError(path: path + ".x-kubernetes-list-map-keys", message: "must be a list of strings")
            }
            for item in ka {
                guard let s = item.stringValue else {
                    throw SchemaError(path: path + ".x-kubernetes-list-map-keys", message: "must be a list of strings")
                }
                listMapKeys.append(s)
            }
        }
        try checkListType(listType, keys: listMapKeys, type: type, items: items, itemsJSON: o["items"], path: path)
        if let mapType = try string(o, "x-kubernetes-map-type", path) {
            guard mapType == "atomic" || mapType == "granular" else {
                throw SchemaError(path: path + ".x-kubernetes-map-type", message: "Unsupported value: \(GoFormat.quote(mapType)): supported values: \"atomic\", \"granular\"")
            }
            guard type == "object" else {
                throw SchemaError(path: path + ".type", message: "must be object if x-kubernetes-map-type is specified")
            }
        }

        let branch = intOrString || intOrStringBranch
        let allOf = try junctorList(o, "allOf", path, intOrString: branch)
        let anyOf = try junctorList(o, "anyOf", path, intOrString: branch)
        let oneOf = try junctorList(o, "oneOf", path, intOrString: branch)
        var not: SchemaNode?
        if let n = o["not"] { not = try node(n, path: path + ".not", junctor: true) }

        let result = SchemaNode(
            type: type, nullable: try bool(o, "nullable", path), format: try string(o, "format", path),
            intOrString: intOrString, preserveUnknownFields: preserve, embeddedResource: embedded,
            properties: properties, additionalProperties: additional, items: items, required: required,
            enumValues: enumValues, minimum: try number(o, "minimum", path), maximum: try number(o, "maximum", path),
            exclusiveMinimum: try bool(o, "exclusiveMinimum", path), exclusiveMaximum: try bool(o, "exclusiveMaximum", path),
            multipleOf: multipleOf, minLength: try count(o, "minLength", path), maxLength: try count(o, "maxLength", path),
            pattern: pattern, minItems: try count(o, "minItems", path), maxItems: try count(o, "maxItems", path),
            minProperties: try count(o, "minProperties", path), maxProperties: try count(o, "maxProperties", path),
            listType: listType, listMapKeys: listMapKeys, allOf: allOf, anyOf: anyOf, oneOf: oneOf, not: not,
            defaultValue: o["default"], rules: [])

        if let d = o["default"] { try checkDefault(d, node: result, path: path) }
        guard let v = o["x-kubernetes-validations"] else { return result }
        // Rules are checked against the finished node (field references, fieldPath), then attached.
        guard let va = v.arrayValue else {
            throw SchemaError(path: path + ".x-kubernetes-validations", message: "must be a list")
        }
        var rules: [ValidationRule] = []
        for (i, r) in va.enumerated() {
            rules.append(try ValidationRule.parse(r, path: path + ".x-kubernetes-validations[\(i)]", node: result,
                isRoot: isRoot, uncorrelatable: uncorrelatable))
        }
        return result.with(rules: rules)
    }

    /// kube refuses a CRD whose defaults would not validate or would be pruned (apiextensions
    /// validation.go: "must not have unknown fields", and the default validated against its schema).
    private static func checkDefault(_ value: JSONValue, node: SchemaNode, path: String) throws(SchemaError) {
        var pruned = value
        let unknown = Pruner.prune(&pruned, node: node, at: FieldPath.root, isRoot: false)
        if let first = unknown.first {
            throw SchemaError(path: path + ".default", message: "Invalid value: must not have unknown fields: \(first)")
        }
        let errors = Validator(checkRules: false).validate(value, node: node, at: .root)
        if let first = errors.first {
            throw SchemaError(path: path + ".default", message: first.description)
        }
    }

    private static func junctorList(
        _ o: [String: JSONValue], _ key: String, _ path: String, intOrString: Bool
    ) throws(SchemaError) -> [SchemaNode] {
        guard let v = o[key] else { return [] }
        guard let a = v.arrayValue else { throw SchemaError(path: path + "." + key, message: "must be a list of schemas") }
        var out: [SchemaNode] = []
        for (i, s) in a.enumerated() {
            out.append(try node(s, path: path + ".\(key)[\(i)]", junctor: true, intOrStringBranch: intOrString))
        }
        return out
    }

    private static func bool(_ o: [String: JSONValue], _ key: String, _ path: String) throws(SchemaError) -> Bool {
        guard let v = o[key] else { return false }
        guard let b = v.boolValue else { throw SchemaError(path: path + "." + key, message: "must be a boolean") }
        return b
    }

    private static func string(_ o: [String: JSONValue], _ key: String, _ path: String) throws(SchemaError) -> String? {
        guard let v = o[key] else { return nil }
        guard let s = v.stringValue else { throw SchemaError(path: path + "." + key, message: "must be a string") }
        return s
    }

    private static func number(_ o: [String: JSONValue], _ key: String, _ path: String) throws(SchemaError) -> Double? {
        guard let v = o[key] else { return nil }
        guard let d = v.doubleValue else { throw SchemaError(path: path + "." + key, message: "must be a number") }
        return d
    }

    private static func count(_ o: [String: JSONValue], _ key: String, _ path: String) throws(SchemaError) -> Int64? {
        guard let v = o[key] else { return nil }
        guard let i = v.intValue, i >= 0 else {
            throw SchemaError(path: path + "." + key, message: "must be a non-negative integer")
        }
        return i
    }
}
