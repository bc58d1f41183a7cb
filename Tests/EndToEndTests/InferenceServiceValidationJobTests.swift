import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// rollout.validation.job through the real path: the operator runs the job's pod against the preview, kubectl
/// applies and reads (issue #10).
@Suite(.serialized) struct InferenceServiceValidationJobTests {
    typealias IS = InferenceServiceTests

    /// A service whose candidates must pass an accuracy job; `job` plays the job's container.
    static func checked(_ name: String, image: String, job: String) -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: \(name), namespace: default}
        spec:
          image: \(image)
          readinessPath: /v2/health/ready
          replicas: 1
          rollout:
            scaleDownDelaySeconds: 0
            validation:
              job:
                activeDeadlineSeconds: 120
                template:
                  metadata:
                    annotations:
                      sim.gantry.dev/script: '\(job)'
                  spec:
                    containers:
                    - name: accuracy
                      image: ghcr.io/acme/eval:1
                      args: ["--preview", "$(PREVIEW_URL)", "--min-accuracy", "0.92"]
        """
    }

    static let passing = #"{logs: ["accuracy 0.95 >= 0.92"], exit: {code: 0, after: 2s}}"#
    static let failing = #"{logs: ["loading the held-out set", "accuracy 0.81 < 0.92"], exit: {code: 3, after: 2s}}"#

    @Test func aFailingJobLeavesTheActiveColourServingAndAPassingOneIsSwappedIn() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.checked("scored", image: "acme/llm-serving:1", job: Self.passing))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "scored") })
            #expect(try await IS.pods(h, "scored").count == 1, "a first deploy has nothing to validate against")

            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.checked("scored", image: "acme/llm-serving:2", job: Self.failing))
            // The job's pod: owned, never restarted, given the preview's URL.
            let job = try await waitForJobPod(h)
            #expect(job.ownerReferences.first?.kind == "InferenceService" && job.ownerReferences.first?.name == "scored")
            #expect(job[path: "spec", "restartPolicy"] == "Never" && job[path: "spec", "activeDeadlineSeconds"] == 120)
            let env = job[path: "spec", "containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
            #expect(env.contains { $0["name"] == "PREVIEW_URL" && $0["value"] == "http://scored-preview.default.svc.cluster.local" })
            // Pod Security "restricted" (the platform's default profile), as the template sets no securityContext.
            #expect(job[path: "spec", "securityContext"] == ["runAsNonRoot": true, "seccompProfile": ["type": "RuntimeDefault"]], "\(job["spec"] ?? .null)")
            #expect(job[path: "spec", "containers"]?.arrayValue?.first?["securityContext"] == ["allowPrivilegeEscalation": false, "capabilities": ["drop": ["ALL"]]])
            #expect(try await IS.status(h, "scored")[path: "candidate", "phase"] == "Validating")
            #expect(try await IS.selectedColor(h, "scored-preview") == "green")

            #expect(try await eventually(timeout: .seconds(60)) { try await IS.status(h, "scored")[path: "candidate", "phase"] == "Failed" })
            let failed = try await IS.status(h, "scored")
            let result = try #require(failed[path: "candidate", "validation", "job"])
            #expect(result["passed"] == false && result["exitCode"] == 3, "\(result)")
            #expect(result["logTail"]?.arrayValue?.contains("accuracy 0.81 < 0.92") == true, "\(result)")
            #expect(result["startedAt"] != nil && result["finishedAt"] != nil)
            #expect(failed[path: "candidate", "message"]?.stringValue?.contains("exited 3") == true)
            #expect(IS.condition(failed, "Progressing")?["reason"] == "ValidationFailed")
            #expect(failed["activeColor"] == "blue")
            #expect(try await IS.selectedColor(h, "scored") == "blue")
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=scored,reason=ValidationFailed",
                                             "-o", "jsonpath={.items[*].message}")
            #expect(events.contains("exited 3") && events.contains("accuracy 0.81 < 0.92"), "\(events)")
            // Cleaned up: the job's pod and the failed candidate's pods go; blue's stays.
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await IS.pods(h, "scored")
                return pods.count == 1 && pods.allSatisfy { $0.labels[GantryLabels.color] == "blue" }
            })

            // A candidate whose job exits 0 is swapped in; its job's pod goes too.
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.checked("scored", image: "acme/llm-serving:3", job: Self.passing))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "scored")
                return s["activeColor"] == "green" && s["candidate"] == nil
            })
            #expect(try await IS.status(h, "scored")[path: "activeRevision", "image"] == "acme/llm-serving:3")
            #expect(try await eventually(timeout: .seconds(30)) {
                try await IS.pods(h, "scored").allSatisfy { $0.labels[GantryLabels.role] != "validation" }
            })
            let passedEvents = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=scored,reason=ValidationPassed",
                                                   "-o", "jsonpath={.items[*].message}")
            #expect(passedEvents.contains("exited 0"), "\(passedEvents)")
        }
    }

    func waitForJobPod(_ h: OperatorHarness) async throws -> JSONValue {
        let isJob: @Sendable (JSONValue) -> Bool = { $0.labels[GantryLabels.role] == "validation" }
        #expect(try await eventually(timeout: .seconds(60)) { try await IS.pods(h, "scored").contains(where: isJob) })
        return try #require(try await IS.pods(h, "scored").first(where: isJob))
    }
}
