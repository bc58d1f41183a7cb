import CYAML

/// How the emitter writes scalars so that readers give back the same value.
enum ScalarStyle {
    /// Plain when that reads back as the same string; double-quoted when a YAML 1.1 reader would type it
    /// (or fold it); a literal block `|` for multi-line text. libyaml itself downgrades a plain or literal
    /// request it cannot honour (`a: b`, `- x`, `#x`, ` a`, trailing spaces) to a quoted style.
    static func style(for s: String) -> yaml_scalar_style_t {
        // Breaks other than \n (\r, U+0085, U+2028, U+2029) are normalised by readers inside literal and
        // single-quoted scalars; only double quotes keep them (as escapes).
        var newline = false
        var previous: (UInt8, UInt8) = (0, 0)
        for c in s.utf8 {
            switch (previous.0, previous.1, c) {
            case (_, _, UInt8(ascii: "\r")), (_, 0xC2, 0x85), (0xE2, 0x80, 0xA8), (0xE2, 0x80, 0xA9):
                return YAML_DOUBLE_QUOTED_SCALAR_STYLE
            case (_, _, UInt8(ascii: "\n")): newline = true
            default: break
            }
            previous = (previous.1, c)
        }
        if newline { return YAML_LITERAL_SCALAR_STYLE }
        return readsAsString(s) ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE
    }

    /// Whether `s` written plain reads back as the string `s`, for go-yaml v2 (kubectl) and, like go-yaml's
    /// own encoder, for other YAML 1.1 readers that also type timestamps, base-60 numbers, `=` (the value
    /// key) and out-of-range floats like `1e999` (a string to Go, infinity to others).
    static func readsAsString(_ s: String) -> Bool {
        guard let first = s.utf8.first else { return false }
        // Fast path: only these first bytes can start a typed, float-like, timestamp or special scalar.
        guard ScalarResolver.isDigit(first) || "yYnNtTfFoO~.+-<=".utf8.contains(first) else { return true }
        guard ScalarResolver.resolvePlain(s) == .string(s), s != "<<", s != "=" else { return false }
        let bytes = Array(s.utf8)
        let float = ScalarResolver.isYAMLStyleFloat(bytes.filter { $0 != UInt8(ascii: "_") })
        return !float && !looksLikeTimestamp(bytes) && !isBase60(bytes)
    }

    /// YAML 1.1 timestamps all start `YYYY-`.
    private static func looksLikeTimestamp(_ b: [UInt8]) -> Bool {
        b.count >= 5 && b.prefix(4).allSatisfy(ScalarResolver.isDigit) && b[4] == UInt8(ascii: "-")
    }

    /// go-yaml's `isBase60Float`: `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, e.g. `1:20`.
    private static func isBase60(_ b: [UInt8]) -> Bool {
        var i = 0
        if i < b.count, b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") { i += 1 }
        guard i < b.count, ScalarResolver.isDigit(b[i]) else { return false }
        while i < b.count, ScalarResolver.isDigit(b[i]) || b[i] == UInt8(ascii: "_") { i += 1 }
        var groups = 0
        while i < b.count, b[i] == UInt8(ascii: ":") {
            i += 1
            let start = i
            while i < b.count, i - start < 2, ScalarResolver.isDigit(b[i]) { i += 1 }
            let group = b[start..<i]
            guard !group.isEmpty, group.count == 1 || group.first ?? 0 <= UInt8(ascii: "5") else { return false }
            groups += 1
        }
        guard groups > 0 else { return false }
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            while i < b.count, ScalarResolver.isDigit(b[i]) || b[i] == UInt8(ascii: "_") { i += 1 }
        }
        return i == b.count
    }

    /// Swift's shortest round-trip text, which always keeps a `.` or an exponent, so it reads back as a
    /// float (never an int); the non-finite values in YAML's spelling.
    static func format(_ d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return d.description
    }
}
