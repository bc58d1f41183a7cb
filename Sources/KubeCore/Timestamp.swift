import Foundation

/// RFC 3339 timestamps as Kubernetes writes them (`2026-12-01T13:36:28Z`, second precision;
/// `MicroTime` fields use `.000000Z`).
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    /// Microsecond precision, for `events.k8s.io/v1` `eventTime` and Lease `renewTime`.
    public static func formatMicro(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = format(Date(timeIntervalSince1970: seconds))
        let digits = String(micros)
        return String(base.dropLast()) + "." + String(repeating: "0", count: 6 - digits.count) + digits + "Z"
    }

    /// Parses both precisions and numeric offsets; nil on anything else.
    public static func parse(_ text: String) -> Date? {
        if let d = try? Date(text, strategy: .iso8601) { return d }
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        return try? fractional.parse(text)
    }
}
