import Foundation
import Testing
import KubeCore
import KubeYAML
@testable import GantryAPI

/// crds/ is generated from the Swift definitions (`make crds`); this fails when the committed files are stale.
@Suite struct CommittedCRDTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: CRDBuilder.all.compactMap(\.name))
    func committedFileMatchesTheSwiftDefinition(name: String) throws {
        let path = Self.repoRoot.appendingPathComponent("crds/\(name).yaml").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let committed = try YAML.parse(text)
        let generated = try #require(CRDBuilder.all.first { $0.name == name })
        #expect(committed == generated, "crds/\(name).yaml is stale: run `make crds` and commit the result")
    }
}
