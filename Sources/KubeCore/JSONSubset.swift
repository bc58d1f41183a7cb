extension JSONValue {
    /// Whether every field of `desired` is present here with the same value: the test for "a child already is
    /// as desired". Objects may carry more (server defaults, other managers' fields); arrays must have the
    /// same length and match element by element (a list is owned whole, as a merge patch replaces it whole);
    /// numbers compare by value (`1` and `1.0` are one quantity).
    public func contains(_ desired: JSONValue) -> Bool {
        switch (self, desired) {
        case let (.object(have), .object(want)):
            return want.allSatisfy { key, value in
                if value == .null { return have[key] == nil || have[key] == .null }
                return have[key]?.contains(value) ?? false
            }
        case let (.array(have), .array(want)):
            return have.count == want.count && zip(have, want).allSatisfy { $0.contains($1) }
        case let (.int(a), .double(b)), let (.double(b), .int(a)):
            return Double(a) == b
        default:
            return self == desired
        }
    }
}
