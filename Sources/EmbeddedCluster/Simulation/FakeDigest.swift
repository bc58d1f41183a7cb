/// Stable fake identifiers (image digests, machine IDs, container IDs) derived from a name.
///
/// Not cryptographic: FNV-1a 64 with distinct seeds, concatenated. `String.hashValue` would change per process,
/// and the same image must show the same `imageID` across runs for tests and demos.
enum FakeDigest {
    static func fnv1a(_ text: String, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// `length` lowercase hex characters (up to 64).
    static func hex(_ text: String, length: Int = 64) -> String {
        var out = ""
        var seed: UInt64 = 0
        while out.count < length {
            let h = String(fnv1a(text, seed: seed &* 0x9e37_79b9_7f4a_7c15), radix: 16)
            out += String(repeating: "0", count: 16 - h.count) + h
            seed += 1
        }
        return String(out.prefix(length))
    }

    static func sha256(_ text: String) -> String { "sha256:" + hex(text) }

    static func uuid(_ text: String) -> String {
        let h = Array(hex(text, length: 32))
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(h[$0]) }.joined(separator: "-")
    }
}
