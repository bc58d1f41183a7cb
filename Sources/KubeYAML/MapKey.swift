/// Mapping keys become JSON object keys the way sigs.k8s.io/yaml's `convertToJSONableObject` does it
/// (vendor/sigs.k8s.io/yaml/yaml.go): strings as they are, ints in decimal, bools as `true`/`false`,
/// floats through Go's `strconv.FormatFloat(f, 'g', -1, 32)` (with `.inf`, `-.inf`, `.nan`); any other key
/// (null, a uint64 beyond int64, a collection) is rejected there too.
enum MapKey {
    static func string(for key: ResolvedScalar) -> String? {
        switch key {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .double(let d): return goFormatFloat32(d)
        case .null, .uint: return nil
        }
    }

    /// Go's shortest `'g'` formatting of `Float(d)`: exponent form when the decimal exponent is below -4 or
    /// at least 6 (Go's rule for shortest precision), with a signed exponent of at least two digits.
    static func goFormatFloat32(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        let f = Float(d)
        if f.isInfinite { return f < 0 ? "-.inf" : ".inf" }
        let (negative, digits, point) = shortestDigits(f)
        let sign = negative ? "-" : ""
        guard !digits.isEmpty else { return sign + "0" }
        let exponent = point - 1
        if exponent < -4 || exponent >= 6 {
            var mantissa = String(digits.first ?? "0")
            if digits.count > 1 { mantissa += "." + digits.dropFirst() }
            let magnitude = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (magnitude.count < 2 ? "0" : "") + magnitude
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    /// Shortest round-trip decimal digits of a Float (taken from Swift's own shortest `description`) and the
    /// position of the decimal point relative to them: value = 0.DIGITS × 10^point.
    private static func shortestDigits(_ f: Float) -> (negative: Bool, digits: String, point: Int) {
        var text = Substring(f.description)
        let negative = text.hasPrefix("-")
        if negative { text = text.dropFirst() }
        var exponent = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: e)...]) ?? 0
            text = text[..<e]
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts.first ?? ""
        let fraction = parts.count > 1 ? parts[1] : ""
        var digits = Substring(whole + fraction)
        var point = whole.count + exponent
        while digits.first == "0" { digits = digits.dropFirst(); point -= 1 }
        while digits.last == "0" { digits = digits.dropLast() }
        return (negative, String(digits), digits.isEmpty ? 0 : point)
    }
}
