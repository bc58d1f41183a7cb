import COpenSSL

/// A notebook's access token: 32 bytes from OpenSSL's CSPRNG as hex (Jupyter accepts any string).
enum AccessToken {
    static func generate() -> String? {
        var bytes = [UInt8](repeating: 0, count: 32)
        guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else { return nil }
        return bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}
