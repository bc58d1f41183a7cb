import Foundation
import Testing
import KubeCore
import KubeYAML
import GantryAPI

/// docs/inferenceservice.md shows its example files verbatim (the end-to-end tests apply them as they are).
@Suite struct InferenceServiceDocsTests {
    static let examples = ["inferenceservice.yaml", "inferenceservice-from-trainingjob.yaml", "inferenceservice-autoscaling.yaml",
                            "inferenceservice-per-node.yaml", "inferenceservice-prometheus.yaml"]

    @Test(arguments: examples)
    func theGuideEmbedsTheExample(file: String) throws {
        let guide = try String(contentsOf: DocsTests.root.appendingPathComponent("docs/inferenceservice.md"), encoding: .utf8)
        let example = try String(contentsOf: DocsTests.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        #expect(guide.contains("```yaml\n" + example + "```"), "docs/inferenceservice.md must show examples/\(file) as it is")
    }

    @Test(arguments: examples)
    func theExampleDecodesAsAnInferenceService(file: String) throws {
        let text = try String(contentsOf: DocsTests.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        let documents = try YAML.parseDocuments(text)
        #expect(documents.count == 1 && documents.first?.kind == "InferenceService")
        let spec = try (documents.first?["spec"] ?? .null).decode(InferenceServiceSpec.self)
        #expect(!spec.image.isEmpty)
    }
}
