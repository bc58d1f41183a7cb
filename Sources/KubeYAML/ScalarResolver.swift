import KubeCore

/// The type a scalar resolves to, before it becomes a `JSONValue` (values) or a `String` (mapping keys).
enum ResolvedScalar: Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// Above `Int64.max`: go-yaml returns a uint64 here, which Kubernetes' JSON decoding reads as a float.
    case uint(UInt64)
    case double(Double)
    case string(String)

    var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .uint(let u): return .double(Double(u))
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        }
    }
}

/// Implicit typing of plain scalars exactly as Kubernetes reads manifests: sigs.k8s.io/yaml decodes with its
/// go-yaml v2 fork (YAML 1.1 flavour), whose rules live in `resolve()` of gopkg.in/yaml.v2/resolve.go
/// (vendored in kubernetes/kubernetes as vendor/gopkg.in/yaml.v2/resolve.go, v2.4.0):
/// - the first byte picks a hint: sign, digit, one of `yYnNtTfFoO~`, `.`, anything else is a string;
/// - a fixed table gives bools (y/Y/yes/Yes/YES, n/N/no/No/NO, true/True/TRUE, false/False/FALSE,
///   on/On/ON, off/Off/OFF), nulls ("", ~, null, Null, NULL) and .nan/.inf/+.inf/-.inf in three casings;
/// - `.`-hinted scalars are tried with Go's `strconv.ParseFloat`;
/// - sign/digit-hinted scalars lose *all* underscores, then try `strconv.ParseInt(s, 0, 64)` (so `0x`, `0o`,
///   `0b` and a leading `0` for octal), then `ParseUint`, then floats matching
///   `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
///   Timestamps are tried first there, but go-yaml v2 hands them to `interface{}` as the original string, and
///   they can never parse as numbers, so they simply stay strings here.
/// - A float out of range (`1e999`) is a `strconv` range error, so the scalar stays a string.
enum ScalarResolver {
    /// The value of an untagged plain scalar.
    static func resolvePlain(_ text: String) -> ResolvedScalar {
        guard let first = text.utf8.first else { return .null }
        switch first {
        case UInt8(ascii: "y"), UInt8(ascii: "Y"), UInt8(ascii: "n"), UInt8(ascii: "N"),
            UInt8(ascii: "t"), UInt8(ascii: "T"), UInt8(ascii: "f"), UInt8(ascii: "F"),
            UInt8(ascii: "o"), UInt8(ascii: "O"), UInt8(ascii: "~"):
            return table(text) ?? .string(text)
        case UInt8(ascii: "."):
            if let known = table(text) { return known }
            if let d = goParseFloatDotted(Array(text.utf8)) { return .double(d) }
            return .string(text)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if let known = table(text) { return known }
            return number(text.utf8.filter { $0 != UInt8(ascii: "_") }) ?? .string(text)
        default:
            return .string(text)
        }
    }

    /// The value of a scalar carrying an explicit core-schema tag (`!!int 3`, `!!float "1"`), as go-yaml v2
    /// does it: resolve as if plain, then demand the tagged kind (an int may widen to a float).
    static func resolveTagged(_ text: String, tag: String) -> ResolvedScalar? {
        let resolved = resolvePlain(text)
        switch (tag, resolved) {
        case (Tag.null, .null), (Tag.bool, .bool), (Tag.int, .int), (Tag.int, .uint), (Tag.float, .double):
            return resolved
        case (Tag.float, .int(let i)): return .double(Double(i))
        case (Tag.float, .uint(let u)): return .double(Double(u))
        default: return nil
        }
    }

    private static func table(_ text: String) -> ResolvedScalar? {
        switch text {
        case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON": return .bool(true)
        case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF": return .bool(false)
        case "~", "null", "Null", "NULL": return .null
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        default: return nil
        }
    }

    /// Int, then uint, then YAML-style float, on the underscore-free text.
    private static func number(_ plain: [UInt8]) -> ResolvedScalar? {
        if let i = goParseInt(plain) { return .int(i) }
        if let u = goParseUint(plain[...]) { return .uint(u) }
        if isYAMLStyleFloat(plain), let d = finiteDouble(plain) { return .double(d) }
        return nil
    }

    /// `strconv.ParseInt(s, 0, 64)`: optional sign, then `ParseUint` with base prefixes, then the int64 range.
    private static func goParseInt(_ s: [UInt8]) -> Int64? {
        var digits = s[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard let magnitude = goParseUint(digits) else { return nil }
        if negative {
            if magnitude == UInt64(Int64.max) + 1 { return Int64.min }
            return magnitude <= UInt64(Int64.max) ? -Int64(magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// `strconv.ParseUint(s, 0, 64)`: `0b`/`0o`/`0x` need at least one more byte, otherwise a leading `0`
    /// means octal (so "0" is 0 and "08" fails, later becoming the float 8.0 as in go-yaml).
    private static func goParseUint(_ s: ArraySlice<UInt8>) -> UInt64? {
        guard let first = s.first else { return nil }
        var base: UInt64 = 10
        var digits = s
        if first == UInt8(ascii: "0") {
            let second = s.dropFirst().first.map { $0 | 0x20 }  // ASCII lower-case
            if s.count >= 3, second == UInt8(ascii: "b") { base = 2; digits = s.dropFirst(2) }
            else if s.count >= 3, second == UInt8(ascii: "o") { base = 8; digits = s.dropFirst(2) }
            else if s.count >= 3, second == UInt8(ascii: "x") { base = 16; digits = s.dropFirst(2) }
            else { base = 8; digits = s.dropFirst() }
        }
        var value: UInt64 = 0
        for c in digits {
            let d: UInt64
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt64(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): d = UInt64(c - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): d = UInt64(c - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard d < base else { return nil }
            let (shifted, o1) = value.multipliedReportingOverflow(by: base)
            let (sum, o2) = shifted.addingReportingOverflow(d)
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }

    /// go-yaml's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    static func isYAMLStyleFloat(_ s: [UInt8]) -> Bool {
        var i = 0
        func digits() -> Int {
            let start = i
            while i < s.count, isDigit(s[i]) { i += 1 }
            return i - start
        }
        if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        } else {
            guard digits() > 0 else { return false }
            if i < s.count, s[i] == UInt8(ascii: ".") { i += 1; _ = digits() }
        }
        if i < s.count, s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E") {
            i += 1
            if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { return false }
        }
        return i == s.count
    }

    /// `strconv.ParseFloat` on a scalar starting with `.`: Go syntax `.digits[e[sign]digits]`, where an
    /// underscore may only sit between two digits.
    private static func goParseFloatDotted(_ s: [UInt8]) -> Double? {
        for (i, c) in s.enumerated() where c == UInt8(ascii: "_") {
            guard i > 0, i + 1 < s.count, isDigit(s[i - 1]), isDigit(s[i + 1]) else { return nil }
        }
        let plain = s.filter { $0 != UInt8(ascii: "_") }
        guard isYAMLStyleFloat(plain) else { return nil }
        return finiteDouble(plain)
    }

    /// Swift's parser is correctly rounded like Go's; an infinite result is Go's range error.
    private static func finiteDouble(_ s: [UInt8]) -> Double? {
        guard let d = Double(String(decoding: s, as: UTF8.self)), d.isFinite else { return nil }
        return d
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }
}

/// The core-schema tags as libyaml reports them (the `!!` handle already expanded).
enum Tag {
    static let prefix = "tag:yaml.org,2002:"
    static let str = prefix + "str"
    static let null = prefix + "null"
    static let bool = prefix + "bool"
    static let int = prefix + "int"
    static let float = prefix + "float"
    static let merge = prefix + "merge"
    static let binary = prefix + "binary"
    static let timestamp = prefix + "timestamp"

    /// Tags whose scalars are resolved and checked; `!!binary` is decoded; other tags (`!foo`, `!`,
    /// `!!timestamp`) leave the text a string, as go-yaml v2 does for `interface{}` targets.
    static let resolvable: Set<String> = [null, bool, int, float]
}
