import Foundation
import Testing
@testable import KubeCore

/// `Timestamp.format` computes RFC 3339 times arithmetically for years 1970–9999 and with Foundation's
/// ISO 8601 format style otherwise: both must write the same text.
@Suite struct TimestampTests {
    @Test func formatsAndParsesRFC3339() throws {
        let d = try #require(Timestamp.parse("2026-12-01T13:36:28Z"))
        #expect(Timestamp.format(d) == "2026-12-01T13:36:28Z")
        #expect(Timestamp.formatMicro(d) == "2026-12-01T13:36:28.000000Z")
        #expect(Timestamp.parse("2026-12-01T13:36:28.123456Z") != nil)
        #expect(Timestamp.parse("yesterday") == nil)
    }

    @Test func theArithmeticPathAgreesWithFoundation() {
        var generator = SystemRandomNumberGenerator()
        // Month and year edges (leap days, centuries, 2038), then random seconds across the whole range.
        var samples: [Double] = [0, 59, 86_399, 86_400, 951_782_400, 951_868_799, 951_868_800, 4_107_542_399,
                                 2_147_483_647, 2_147_483_648, 1_767_225_599, 1_767_225_600, 253_402_300_799]
        for _ in 0..<20_000 { samples.append(Double(UInt64.random(in: 0..<253_402_300_800, using: &generator))) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: seconds + 0.75)  // fractions are dropped, never rounded up
            #expect(Timestamp.format(date) == Timestamp.foundationFormat(date), "at \(seconds)")
        }
    }

    @Test func timesOutsideTheFastRangeUseFoundation() {
        let before1970 = Date(timeIntervalSince1970: -86_400 * 365.25 * 10)
        #expect(Timestamp.format(before1970) == Timestamp.foundationFormat(before1970))
        #expect(Timestamp.format(before1970).hasPrefix("1960-"))
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_733_270_400)) == "2024-12-04T00:00:00Z")
    }
}
