import Foundation
import KubeCore

/// A Kubernetes resource quantity (`500m`, `2`, `1Gi`, `640Gi`, `1e3`, `128974848`), held exactly.
///
/// Grammar and canonical form follow apimachinery's `resource.Quantity` (k8s.io/apimachinery/pkg/api/resource,
/// quantity.go): a signed decimal number, then a binary suffix (Ki…Ei), a decimal suffix (n u m "" k M G T P E)
/// or an exponent (e3, E-2). The value is a `Decimal` (38 significant digits), so sums and comparisons of
/// requests against allocatable are exact; the simulation never needs more.
struct ResourceQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    enum Format: Sendable, Hashable { case binarySI, decimalSI, decimalExponent }

    var value: Decimal
    var format: Format

    init(_ value: Decimal, format: Format = .decimalSI) {
        self.value = value
        self.format = format
    }

    init(_ int: Int64, format: Format = .decimalSI) { self.init(Decimal(int), format: format) }

    static let zero = ResourceQuantity(Decimal(0))

    struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        var text: String
        var description: String {
            "invalid quantity \"\(text)\": expected a number with an optional suffix (500m, 2, 1.5, 64Gi, 100M, 1e3)"
        }
    }

    static let binarySuffixes: [(String, Int)] = [("Ki", 10), ("Mi", 20), ("Gi", 30), ("Ti", 40), ("Pi", 50), ("Ei", 60)]
    static let decimalSuffixes: [(String, Int)] = [("n", -9), ("u", -6), ("m", -3), ("k", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15), ("E", 18)]

    /// Parses the quantity grammar; anything else is a `ParseError` (never a trap: specs come from users).
    static func parse(_ raw: String) throws(ParseError) -> ResourceQuantity {
        let text = raw.simTrimmed
        var numberEnd = text.startIndex
        for (i, c) in zip(text.indices, text) {
            if c.isNumber || c == "." || ((c == "+" || c == "-") && i == text.startIndex) { numberEnd = text.index(after: i) } else { break }
        }
        let number = String(text[..<numberEnd])
        let suffix = String(text[numberEnd...])
        guard !number.isEmpty, number.contains(where: \.isNumber), number.filter({ $0 == "." }).count <= 1,
            let mantissa = Decimal(string: number, locale: Locale(identifier: "en_US_POSIX"))
        else { throw ParseError(text: raw) }
        if suffix.isEmpty { return ResourceQuantity(mantissa, format: .decimalSI) }
        if let (_, shift) = binarySuffixes.first(where: { $0.0 == suffix }) {
            return ResourceQuantity(mantissa * pow(Decimal(2), shift), format: .binarySI)
        }
        if let (_, exponent) = decimalSuffixes.first(where: { $0.0 == suffix }) {
            return ResourceQuantity(mantissa * pow10(exponent), format: .decimalSI)
        }
        if let first = suffix.first, first == "e" || first == "E", let exponent = Int(suffix.dropFirst()), abs(exponent) <= 30 {
            return ResourceQuantity(mantissa * pow10(exponent), format: .decimalExponent)
        }
        throw ParseError(text: raw)
    }

    /// A quantity from a JSON field: strings are parsed, numbers taken as they are (`cpu: 2`, `gpu: 8`).
    static func from(_ json: JSONValue?) -> ResourceQuantity? {
        switch json {
        case .string(let s): return try? parse(s)
        case .int(let i): return ResourceQuantity(i)
        case .double(let d): return ResourceQuantity(Decimal(d))
        default: return nil
        }
    }

    static func pow10(_ exponent: Int) -> Decimal {
        exponent >= 0 ? pow(Decimal(10), exponent) : 1 / pow(Decimal(10), -exponent)
    }

    static func < (a: ResourceQuantity, b: ResourceQuantity) -> Bool { a.value < b.value }
    static func == (a: ResourceQuantity, b: ResourceQuantity) -> Bool { a.value == b.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }

    static func + (a: ResourceQuantity, b: ResourceQuantity) -> ResourceQuantity {
        ResourceQuantity(a.value + b.value, format: a.value == 0 ? b.format : a.format)
    }
    static func - (a: ResourceQuantity, b: ResourceQuantity) -> ResourceQuantity {
        ResourceQuantity(a.value - b.value, format: a.format)
    }

    /// The value in thousandths, rounded up (what the scheduler scores on for cpu).
    var milliValue: Int64 { Self.int64((value * 1000), roundingUp: true) }
    /// The value rounded up to a whole number (bytes, GPUs, pods).
    var intValue: Int64 { Self.int64(value, roundingUp: true) }
    var doubleValue: Double { NSDecimalNumber(decimal: value).doubleValue }

    static func int64(_ d: Decimal, roundingUp: Bool) -> Int64 {
        var input = d
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, 0, roundingUp ? .up : .plain)
        let n = NSDecimalNumber(decimal: rounded)
        if rounded > Decimal(Int64.max) { return Int64.max }
        if rounded < Decimal(Int64.min) { return Int64.min }
        return n.int64Value
    }

    /// Canonical text as apimachinery writes it: the largest suffix that keeps the number whole
    /// (`1024Mi` → `1Gi`, `1000` → `1k`, `0.5` → `500m`); below nano it rounds up to `n`.
    var description: String {
        if value == 0 { return "0" }
        let negative = value < 0
        let magnitude = negative ? -value : value
        let sign = negative ? "-" : ""
        if format == .binarySI, Self.isWhole(magnitude), magnitude >= 1024 {
            for (suffix, shift) in Self.binarySuffixes.reversed() {
                let unit = pow(Decimal(2), shift)
                let q = magnitude / unit
                if Self.isWhole(q) { return sign + Self.text(q) + suffix }
            }
        }
        if Self.isWhole(magnitude) {
            if format == .binarySI { return sign + Self.text(magnitude) }
            for (suffix, exponent) in Self.decimalSuffixes.reversed() where exponent > 0 {
                let q = magnitude / Self.pow10(exponent)
                if Self.isWhole(q) { return sign + Self.text(q) + (format == .decimalExponent ? "e\(exponent)" : suffix) }
            }
            return sign + Self.text(magnitude)
        }
        for (suffix, exponent) in [("m", -3), ("u", -6), ("n", -9)] {
            let q = magnitude / Self.pow10(exponent)
            if Self.isWhole(q) { return sign + Self.text(q) + (format == .decimalExponent ? "e\(exponent)" : suffix) }
        }
        return sign + Self.text(Decimal(Self.int64(magnitude * Self.pow10(9), roundingUp: true))) + "n"
    }

    static func isWhole(_ d: Decimal) -> Bool {
        var input = d
        var rounded = Decimal()
        NSDecimalRound(&rounded, &input, 0, .plain)
        return rounded == d
    }

    static func text(_ d: Decimal) -> String { NSDecimalNumber(decimal: d).stringValue }
}

/// A map of resource name → quantity (`requests`, `allocatable`).
typealias ResourceList = [String: ResourceQuantity]

extension Dictionary where Key == String, Value == ResourceQuantity {
    /// Reads `{cpu: "2", memory: "1Gi"}`; unparsable entries are skipped (the API server validates them).
    init(json: JSONValue?) {
        self.init()
        for (name, raw) in json?.objectValue ?? [:] {
            if let q = ResourceQuantity.from(raw) { self[name] = q }
        }
    }

    var json: JSONValue { .object(mapValues { .string($0.description) }) }

    /// Adds `other` entry by entry.
    func adding(_ other: ResourceList) -> ResourceList {
        merging(other) { $0 + $1 }
    }

    /// Entry-wise maximum (how init containers combine with the sum of regular containers).
    func maxing(_ other: ResourceList) -> ResourceList {
        merging(other) { Swift.max($0, $1) }
    }
}
