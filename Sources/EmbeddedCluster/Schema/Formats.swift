import Foundation

/// The string formats kube-apiserver checks (strfmt registry after StripUnsupportedFormatsPostProcessor), as
/// far as they are cheap to check here. Unknown formats are ignored, as kube ignores unsupported ones.
/// Integer formats are not string formats: int32's range is checked by the number validator (Validation.swift).
enum Formats {
    /// False only for a checked format the string does not satisfy.
    static func isValid(_ s: String, format: String) -> Bool {
        switch format {
        case "date-time", "datetime": return isDateTime(s)
        case "date": return isDate(s)
        case "byte": return Data(base64Encoded: s) != nil
        case "uuid": return isUUID(s)
        case "ipv4": return isIPv4(s)
        default: return true
        }
    }

    private static func digits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }

    static func isDate(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy(digits), let m = Int(parts[1]), let d = Int(parts[2])
        else { return false }
        return (1...12).contains(m) && (1...31).contains(d)
    }

    /// RFC 3339 (strfmt.DateTime also accepts a space or lower-case separators).
    static func isDateTime(_ s: String) -> Bool {
        guard let sep = s.firstIndex(where: { $0 == "T" || $0 == "t" || $0 == " " }) else { return false }
        guard isDate(String(s[..<sep])) else { return false }
        var rest = s[s.index(after: sep)...]
        if rest.hasSuffix("Z") || rest.hasSuffix("z") {
            rest = rest.dropLast()
        } else if let sign = rest.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = rest[rest.index(after: sign)...].split(separator: ":", omittingEmptySubsequences: false)
            guard zone.count == 2, zone.allSatisfy({ $0.count == 2 && digits($0) }) else { return false }
            rest = rest[..<sign]
        } else {
            return false
        }
        var time = rest
        if let dot = rest.firstIndex(of: ".") {
            guard digits(rest[rest.index(after: dot)...]) else { return false }
            time = rest[..<dot]
        }
        let hms = time.split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, hms.allSatisfy({ $0.count == 2 && digits($0) }),
            let h = Int(hms[0]), let m = Int(hms[1]), let sec = Int(hms[2])
        else { return false }
        return h < 24 && m < 60 && sec <= 60
    }

    static func isUUID(_ s: String) -> Bool {
        let groups = s.split(separator: "-", omittingEmptySubsequences: false)
        guard groups.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return groups.allSatisfy { $0.allSatisfy(\.isHexDigit) }
    }

    static func isIPv4(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return false }
        return parts.allSatisfy { p in digits(p) && p.count <= 3 && (Int(p) ?? 256) <= 255 }
    }
}
