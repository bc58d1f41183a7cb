import KubeCore

/// Go's fmt verbs as kube-apiserver's messages use them, so our texts match what kubectl users see.
enum GoFormat {
    /// `%v` of a float64: strconv's shortest 'g' form, which switches to exponent form when the exponent is
    /// below -4 or at least 6 ("if precision was the shortest possible, use precision 6 for this decision",
    /// strconv/ftoa.go), so a minimum of 1000000 prints as "1e+06" and 0.5 as "0.5".
    static func float(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Inf" : "+Inf" }
        if d == 0 { return d.sign == .minus ? "-0" : "0" }
        let (negative, digits, exp) = shortestDigits(d)
        var out = negative ? "-" : ""
        if exp < -4 || exp >= 6 {
            out += String(digits.first ?? "0")
            if digits.count > 1 { out += "." + digits.dropFirst() }
            out += "e" + (exp < 0 ? "-" : "+")
            let e = String(abs(exp))
            out += e.count < 2 ? "0" + e : e
        } else if exp < 0 {
            out += "0." + String(repeating: "0", count: -exp - 1) + digits
        } else if digits.count <= exp + 1 {
            out += digits + String(repeating: "0", count: exp + 1 - digits.count)
        } else {
            let cut = digits.index(digits.startIndex, offsetBy: exp + 1)
            out += digits[..<cut] + "." + digits[cut...]
        }
        return out
    }

    /// Shortest round-tripping decimal digits and the decimal exponent of the first digit, from Swift's
    /// description (which is also shortest round-trip).
    static func shortestDigits(_ d: Double) -> (Bool, String, Int) {
        var text = "\(abs(d))"
        var exp = 0
        if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exp = Int(text[text.index(after: e)...]) ?? 0
            text = String(text[..<e])
        }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        let intPart = parts.first.map(String.init) ?? "0"
        let fracPart = parts.count > 1 ? String(parts[1]) : ""
        var digits = intPart + fracPart
        var pointExp = intPart.count - 1 + exp
        while digits.hasPrefix("0") && digits.count > 1 {
            digits.removeFirst()
            pointExp -= 1
        }
        while digits.hasSuffix("0") && digits.count > 1 { digits.removeLast() }
        return (d < 0, digits, pointExp)
    }

    /// `%v` of a JSON number as Go holds it (int64 or float64).
    static func number(_ v: JSONValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        default: return v.serialized()
        }
    }

    /// `%q` / `strconv.Quote`: double-quoted with Go escapes.
    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{07}": out += "\\a"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case "\u{0B}": out += "\\v"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    /// `%#v` of a decoded JSON value (`map[string]interface {}{"a":1}`, `[]interface {}{"x"}`), keys sorted as
    /// fmt prints maps.
    static func goSyntax(_ v: JSONValue) -> String {
        switch v {
        case .null: return "interface {}(nil)"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return quote(s)
        case .array(let a): return "[]interface {}{" + a.map(goSyntax).joined(separator: ", ") + "}"
        case .object(let o):
            let items = o.keys.sorted().map { quote($0) + ":" + goSyntax(o[$0] ?? .null) }
            return "map[string]interface {}{" + items.joined(separator: ", ") + "}"
        }
    }

    /// `%v` / `%+v` of a decoded JSON value (`map[a:1 b:[x y]]`, nil as `<nil>`), keys sorted as fmt prints maps.
    static func plain(_ v: JSONValue) -> String {
        switch v {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return float(d)
        case .string(let s): return s
        case .array(let a): return "[" + a.map(plain).joined(separator: " ") + "]"
        case .object(let o): return "map[" + o.keys.sorted().map { $0 + ":" + plain(o[$0] ?? .null) }.joined(separator: " ") + "]"
        }
    }
}
