import Foundation

/// `JSONValue` is Codable so typed models can embed free-form parts (pod templates, hyperparameters).
extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else { throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value") }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

/// Bridges between untyped values and typed Codable models.
extension JSONValue {
    /// Decodes a typed model from this value (JSONDecoder's rules, without writing the value out as bytes:
    /// `JSONValueDecoder`). Errors carry the coding path, so messages can name the field.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        try JSONValueDecoder.decode(T.self, from: self, at: [])
    }

    /// Encodes a typed model into a value.
    public init(encoding value: some Encodable) throws {
        let data = try JSONEncoder().encode(value)
        self = try JSONValue.parse(Array(data))
    }

    /// Removes `null` members recursively: a typed model's absent optionals should not become explicit nulls.
    public func droppingNulls() -> JSONValue {
        switch self {
        case .object(let o): return .object(o.compactMapValues { $0.isNull ? nil : $0.droppingNulls() })
        case .array(let a): return .array(a.map { $0.droppingNulls() })
        default: return self
        }
    }
}
