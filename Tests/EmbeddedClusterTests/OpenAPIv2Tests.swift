import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// `/openapi/v2` carries the definitions of every built-in kind and every CRD, as kube-apiserver's does:
/// `kubectl explain --output plaintext-openapiv2` (kubectl 1.27 and 1.33) on a built-in kind and a Gantry kind.
struct OpenAPIv2Tests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func explainReadsOpenAPIv2WithKubectl127And133() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            // Every Gantry CRD: kubectl reads the whole document, so one definition it cannot parse would fail them all.
            var r = await t.kubectl("apply", "-k", Self.repoRoot + "/crds")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually {
                await t.kubectl("get", "crd", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Established\")].status}").stdout == "True True True True True"
            })
            for (i, kubectl) in try Prerequisite.kubectlReleases(["1.27", "1.33"]).enumerated() {
                func explain(_ args: String...) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/v2-cache-\(i)", "explain", "--output", "plaintext-openapiv2"] + args,
                                     environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                }
                // Words joined again: kubectl wraps descriptions.
                func words(_ r: CommandResult) -> String { r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
                r = await explain("pod.spec.containers.resources")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(words(r).contains("KIND: Pod") && words(r).contains("RESOURCE: resources <Object>"), "\(kubectl): \(r.stdout)")
                #expect(words(r).contains("Compute Resources required by this container"), "\(kubectl): \(r.stdout)")
                #expect(words(r).contains("limits <map[string]string>") && words(r).contains("requests <map[string]string>"), "\(kubectl): \(r.stdout)")
                r = await explain("deployment.spec.strategy.rollingUpdate.maxSurge")
                #expect(r.ok && words(r).contains("FIELD: maxSurge <string>"), "IntOrString as v2 has it: \(kubectl): \(r.stdout) \(r.stderr)")
                r = await explain("service.spec.ipFamilyPolicy")
                #expect(r.ok && words(r).contains("IPFamilyPolicy represents the dual-stack-ness"), "\(kubectl): \(r.stdout) \(r.stderr)")

                r = await explain("notebook.spec.culling.idleTimeoutSeconds")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(words(r).contains("KIND: Notebook") && words(r).contains("VERSION: gantry.dev/v1alpha1"), "\(kubectl): \(r.stdout)")
                #expect(words(r).contains("FIELD: idleTimeoutSeconds <integer>") && words(r).contains("Idle this long"), "\(kubectl): \(r.stdout)")
                r = await explain("trainingjob.spec.earlyStopping.median")
                #expect(r.ok && words(r).contains("median of other jobs of the same experiment"), "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await explain("notebook.metadata.labels")
                #expect(r.ok && words(r).contains("Map of string keys and values"), "custom kinds refer to ObjectMeta: \(kubectl): \(r.stdout) \(r.stderr)")
                r = await explain("notebook.spec.nosuchfield")
                #expect(!r.ok && r.stderr.contains("nosuchfield"), "\(kubectl): \(r.stderr)")
                let v2 = t.cluster.requests().filter { $0.path == "/openapi/v2" && $0.code == 200 && $0.userAgent?.contains(kubectl.hasSuffix("1.27") ? "v1.27" : "v1.33") == true }
                #expect(!v2.isEmpty, "\(kubectl) read /openapi/v2")
            }
        }
    }
}
