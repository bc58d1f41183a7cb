import KubeCore

extension SchemaLoader {
    /// The list-type rules of ValidateCustomResourceDefinitionOpenAPISchema (and validateMapListKeysMapSet,
    /// which apply to new CRDs): a set holds scalars or atomic compounds, a map's keys are scalar properties
    /// that are required or defaulted and not nullable.
    static func checkListType(
        _ listType: String?, keys: [String], type: String?, items: SchemaNode?, itemsJSON: JSONValue?, path: String
    ) throws(SchemaError) {
        guard let listType else {
            if !keys.isEmpty {
                throw SchemaError(path: path + ".x-kubernetes-list-type", message: "Required value: must be map if x-kubernetes-list-map-keys is non-empty")
            }
            return
        }
        let p = path + ".x-kubernetes-list-type"
        guard ["atomic", "set", "map"].contains(listType) else {
            throw SchemaError(path: p, message: "Unsupported value: \(GoFormat.quote(listType)): supported values: \"atomic\", \"set\", \"map\"")
        }
        guard type == "array" else {
            throw SchemaError(path: path + ".type", message: "must be array if x-kubernetes-list-type is specified")
        }
        if !keys.isEmpty && listType != "map" {
            throw SchemaError(path: p, message: "Invalid value: \(GoFormat.quote(listType)): must be map if x-kubernetes-list-map-keys is non-empty")
        }
        if listType != "atomic", let items, items.nullable {
            throw SchemaError(path: path + ".items.nullable", message: "Forbidden: cannot be nullable when x-kubernetes-list-type is \(listType)")
        }
        switch listType {
        case "map":
            guard !keys.isEmpty else {
                throw SchemaError(path: path + ".x-kubernetes-list-map-keys", message: "Required value: must not be empty if x-kubernetes-list-type is map")
            }
            guard let items, items.type == "object" else {
                throw SchemaError(path: path + ".items.type", message: "must be object if parent array's x-kubernetes-list-type is map")
            }
            guard Set(keys).count == keys.count else {
                throw SchemaError(path: path + ".x-kubernetes-list-map-keys", message: "must not contain duplicate entries")
            }
            for k in keys {
                let kp = path + ".items.properties[\(k)]"
                guard let ks = items.properties[k] else {
                    throw SchemaError(path: path + ".x-kubernetes-list-map-keys", message: "Invalid value: \(GoFormat.quote(k)): entries must all be names of item properties")
                }
                if ks.type == "object" || ks.type == "array" {
                    throw SchemaError(path: kp + ".type", message: "must be a scalar type if parent array's x-kubernetes-list-type is map")
                }
                if !items.required.contains(k) && ks.defaultValue == nil {
                    throw SchemaError(path: kp + ".default", message: "Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property")
                }
                if ks.nullable {
                    throw SchemaError(path: kp + ".nullable", message: "Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable")
                }
            }
        case "set":
            if items?.type == "object" && itemsJSON?["x-kubernetes-map-type"]?.stringValue != "atomic" {
                throw SchemaError(path: path + ".items.x-kubernetes-map-type", message: "must be atomic as item of a list with x-kubernetes-list-type=set")
            }
            if items?.type == "array", let t = items?.listType, t != "atomic" {
                throw SchemaError(path: path + ".items.x-kubernetes-list-type", message: "must be atomic as item of a list with x-kubernetes-list-type=set")
            }
        default:
            break
        }
    }
}
