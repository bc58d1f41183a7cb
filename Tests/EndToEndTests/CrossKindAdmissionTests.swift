import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeClient
import KubeCore

/// TrainingJob admission counts the GPUs every Gantry pod holds, not only training replicas: a job is not
/// admitted onto GPUs an InferenceService's serving colour or a Notebook holds (it would wait Pending, admitted).
@Suite(.serialized) struct CrossKindAdmissionTests {
    @Test func aJobWaitsInTheQueueWhileAServiceHoldsTheOnlyGPUs() async throws {
        try await withOperator(nodes: "1x{gpu: 2}") { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: """
                apiVersion: gantry.dev/v1alpha1
                kind: InferenceService
                metadata: {name: holder, namespace: default}
                spec: {image: 'acme/llm-serving:1', replicas: 2, gpu: {count: 1}}
                """)
            #expect(try await eventually(timeout: .seconds(60)) {
                try await h.get(.inferenceServices, "default", "holder")?[path: "status", "readyReplicas"] == 2
            })
            _ = try await h.kubectl("apply", "-f", "-", stdin: TrainingJobBehaviourTests.manifest("late", script: "{exit: {code: 0, after: 1s}}"))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await TrainingJobBehaviourTests.status(h, "late")["phase"] == "Queued"
            })
            // Freed by the service: admitted and run.
            _ = try await h.kubectl("delete", "inferenceservice", "holder")
            #expect(try await eventually(timeout: .seconds(60)) {
                try await TrainingJobBehaviourTests.status(h, "late")["phase"] == "Succeeded"
            })
        }
    }
}
