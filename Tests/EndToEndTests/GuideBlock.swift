import Foundation
import GantryTestSupport

/// The first ```yaml block after `heading` in docs/`guide`: what a guide shows, for a test to apply as shown.
func guideBlock(_ guide: String, under heading: String) throws -> String {
    let text = try String(contentsOfFile: OperatorHarness.repoRoot + "/docs/" + guide, encoding: .utf8)
    guard let section = text.range(of: heading),
          let start = text.range(of: "```yaml\n", range: section.upperBound..<text.endIndex),
          let end = text.range(of: "```", range: start.upperBound..<text.endIndex) else {
        throw TestFailure("docs/\(guide) has no yaml block under \(heading)")
    }
    return String(text[start.upperBound..<end.lowerBound])
}
