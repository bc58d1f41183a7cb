import Foundation
import Testing

/// swift-testing's `#expect((a ?? b).method(x))` expands into a call whose result it never checks: the expectation
/// passes whatever the method answers (probed with `#expect((nil ?? "abc").contains("zzz"))`, which passed). Five
/// such checks of status messages could not fail; they now read `#expect(a?.method(x) == true)`. This keeps the
/// form out of the suite.
@Suite struct ExpectationFormTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `#expect((` or `#require((`, a `??` inside that parenthesis, and a method called on it.
    static var uncheckedForm: Regex<(Substring, Substring, Substring?, Substring?)> { #/#(expect|require)\(\([^()\n]*(\([^()\n]*\)[^()\n]*)*\?\?[^()\n]*(\([^()\n]*\)[^()\n]*)*\)\.[A-Za-z]+\(/# }

    @Test func noExpectationCallsAMethodOnAParenthesisedCoalescing() throws {
        let tests = Self.root.appendingPathComponent("Tests")
        let files = try #require(FileManager.default.enumerator(atPath: tests.path)).compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }
        #expect(files.count > 50, "the test sources were found")
        var offenders: [String] = []
        for file in files where file != "GantryAPITests/ExpectationFormTests.swift" {
            let text = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where line.contains("??") && (line.contains("#expect((") || line.contains("#require((")) && line.contains(Self.uncheckedForm) {
                offenders.append("Tests/\(file):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(offenders.isEmpty, "write `#expect(value?.method(…) == true)` instead:\n\(offenders.joined(separator: "\n"))")
    }

    @Test func theFormIsRecognised() {
        #expect(#"#expect((s["m"]?.stringValue ?? "").contains("x"), "\(s)")"#.contains(Self.uncheckedForm))
        #expect(#"#require((a ?? b).hasPrefix("x"))"#.contains(Self.uncheckedForm))
        #expect(!#"#expect((a ?? 0) >= 1)"#.contains(Self.uncheckedForm))
        #expect(!#"#expect(a?.contains("x") == true)"#.contains(Self.uncheckedForm))
    }
}
