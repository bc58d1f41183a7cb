import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// What users see of the built-in kinds' upstream schemas, with real kubectl 1.27 and 1.33 (issue #12):
/// `kubectl explain` finds built-in fields, an unknown field is warned about and dropped under `--validate=warn`,
/// refused under `--validate=strict` (kubectl's default) and by `apply --server-side`.
struct BuiltinSchemaKubectlTests {
    static func configMap(_ name: String) -> String {
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name)}\ndata: {mode: fast}\nbogus: 1\n"
    }

    @Test func explainWarnStrictAndServerSideApplyWithKubectl127And133() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            for (i, kubectl) in try Prerequisite.kubectlReleases(["1.27", "1.33"]).enumerated() {
                func run(_ args: String..., stdin: String? = nil) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/cache-\(i)"] + args, stdin: stdin,
                                     environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                }
                var r = await run("explain", "pod.spec.containers.resources")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(r.stdout.contains("KIND:") && r.stdout.contains("Pod"), "\(kubectl): \(r.stdout)")
                #expect(r.stdout.contains("Compute Resources required by this container"), "\(kubectl): \(r.stdout)")
                #expect(r.stdout.contains("limits") && r.stdout.contains("requests"), "\(kubectl): \(r.stdout)")
                r = await run("explain", "deployment.spec.strategy.rollingUpdate.maxSurge")
                #expect(r.ok && r.stdout.contains("maxSurge"), "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await run("explain", "pod.spec.nosuchfield")
                #expect(!r.ok && r.stderr.contains("nosuchfield"), "\(kubectl): \(r.stderr)")

                r = await run("apply", "--validate=warn", "-f", "-", stdin: Self.configMap("warned-\(i)"))
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                #expect(r.stderr.contains(#"unknown field "bogus""#), "\(kubectl): \(r.stderr)")
                #expect(await t.cluster.store.get("configmaps", namespace: "default", name: "warned-\(i)")?["bogus"] == nil)

                for validate in ["--validate=strict", "--validate=true"] {
                    r = await run("apply", validate, "-f", "-", stdin: Self.configMap("strict-\(i)"))
                    #expect(!r.ok, "\(kubectl) \(validate): \(r.stdout)")
                    #expect(r.stderr.contains(#"unknown field "bogus""#), "\(kubectl) \(validate): \(r.stderr)")
                }
                #expect(await t.cluster.store.get("configmaps", namespace: "default", name: "strict-\(i)") == nil)

                r = await run("apply", "--server-side", "-f", "-", stdin: Self.configMap("applied-\(i)"))
                #expect(!r.ok, "\(kubectl): \(r.stdout)")
                #expect(r.stderr.contains(".bogus: field not declared in schema"), "\(kubectl): \(r.stderr)")
            }
        }
    }
}
