/// A byte-level JSON reader producing `JSONValue` directly.
///
/// Why not Foundation: `JSONSerialization` builds NSNumber/NSDictionary trees (bool and number are
/// indistinguishable on Linux, and every node is boxed), and `JSONDecoder` needs a fixed schema, while watch
/// events and list pages carry arbitrary objects. Decoding them is the hottest path of the operator
/// (see docs/benchmarks.md), so it reads UTF-8 bytes once with no intermediate tree.
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let message: String
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

extension JSONValue {
    /// Parses one JSON document; trailing whitespace is allowed, anything else after it is an error.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONParseError) -> JSONValue {
        try parse(bytes, droppingManagedFields: false)
    }

    /// The same; `droppingManagedFields`: every `metadata.managedFields` is checked but not built (caches drop them anyway,
    /// and in a list of Pods they are a large part of the bytes: building them only to free them cost memory).
    public static func parse(_ bytes: some Collection<UInt8>, droppingManagedFields: Bool) throws(JSONParseError) -> JSONValue {
        try parseDocument(bytes, droppingManagedFields: droppingManagedFields) { (parser) throws(JSONParseError) in
            try parser.parseValue(depth: 0)
        }
    }

    /// Reads `bytes` as one document with `read` (the whole value, or a list or watch event masked while read):
    /// trailing whitespace is allowed, anything else after the value is an error.
    static func parseDocument(_ bytes: some Collection<UInt8>, droppingManagedFields: Bool,
                              _ read: (inout JSONByteParser) throws(JSONParseError) -> JSONValue) throws(JSONParseError) -> JSONValue {
        let array = bytes as? [UInt8] ?? Array(bytes)
        return try array.withUnsafeBufferPointer { (buf) throws(JSONParseError) -> JSONValue in
            var parser = JSONByteParser(buf, droppingManagedFields: droppingManagedFields)
            let value = try read(&parser)
            parser.skipWhitespace()
            if parser.pos != buf.count { throw parser.fail("unexpected data after the document") }
            return value
        }
    }

    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        try parse(Array(string.utf8))
    }
}

struct JSONByteParser {
    let buf: UnsafeBufferPointer<UInt8>
    var pos = 0
    /// Nesting limit: a hostile document must not overflow the stack.
    static let maxDepth = 512

    let droppingManagedFields: Bool

    init(_ buf: UnsafeBufferPointer<UInt8>, droppingManagedFields: Bool = false) {
        self.buf = buf
        self.droppingManagedFields = droppingManagedFields
    }

    func fail(_ message: String) -> JSONParseError { JSONParseError(offset: pos, message: message) }

    mutating func skipWhitespace() {
        while pos < buf.count {
            switch buf[pos] {
            case 0x20, 0x0A, 0x0D, 0x09: pos += 1
            default: return
            }
        }
    }

    /// `isMetadata`: the value is an object's `metadata` (where `managedFields` may be dropped).
    mutating func parseValue(depth: Int, isMetadata: Bool = false) throws(JSONParseError) -> JSONValue {
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
        skipWhitespace()
        guard pos < buf.count else { throw fail("unexpected end of input") }
        switch buf[pos] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth, isMetadata: isMetadata)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func expectLiteral(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard pos + count <= buf.count else { throw fail("unexpected end of input") }
        let p = word.utf8Start
        for i in 0..<count where buf[pos + i] != p[i] { throw fail("invalid literal") }
        pos += count
    }

    mutating func parseObject(depth: Int, isMetadata: Bool = false) throws(JSONParseError) -> JSONValue {
        pos += 1
        var object: [String: JSONValue] = [:]
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") { pos += 1; return .object(object) }
        while true {
            let key = try parseMemberKey()
            if isMetadata && key == "managedFields" {
                try skipValue(depth: depth + 1)
            } else {
                object[key] = try parseValue(depth: depth + 1, isMetadata: droppingManagedFields && key == "metadata")
            }
            if try !continues(closingWith: UInt8(ascii: "}")) { return .object(object) }
        }
    }

    /// An object member's key and the ':' after it.
    @inline(__always)
    mutating func parseMemberKey() throws(JSONParseError) -> String {
        skipWhitespace()
        guard pos < buf.count, buf[pos] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try parseString()
        skipWhitespace()
        guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        pos += 1
        return key
    }

    /// After a member or an element: true at ',' (another follows), false past `close` (the container ended).
    @inline(__always)
    mutating func continues(closingWith close: UInt8) throws(JSONParseError) -> Bool {
        let isObject = close == UInt8(ascii: "}")
        skipWhitespace()
        guard pos < buf.count else { throw fail(isObject ? "unexpected end of input in object" : "unexpected end of input in array") }
        if buf[pos] == UInt8(ascii: ",") { pos += 1; return true }
        if buf[pos] == close { pos += 1; return false }
        throw fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
    }

    /// Reads one value as strictly as `parseValue` but builds no containers (dropped `managedFields`).
    mutating func skipValue(depth: Int) throws(JSONParseError) {
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
        skipWhitespace()
        guard pos < buf.count else { throw fail("unexpected end of input") }
        switch buf[pos] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = buf[pos] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            skipWhitespace()
            if pos < buf.count, buf[pos] == close { pos += 1; return }
            while true {
                if isObject { _ = try parseMemberKey() }
                try skipValue(depth: depth + 1)
                if try !continues(closingWith: close) { return }
            }
        default:
            _ = try parseValue(depth: depth)  // a scalar: nothing to save by not building it
        }
    }

    mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        pos += 1
        var array: [JSONValue] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(array) }
        while true {
            array.append(try parseValue(depth: depth + 1))
            if try !continues(closingWith: UInt8(ascii: "]")) { return .array(array) }
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        pos += 1  // opening quote
        let start = pos
        // Fast path: no escapes, decode the slice directly.
        while pos < buf.count {
            let c = buf[pos]
            if c == UInt8(ascii: "\"") {
                let s = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
                pos += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            pos += 1
        }
        var bytes = Array(UnsafeBufferPointer(rebasing: buf[start..<pos]))
        while pos < buf.count {
            let c = buf[pos]
            switch c {
            case UInt8(ascii: "\""):
                pos += 1
                return String(decoding: bytes, as: UTF8.self)
            case UInt8(ascii: "\\"):
                pos += 1
                guard pos < buf.count else { throw fail("unexpected end of input in escape") }
                let e = buf[pos]
                pos += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try parseHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // Surrogate pair: a lone high surrogate becomes U+FFFD as Go does.
                        if pos + 1 < buf.count, buf[pos] == UInt8(ascii: "\\"), buf[pos + 1] == UInt8(ascii: "u") {
                            pos += 2
                            let low = try parseHex4()
                            if (0xDC00...0xDFFF).contains(low) {
                                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                            } else {
                                scalar = 0xFFFD
                            }
                        } else {
                            scalar = 0xFFFD
                        }
                    }
                    let u = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                    bytes.append(contentsOf: Array(String(Character(u)).utf8))
                default: throw fail("invalid escape")
                }
            default:
                if c < 0x20 { throw fail("control character in string") }
                bytes.append(c)
                pos += 1
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard pos + 4 <= buf.count else { throw fail("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = buf[pos]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit")
            }
            v = v << 4 | d
            pos += 1
        }
        return v
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = pos
        var isInteger = true
        if pos < buf.count, buf[pos] == UInt8(ascii: "-") { pos += 1 }
        let digitsStart = pos
        while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
        if pos == digitsStart { throw fail("invalid value") }
        if pos < buf.count, buf[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            let fracStart = pos
            while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
            if pos == fracStart { throw fail("invalid number") }
        }
        if pos < buf.count, buf[pos] == UInt8(ascii: "e") || buf[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < buf.count, buf[pos] == UInt8(ascii: "+") || buf[pos] == UInt8(ascii: "-") { pos += 1 }
            let expStart = pos
            while pos < buf.count, (0x30...0x39).contains(buf[pos]) { pos += 1 }
            if pos == expStart { throw fail("invalid exponent") }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: buf[start..<pos]), as: UTF8.self)
        if isInteger, let i = Int64(text) { return .int(i) }
        guard let d = Double(text) else { throw fail("invalid number") }
        return .double(d)
    }
}
