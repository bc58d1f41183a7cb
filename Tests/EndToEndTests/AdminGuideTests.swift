import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// docs/admin.md: its PlatformConfig (examples/platformconfig-admin.yaml, shown verbatim) applied with kubectl,
/// and what the guide says it decides, seen on workloads the operator reconciles: the quota (a job larger than
/// the namespace's whole quota is Invalid, QuotaExceeded), the ServiceAccount policy (PolicyViolation), and the
/// notebooks' maximum idle timeout (CullingLimited, PlatformMaximum).
@Suite(.serialized)
struct AdminGuideTests {
    static let root = OperatorHarness.repoRoot
    static let example = root + "/examples/platformconfig-admin.yaml"

    @Test func theGuideShowsTheExampleAsItIs() throws {
        let guide = try String(contentsOfFile: Self.root + "/docs/admin.md", encoding: .utf8)
        let example = try String(contentsOfFile: Self.example, encoding: .utf8)
        #expect(guide.contains("```yaml\n" + example + "```"))
    }

    @Test func thePlatformConfigDecidesQuotasPoliciesAndCulling() async throws {
        try await withOperator(nodes: "3x{gpu: 8}") { h async throws in
            _ = try await h.kubectl("create", "namespace", "team-nlp")
            _ = try await h.kubectl("create", "namespace", "gantry-system")
            _ = try await h.kubectl("-n", "gantry-system", "create", "secret", "generic", "chat-webhook", "--from-literal=url=http://127.0.0.1:9/hook")
            _ = try await h.kubectl("apply", "--validate=strict", "-f", Self.example)
            func job(_ name: String, replicas: Int = 1, gpus: Int = 1, extra: String = "") -> String {
                TrainingJobBehaviourTests.manifest(name, replicas: replicas, gpus: gpus, script: "{logs: [\"training\"]}", extra: extra)
                    .replacingOccurrences(of: "namespace: default", with: "namespace: team-nlp")
            }
            // team-nlp's quota is 16 GPUs: a gang of 3 × 8 fits the three nodes but never the quota.
            _ = try await h.kubectl("apply", "-f", "-", stdin: job("too-big", replicas: 3, gpus: 8))
            _ = try await h.kubectl("apply", "-f", "-", stdin: job("other-account", gpus: 1, extra: "  serviceAccountName: builder\n"))
            let notebook = NotebookTests.manifest("long-idle", idle: 86400).replacingOccurrences(of: "namespace: default", with: "namespace: team-nlp")
            _ = try await h.kubectl("apply", "-f", "-", stdin: notebook)

            @Sendable func condition(_ type: ResourceType, _ name: String, _ condition: String) async throws -> JSONValue? {
                try await h.get(type, "team-nlp", name)?[path: "status", "conditions"]?.arrayValue?.first { $0["type"]?.stringValue == condition }
            }
            let settled = try await eventually(timeout: .seconds(60)) {
                let quota = try await condition(.trainingJobs, "too-big", "Invalid")?["reason"]
                let policy = try await condition(.trainingJobs, "other-account", "Invalid")?["reason"]
                let culling = try await condition(.notebooks, "long-idle", "CullingLimited")?["reason"]
                return quota == "QuotaExceeded" && policy == "PolicyViolation" && culling == "PlatformMaximum"
            }
            let seen = try await h.kubectl("get", "gantry", "-n", "team-nlp", "-o", "yaml")
            #expect(settled, "\(seen)")
            #expect(try await h.get(.notebooks, "team-nlp", "long-idle")?[path: "status", "culling", "idleTimeoutSeconds"] == 7200)
        }
    }
}
