import Foundation
import Testing

/// docs/troubleshooting.md lists every condition reason Gantry sets. The reasons are read from the controllers'
/// source where they are literals in the calls that set conditions or end a run (`markStalled("X"`,
/// `.set("Type", .true, "X"`, `terminal(.failed, "X"`, `reason: "X"`, `reason = "X"`), so a new reason without a
/// line there fails this test. Reasons that arrive in variables (a pod's own reason) are checked on real objects
/// by GitOpsHealthTests.
@Suite struct TroubleshootingDocTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func reasonsInSource() throws -> Set<String> {
        let pattern = try NSRegularExpression(pattern:
            #"(?:mark(?:Ready|Reconciling|Stalled|Idle)\(|\.set\("[A-Za-z]+", \.[a-z]+, |terminal\(\.[a-zA-Z]+, |[rR]eason(?::| =) )"([A-Z][A-Za-z]+)""#)
        return try Set(sources(["Sources/GantryControllers", "Sources/KubeRuntime"]).flatMap { captures(pattern, in: $0) })
    }

    /// The text of every Swift file under `paths` (folders or files, from the repository root).
    static func sources(_ paths: [String]) throws -> [String] {
        var texts: [String] = []
        for path in paths {
            let base = root.appendingPathComponent(path)
            if base.pathExtension == "swift" {
                texts.append(try String(contentsOf: base, encoding: .utf8))
                continue
            }
            guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in files where file.pathExtension == "swift" { texts.append(try String(contentsOf: file, encoding: .utf8)) }
        }
        return texts
    }

    /// Every first capture group of `pattern` in `text`.
    static func captures(_ pattern: NSRegularExpression, in text: String) -> [String] {
        pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    @Test func everyReasonTheControllersSetIsExplained() throws {
        let reasons = try Self.reasonsInSource()
        #expect(reasons.count > 30, "the source scan finds the reasons: \(reasons.sorted())")
        #expect(reasons.contains("BackoffLimitExceeded") && reasons.contains("RolloutFailed") && reasons.contains("IdleTimeout"))
        let page = try String(contentsOf: Self.root.appendingPathComponent("docs/troubleshooting.md"), encoding: .utf8)
        let missing = reasons.filter { !page.contains("`\($0)`") }.sorted()
        #expect(missing.isEmpty, "docs/troubleshooting.md does not explain: \(missing)")
    }
}
