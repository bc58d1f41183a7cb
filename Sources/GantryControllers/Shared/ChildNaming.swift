/// Names of the children Gantry creates. Kubernetes names are DNS labels (≤ 63 characters for pods' hostnames
/// and Services), so long owner names are shortened with a stable hash suffix instead of failing.
public enum ChildNaming {
    public static func name(_ owner: String, _ suffix: String) -> String {
        let full = suffix.isEmpty ? owner : "\(owner)-\(suffix)"
        guard full.count > 63 else { return full }
        let hash = String(fnv1a(full), radix: 36).prefix(6)
        let keep = 63 - hash.count - 1 - (suffix.isEmpty ? 0 : suffix.count + 1)
        let head = String(owner.prefix(max(1, keep)))
        return suffix.isEmpty ? "\(head)-\(hash)" : "\(head)-\(hash)-\(suffix)"
    }

    static func fnv1a(_ s: String) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in s.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100000001b3
        }
        return h
    }
}
