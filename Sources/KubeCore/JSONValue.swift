/// A JSON document as a Swift value: the one representation of Kubernetes objects shared by every layer.
///
/// Integers are kept apart from floating-point numbers because Kubernetes fields (`generation`,
/// `replicas`, ports, quantities in status) are int64 and must round-trip exactly.
/// Objects are unordered (Go's encoder sorts keys too); serialisation sorts keys for stable output.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public static let emptyObject = JSONValue.object([:])
}

// MARK: - Reading

extension JSONValue {
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// The value as an integer; a double with no fractional part counts (JSON does not distinguish).
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d) where d.rounded() == d && abs(d) < 9.0e15: return Int64(d)
        default: return nil
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    /// Member of an object; `nil` when this is not an object or has no such key. Setting `nil` removes the key.
    public subscript(key: String) -> JSONValue? {
        get { if case .object(let o) = self { return o[key] } else { return nil } }
        set {
            var o = objectValue ?? [:]
            o[key] = newValue
            self = .object(o)
        }
    }

    /// Nested member along a path of keys, e.g. `obj[path: "metadata", "name"]`.
    /// Setting creates intermediate objects; setting `nil` removes the last key.
    public subscript(path keys: String...) -> JSONValue? {
        get { self[path: keys] }
        set { self[path: keys] = newValue }
    }

    public subscript(path keys: [String]) -> JSONValue? {
        get {
            var current: JSONValue? = self
            for key in keys { current = current?[key] }
            return current
        }
        set {
            guard let first = keys.first else {
                if let newValue { self = newValue }
                return
            }
            if keys.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .emptyObject
            if child.objectValue == nil { child = .emptyObject }
            child[path: Array(keys.dropFirst())] = newValue
            self[first] = child
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { serialized() }
}
