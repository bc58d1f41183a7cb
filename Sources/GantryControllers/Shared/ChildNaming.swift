/// Names and label values of the children Gantry derives from a user's object name. Every result is valid by
/// construction (API-SEMANTICS rule 32): a TrainingJob may be named `resnet50.v2` or `3d-unet` (DNS-1123
/// subdomains), but its Service needs a DNS-1035 label (a letter first, no dots, ≤ 63) and its pods' hostnames
/// DNS-1123 labels. A name that is not already such a label is rewritten and given a stable hash of the
/// original, so `a.b` and `a-b` never collide; a name that is already valid is kept as it is.
public enum ChildNaming {
    public static let maxLabelLength = 63

    public static func name(_ owner: String, _ suffix: String) -> String {
        let full = suffix.isEmpty ? owner : "\(owner)-\(suffix)"
        if full.count <= maxLabelLength, isDNS1035Label(full) { return full }
        let hash = String(fnv1a(full), radix: 36).prefix(6)
        var head = sanitized(owner)
        if head.first.map({ !$0.isLetter }) ?? true { head = "g" + head }  // DNS-1035 starts with a letter
        let keep = maxLabelLength - hash.count - 1 - (suffix.isEmpty ? 0 : suffix.count + 1)
        head = String(head.prefix(max(1, keep)))
        while head.hasSuffix("-") { head.removeLast() }
        return suffix.isEmpty ? "\(head)-\(hash)" : "\(head)-\(hash)-\(suffix)"
    }

    /// A label value naming the owner: the name itself when it is a valid label value (≤ 63 characters of
    /// `[A-Za-z0-9._-]`, alphanumeric at both ends), else a shortened form with a stable hash.
    public static func labelValue(_ owner: String) -> String {
        if owner.count <= maxLabelLength, isLabelValue(owner) { return owner }
        let hash = String(fnv1a(owner), radix: 36).prefix(6)
        var head = String(sanitized(owner).prefix(maxLabelLength - hash.count - 1))
        while head.hasSuffix("-") { head.removeLast() }
        return head.isEmpty ? String(hash) : "\(head)-\(hash)"
    }

    /// Lower-case letters, digits and '-'; everything else becomes '-'.
    static func sanitized(_ s: String) -> String {
        String(s.lowercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "-" })
    }

    public static func isDNS1035Label(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last, s.count <= maxLabelLength else { return false }
        return ("a"..."z").contains(first) && (isLowerAlnum(last))
            && s.unicodeScalars.allSatisfy { isLowerAlnum($0) || $0 == "-" }
    }

    public static func isLabelValue(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last else { return true }
        func alnum(_ c: Unicode.Scalar) -> Bool { c.isASCII && (c.properties.isAlphabetic || ("0"..."9").contains(c)) }
        return s.count <= maxLabelLength && alnum(first) && alnum(last)
            && s.unicodeScalars.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" || $0 == "." }
    }

    static func isLowerAlnum(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}
