/// `!!binary` scalars: go-yaml v2 decodes them with Go's `base64.StdEncoding` (padding required, line
/// breaks ignored) and hands the bytes on as a string; JSON encoding then replaces invalid UTF-8 with U+FFFD,
/// which `String(decoding:as:)` does too.
enum Base64 {
    static func decodeToString(_ text: String) -> String? {
        var sextets: [UInt8] = []
        var padding = 0
        for c in text.utf8 where c != UInt8(ascii: "\n") && c != UInt8(ascii: "\r") {
            if c == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let v = value(of: c) else { return nil }
            sextets.append(v)
        }
        guard (sextets.count + padding) % 4 == 0, padding <= 2, padding == 0 || sextets.count % 4 != 0,
            sextets.count % 4 != 1
        else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(sextets.count * 3 / 4)
        var i = 0
        while i < sextets.count {
            let chunk = sextets[i..<min(i + 4, sextets.count)]
            var bits: UInt32 = 0
            for s in chunk { bits = bits << 6 | UInt32(s) }
            bits <<= UInt32(6 * (4 - chunk.count))
            for k in 0..<(chunk.count - 1) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(16 - 8 * k))) }
            i += 4
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0") + 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }
}
