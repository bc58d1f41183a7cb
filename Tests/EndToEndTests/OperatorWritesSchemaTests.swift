import Foundation
import Testing
import GantryTestSupport
import KubeCore

/// The guard on Gantry's own writes (issue #12): a cluster that decodes every write with `fieldValidation=Strict`
/// against the upstream schemas of the built-in kinds (and the CRDs' for Gantry's kinds) runs a TrainingJob, an
/// InferenceService through a blue/green swap and a Notebook. A field the operator misspells in any child or
/// status fails its request there (as it would be dropped silently by a real cluster), and is named here.
@Suite(.serialized) struct OperatorWritesSchemaTests {
    static let examples = OperatorHarness.repoRoot + "/examples/"

    static func inferenceService(image: String) -> String {
        InferenceServiceTests.manifest("api", image: image, replicas: 1, rollout: "{scaleDownDelaySeconds: 1}")
    }

    @Test func everyObjectTheOperatorWritesForAllThreeKindsDeclaresOnlyFieldsOfItsSchema() async throws {
        try await withOperator { h async throws in
            _ = try await h.kubectl("apply", "-f", Self.examples + "platformconfig.yaml")
            _ = try await h.kubectl("apply", "-f", Self.examples + "trainingjob-single-gpu.yaml", "-f", Self.examples + "notebook.yaml")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.inferenceService(image: "acme/llm-serving:1"))

            let served = try await eventually(timeout: .seconds(60)) {
                let s = try await h.get(.inferenceServices, "default", "api")?["status"]
                return s?["activeColor"] == "blue" && s?["candidate"] == nil
                    && s?["conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } == true
            }
            let servedStatus = try await h.get(.inferenceServices, "default", "api")?["status"] ?? .null
            #expect(served, "\(servedStatus)")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.inferenceService(image: "acme/llm-serving:2"))
            let swapped = try await eventually(timeout: .seconds(60)) {
                let s = try await h.get(.inferenceServices, "default", "api")?["status"]
                return s?["activeColor"] == "green" && s?["candidate"] == nil
            }
            let swappedStatus = try await h.get(.inferenceServices, "default", "api")?["status"] ?? .null
            #expect(swapped, "\(swappedStatus)")

            let finished = try await eventually(timeout: .seconds(90)) {
                try await h.get(.trainingJobs, "default", "mnist-baseline")?[path: "status", "phase"] == "Succeeded"
            }
            let jobStatus = try await h.get(.trainingJobs, "default", "mnist-baseline")?["status"] ?? .null
            #expect(finished, "\(jobStatus)")
            let running = try await eventually(timeout: .seconds(60)) {
                try await h.get(.notebooks, "default", "alice")?[path: "status", "phase"] == "Running"
            }
            let notebookStatus = try await h.get(.notebooks, "default", "alice")?["status"] ?? .null
            #expect(running, "\(notebookStatus)")

            // The operator wrote children of every kind it makes, and none carried an undeclared field.
            let writes = h.operatorRequests().filter { ["POST", "PUT", "PATCH"].contains($0.method) }
            for resource in ["/pods", "/services", "/persistentvolumeclaims", "/secrets", "/poddisruptionbudgets", "/configmaps", "/status"] {
                #expect(writes.contains { $0.path.contains(resource) }, "no operator write to \(resource): the guard would not see it")
            }
            let reports = h.cluster.cluster.unknownFieldReports()
            #expect(reports.isEmpty, "writes with fields their schema does not declare:\n\(reports.map(\.description).joined(separator: "\n"))")
            let refused = writes.filter { $0.code == 400 || $0.code == 422 }
            #expect(refused.isEmpty, "operator writes refused: \(refused.map { "\($0.method) \($0.path) \($0.code)" })")
            // Nor did the simulated nodes and kubelets (in-process writers, which nothing decodes) store any.
            let stored = await h.cluster.cluster.undeclaredFieldsInStore()
            #expect(stored.isEmpty, "stored objects with undeclared fields:\n\(stored.joined(separator: "\n"))")
        }
    }
}
