import Foundation
import Testing

/// The user guide shows the example files verbatim, so what users read is what the tests apply.
@Suite struct DocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test(arguments: ["trainingjob-single-gpu.yaml", "trainingjob-pytorch-distributed.yaml", "trainingjob-sweep.yaml", "platformconfig.yaml"])
    func trainingJobGuideEmbedsTheExample(file: String) throws {
        let guide = try String(contentsOf: Self.root.appendingPathComponent("docs/trainingjob.md"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        #expect(guide.contains("```yaml\n" + example + "```"), "docs/trainingjob.md must show examples/\(file) as it is")
    }

    @Test(arguments: [("inferenceservice.md", "inferenceservice.yaml"), ("notebook.md", "notebook.yaml"), ("experiment.md", "experiment.yaml")])
    func kindGuidesEmbedTheirExample(guide: String, file: String) throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("docs/\(guide)"), encoding: .utf8)
        let example = try String(contentsOf: Self.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        #expect(text.contains("```yaml\n" + example + "```"), "docs/\(guide) must show examples/\(file) as it is")
    }
}

import KubeCore
import KubeYAML
import GantryAPI

@Suite struct ExampleManifestTests {
    @Test(arguments: ["trainingjob-single-gpu.yaml", "trainingjob-pytorch-distributed.yaml", "trainingjob-sweep.yaml"])
    func examplesDecodeAsTrainingJobs(file: String) throws {
        let text = try String(contentsOf: DocsTests.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        let documents = try YAML.parseDocuments(text)
        #expect(!documents.isEmpty)
        for document in documents {
            #expect(document.kind == "TrainingJob")
            let spec = try (document["spec"] ?? .null).decode(TrainingJobSpec.self)
            #expect(!spec.image.isEmpty)
        }
    }

    @Test func theInferenceServiceAndNotebookExamplesDecode() throws {
        let service = try YAML.parseDocuments(String(contentsOf: DocsTests.root.appendingPathComponent("examples/inferenceservice.yaml"), encoding: .utf8))
        #expect(try service.first?["spec"]?.decode(InferenceServiceSpec.self).replicas == 2)
        let notebook = try YAML.parseDocuments(String(contentsOf: DocsTests.root.appendingPathComponent("examples/notebook.yaml"), encoding: .utf8))
        #expect(try notebook.first?["spec"]?.decode(NotebookSpec.self).culling?.idleTimeoutSeconds == 3600)
    }
}
