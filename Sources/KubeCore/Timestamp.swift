import Foundation

/// RFC 3339 timestamps as Kubernetes writes them (`2026-12-01T13:36:28Z`, second precision;
/// `MicroTime` fields use `.000000Z`).
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        // Years 1970–9999 (every time a cluster writes) take the arithmetic path: the format style costs about
        // 2 µs a call, and the API server stamps several times on every write (creationTimestamp, managedFields,
        // conditions); `TimestampTests` checks both paths agree.
        if seconds >= 0, seconds < 253_402_300_800 { return utc(Int64(seconds)) }
        return foundationFormat(date)
    }

    static func foundationFormat(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` from seconds since the epoch, with the proleptic Gregorian calendar (Howard
    /// Hinnant's `civil_from_days`, http://howardhinnant.github.io/date_algorithms.html#civil_from_days).
    static func utc(_ epochSeconds: Int64) -> String {
        let days = epochSeconds / 86_400, secondOfDay = epochSeconds % 86_400
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var out = [UInt8](repeating: 0, count: 20)
        func put(_ value: Int64, at index: Int, digits: Int) {
            var v = value
            for i in stride(from: index + digits - 1, through: index, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(year, at: 0, digits: 4); out[4] = UInt8(ascii: "-")
        put(month, at: 5, digits: 2); out[7] = UInt8(ascii: "-")
        put(day, at: 8, digits: 2); out[10] = UInt8(ascii: "T")
        put(secondOfDay / 3_600, at: 11, digits: 2); out[13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, at: 14, digits: 2); out[16] = UInt8(ascii: ":")
        put(secondOfDay % 60, at: 17, digits: 2); out[19] = UInt8(ascii: "Z")
        return String(decoding: out, as: UTF8.self)
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
