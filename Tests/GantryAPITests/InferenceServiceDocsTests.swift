import Foundation
import Testing
import KubeCore
import KubeYAML
import GantryAPI

/// docs/inferenceservice.md shows its example files verbatim (the end-to-end tests apply them as they are) and
/// explains every condition reason the controller sets.
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

    /// The condition reasons the InferenceService controller sets, read from its source: every CamelCase literal on
    /// a line that sets a condition or chooses a condition's reason (ternaries included), but not one compared
    /// with (a pod's own reasons), and the framework's own for every kind (`ChildRejected`, `InvalidSpec`).
    static func conditionReasons() throws -> Set<String> {
        let markers = ["conditions.set(", "markReady(", "markStalled(", "markReconciling(", "markIdle(", "progressing(",
                       "let reason = ", "candidate.reason = ", "init(reason: ", "var reason: String", "static let reason = "]
        let literal = try NSRegularExpression(pattern: #"(?<![!=]= )"([A-Z][a-z]+(?:[A-Z][A-Za-z]*)*)""#)
        let texts = try TroubleshootingDocTests.sources(["Sources/GantryControllers/InferenceService", "Sources/KubeRuntime/KindReconciler.swift"])
        let lines = texts.flatMap { $0.split(separator: "\n").map(String.init) }.filter { line in markers.contains { line.contains($0) } }
        return Set(lines.flatMap { TroubleshootingDocTests.captures(literal, in: $0) })
    }

    /// The first cells (`` `Name` ``) of the tables of the guide's "Status and conditions" section: the conditions
    /// and the reasons.
    static func documentedConditionsAndReasons() throws -> Set<String> {
        let guide = try String(contentsOf: DocsTests.root.appendingPathComponent("docs/inferenceservice.md"), encoding: .utf8)
        guard let start = guide.range(of: "## Status and conditions") else { return [] }
        let section = guide[start.upperBound...].components(separatedBy: "\n## ").first ?? ""
        let cell = try NSRegularExpression(pattern: #"(?m)^\| `([A-Za-z]+)` \|"#)
        return Set(TroubleshootingDocTests.captures(cell, in: section))
    }

    @Test func everyConditionReasonTheControllerSetsIsInTheReasonsTable() throws {
        let reasons = try Self.conditionReasons()
        // The scan finds the reasons (a broken pattern would find none and pass).
        #expect(reasons.isSuperset(of: ["Serving", "Starting", "NoMatchingNodes", "ScalingUp", "AwaitingPromotion", "InsufficientGPU",
                                        "SourceNotFound", "ReplicasUnavailable", "PrometheusURLMissing", "ChildRejected"]), "\(reasons.sorted())")
        let documented = try Self.documentedConditionsAndReasons()
        let missing = reasons.subtracting(documented).sorted()
        #expect(missing.isEmpty, "docs/inferenceservice.md, Status and conditions, has no row for: \(missing)")
    }
}
