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

    public static func stringMap(_ description: String) -> JSONValue {
        ["type": "object", "description": .string(description), "additionalProperties": ["type": "string"]]
    }

    /// A value in another API's shape (pod volumes, tolerations), kept whole.
    public static func passthrough(_ description: String) -> JSONValue {
        ["type": "object", "description": .string(description), "x-kubernetes-preserve-unknown-fields": true]
    }
}
