extension JSONValue {
    /// The value of one key of a top-level JSON object, parsed alone: every other value is stepped over without
    /// being built or checked (a list page's `metadata`, read before its items so that the next page can be
    /// asked for while this one is parsed). Nil when the document is not an object, lacks the key, or is cut
    /// short; a malformed document is reported by the full parse that follows, not here.
    public static func skimTopLevel(_ bytes: [UInt8], key: String) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buf -> JSONValue? in
            var skim = JSONSkimmer(buf: buf)
            return skim.value(ofTopLevelKey: Array(key.utf8))
        }
    }
}

/// Steps over JSON values by their brackets and quotes only.
struct JSONSkimmer {
    let buf: UnsafeBufferPointer<UInt8>
    var pos = 0

    mutating func skipWhitespace() {
        while pos < buf.count, buf[pos] == 0x20 || buf[pos] == 0x0A || buf[pos] == 0x0D || buf[pos] == 0x09 { pos += 1 }
    }

    /// Moves past a string whose opening quote is at `pos`; returns the bytes between the quotes (escapes kept).
    mutating func skipString() -> Range<Int>? {
        pos += 1
        let start = pos
        while pos < buf.count {
            switch buf[pos] {
            case UInt8(ascii: "\""): pos += 1; return start..<(pos - 1)
            case UInt8(ascii: "\\"): pos += 2
            default: pos += 1
            }
        }
        return nil
    }

    /// Moves past one value of any kind; false if the input ends first.
    mutating func skipValue() -> Bool {
        skipWhitespace()
        guard pos < buf.count else { return false }
        switch buf[pos] {
        case UInt8(ascii: "\""): return skipString() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while pos < buf.count {
                switch buf[pos] {
                case UInt8(ascii: "\""): if skipString() == nil { return false }; continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { pos += 1; return true }
                default: break
                }
                pos += 1
            }
            return false
        default:
            // A number or a literal: up to the next delimiter.
            while pos < buf.count, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(buf[pos]) { pos += 1 }
            return true
        }
    }

    mutating func value(ofTopLevelKey key: [UInt8]) -> JSONValue? {
        skipWhitespace()
        guard pos < buf.count, buf[pos] == UInt8(ascii: "{") else { return nil }
        pos += 1
        while true {
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: "\""), let name = skipString() else { return nil }
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ":") else { return nil }
            pos += 1
            skipWhitespace()
            let start = pos
            guard skipValue() else { return nil }
            if buf[name].elementsEqual(key) { return try? JSONValue.parse(UnsafeBufferPointer(rebasing: buf[start..<pos])) }
            skipWhitespace()
            guard pos < buf.count, buf[pos] == UInt8(ascii: ",") else { return nil }
            pos += 1
        }
    }
}
