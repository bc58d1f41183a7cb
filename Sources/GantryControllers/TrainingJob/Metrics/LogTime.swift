import Foundation
import KubeCore

/// A log line's RFC 3339 timestamp (`2026-12-03T08:00:00.123456789Z`, as `timestamps=true` prefixes it) as whole
/// seconds and nanoseconds: comparing the strings fails when trailing zeros of the fraction are trimmed, and a
/// Double holds only about 0.1 µs of a present-day time.
struct LogTime: Comparable, Sendable {
    var seconds: Int64
    var nanos: Int64

    init?(_ text: Substring) {
        guard text.hasSuffix("Z"), let dot = text.firstIndex(of: ".") ?? text.lastIndex(of: "Z") else { return nil }
        guard let whole = Timestamp.parse(String(text[..<dot]) + "Z") else { return nil }
        seconds = Int64(whole.timeIntervalSince1970.rounded(.down))
        var nanos: Int64 = 0
        if text[dot] == "." {
            let digits = text[text.index(after: dot)..<text.index(before: text.endIndex)].prefix(9)
            guard !digits.isEmpty, let value = Int64(digits) else { return nil }
            nanos = value * Int64(pow(10, Double(9 - digits.count)))
        }
        self.nanos = nanos
    }

    static func < (a: LogTime, b: LogTime) -> Bool { (a.seconds, a.nanos) < (b.seconds, b.nanos) }
}
