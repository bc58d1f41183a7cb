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

/// Every example's spec decodes the same through `JSONValue.decode` (a Decoder over the parsed tree) as through
/// Foundation's JSONDecoder reading the same object as text.
@Suite struct ExampleDecodingAgreementTests {
    static func agree<T: Decodable & Equatable>(_ spec: JSONValue, _ type: T.Type) throws -> Bool {
        try spec.decode(T.self) == JSONDecoder().decode(T.self, from: Data(spec.serializedBytes()))
    }

    @Test(arguments: ["experiment.yaml", "inferenceservice-autoscaling.yaml", "inferenceservice-from-trainingjob.yaml",
                      "inferenceservice-per-node.yaml", "inferenceservice-prometheus.yaml", "inferenceservice.yaml", "notebook.yaml",
                      "platformconfig-admin.yaml", "platformconfig.yaml", "trainingjob-pytorch-distributed.yaml",
                      "trainingjob-single-gpu.yaml", "trainingjob-sweep.yaml"])
    func examplesDecodeAlike(file: String) throws {
        let text = try String(contentsOf: DocsTests.root.appendingPathComponent("examples/\(file)"), encoding: .utf8)
        var checked = 0
        for document in try YAML.parseDocuments(text) {
            let spec = document["spec"] ?? .emptyObject
            let same: Bool
            switch document.kind {
            case "TrainingJob": same = try Self.agree(spec, TrainingJobSpec.self)
            case "InferenceService": same = try Self.agree(spec, InferenceServiceSpec.self)
            case "Notebook": same = try Self.agree(spec, NotebookSpec.self)
            case "Experiment": same = try Self.agree(spec, ExperimentSpec.self)
            case "PlatformConfig": same = try Self.agree(spec, PlatformConfigSpec.self)
            default: continue
            }
            #expect(same, "\(file): \(document.kind ?? "") \(document.name ?? "")")
            checked += 1
        }
        #expect(checked > 0, "\(file) has a Gantry object")
    }
}
