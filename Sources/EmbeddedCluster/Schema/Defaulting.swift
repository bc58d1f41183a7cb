import KubeCore

/// Defaulting as apiextensions does it on every decode (schema/defaulting/algorithm.go and prunenulls.go):
/// first nulls of non-nullable fields without a default are dropped, then defaults fill absent fields — and
/// nulls of non-nullable fields (since 1.20) — wherever the parent object exists. A default is never applied
/// inside an object that is itself absent, unless that object was just created by its own default.
enum Defaulter {
    static func apply(_ x: inout JSONValue, _ s: SchemaNode) {
        pruneNulls(&x, s)
        defaults(&x, s)
    }

    private static func schema(for key: String, in s: SchemaNode?) -> SchemaNode? {
        guard let s else { return nil }
        return s.properties[key] ?? s.additionalSchema
    }

    private static func isNonNullableNull(_ v: JSONValue, _ s: SchemaNode?) -> Bool {
        guard case .null = v, let s else { return false }
        return !s.nullable
    }

    /// PruneNonNullableNullsWithoutDefaults.
    private static func pruneNulls(_ x: inout JSONValue, _ s: SchemaNode?) {
        switch x {
        case .object(var o):
            for key in Array(o.keys) {
                guard var value = o[key] else { continue }
                let sub = schema(for: key, in: s)
                if isNonNullableNull(value, sub) && sub?.defaultValue == nil {
                    o[key] = nil
                } else {
                    pruneNulls(&value, sub)
                    o[key] = value
                }
            }
            x = .object(o)
        case .array(var a):
            for i in a.indices { pruneNulls(&a[i], s?.items) }
            x = .array(a)
        default:
            break
        }
    }

    /// Default: set missing (or non-nullable null) properties, then recurse into every child, defaulted ones
    /// included, so nested defaults inside a defaulted object apply too.
    private static func defaults(_ x: inout JSONValue, _ s: SchemaNode) {
        switch x {
        case .object(var o):
            for (key, prop) in s.properties {
                guard let d = prop.defaultValue else { continue }
                if let v = o[key], !isNonNullableNull(v, prop) { continue }
                o[key] = d
            }
            for key in Array(o.keys) {
                guard var value = o[key] else { continue }
                if let prop = s.properties[key] {
                    defaults(&value, prop)
                } else if let additional = s.additionalSchema {
                    if isNonNullableNull(value, additional), let d = additional.defaultValue {
                        value = d
                    }
                    defaults(&value, additional)
                }
                o[key] = value
            }
            x = .object(o)
        case .array(var a):
            guard let items = s.items else { return }
            for i in a.indices {
                if isNonNullableNull(a[i], items), let d = items.defaultValue { a[i] = d }
                defaults(&a[i], items)
            }
            x = .array(a)
        default:
            break
        }
    }
}
