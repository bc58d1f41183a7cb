import KubeCore

/// A small builder for OpenAPI v3 structural schemas, so CRDs are generated from Swift (`gantry crds`)
/// instead of kept by hand. Every node takes a description: `kubectl explain` is the manual.
public enum Schema {
    public static func object(_ description: String, _ properties: [String: JSONValue], required: [String] = [],
                              rules: [(rule: String, message: String)] = []) -> JSONValue {
        var v: JSONValue = ["type": "object", "description": .string(description), "properties": .object(properties)]
        if !required.isEmpty { v["required"] = .array(required.sorted().map(JSONValue.string)) }
        if !rules.isEmpty {
            v["x-kubernetes-validations"] = .array(rules.map { ["rule": .string($0.rule), "message": .string($0.message)] })
        }
        return v
    }

    /// Transition rules making every property of an object schema immutable except `mutable`: one rule per
    /// field so the API server's answer names it. Written on the parent (not `self == oldSelf` on the field)
    /// because a rule on an optional field does not run when the field is added or removed.
    public static func immutable(_ object: JSONValue, except mutable: Set<String>, kind: String) -> JSONValue {
        var v = object
        let fields = (object["properties"]?.objectValue ?? [:]).keys.filter { !mutable.contains($0) }.sorted()
        let rules: [JSONValue] = fields.map { f in
            ["rule": .string("has(self.\(f)) == has(oldSelf.\(f)) && (!has(self.\(f)) || self.\(f) == oldSelf.\(f))"),
             "message": .string("spec.\(f) is immutable after creation: create a new \(kind) (a new name, or delete and apply again) to change it"),
             "fieldPath": .string(".\(f)")]
        }
        v["x-kubernetes-validations"] = .array((object["x-kubernetes-validations"]?.arrayValue ?? []) + rules)
        return v
    }

    public static func string(_ description: String, enum values: [String]? = nil, pattern: String? = nil,
                              maxLength: Int? = nil, minLength: Int? = nil, default value: String? = nil) -> JSONValue {
        var v: JSONValue = ["type": "string", "description": .string(description)]
        if let values { v["enum"] = .array(values.map(JSONValue.string)) }
        if let pattern { v["pattern"] = .string(pattern) }
        if let maxLength { v["maxLength"] = .int(Int64(maxLength)) }
        if let minLength { v["minLength"] = .int(Int64(minLength)) }
        if let value { v["default"] = .string(value) }
        return v
    }

    public static func integer(_ description: String, minimum: Int? = nil, maximum: Int? = nil, default value: Int? = nil) -> JSONValue {
        var v: JSONValue = ["type": "integer", "format": "int32", "description": .string(description)]
        if let minimum { v["minimum"] = .int(Int64(minimum)) }
        if let maximum { v["maximum"] = .int(Int64(maximum)) }
        if let value { v["default"] = .int(Int64(value)) }
        return v
    }

    public static func number(_ description: String, minimum: Double? = nil) -> JSONValue {
        var v: JSONValue = ["type": "number", "description": .string(description)]
        if let minimum { v["minimum"] = .double(minimum) }
        return v
    }

    public static func boolean(_ description: String, default value: Bool? = nil) -> JSONValue {
        var v: JSONValue = ["type": "boolean", "description": .string(description)]
        if let value { v["default"] = .bool(value) }
        return v
    }

    public static func array(_ description: String, of items: JSONValue, maxItems: Int? = nil) -> JSONValue {
        var v: JSONValue = ["type": "array", "description": .string(description), "items": items]
        if let maxItems { v["maxItems"] = .int(Int64(maxItems)) }
        return v
    }

    public static func stringMap(_ description: String, maxProperties: Int? = nil, rules: [(rule: String, message: String)] = []) -> JSONValue {
        var v: JSONValue = ["type": "object", "description": .string(description), "additionalProperties": ["type": "string"]]
        if let maxProperties { v["maxProperties"] = .int(Int64(maxProperties)) }
        if !rules.isEmpty {
            v["x-kubernetes-validations"] = .array(rules.map { ["rule": .string($0.rule), "message": .string($0.message)] })
        }
        return v
    }

    /// Kubernetes label syntax (apimachinery validation.IsQualifiedName / IsValidLabelValue) as CEL regexes.
    public static let qualifiedNamePattern = "^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
    public static let labelValuePattern = "^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$"

    /// A map of labels whose keys and values Kubernetes would accept on a Pod or Node.
    public static func labelMap(_ description: String, field: String) -> JSONValue {
        stringMap(description, maxProperties: 64, rules: [
            ("self.all(k, k.matches('\(qualifiedNamePattern)'))",
             "\(field): every key must be a label key: an optional DNS prefix and '/', then at most 63 characters of [A-Za-z0-9-_.] starting and ending with a letter or digit"),
            ("self.all(k, self[k].matches('\(labelValuePattern)'))",
             "\(field): every value must be a label value: at most 63 characters of [A-Za-z0-9-_.] starting and ending with a letter or digit"),
        ])
    }

    /// A value in another API's shape (pod volumes, tolerations), kept whole.
    public static func passthrough(_ description: String) -> JSONValue {
        ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
    }
}
