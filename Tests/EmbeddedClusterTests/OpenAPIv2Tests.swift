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

    static func installCRDs(_ t: TestCluster) async throws {
        let r = await t.kubectl("apply", "-k", repoRoot + "/crds")
        #expect(r.ok, "\(r.stderr)")
        #expect(try await eventually {
            await t.kubectl("get", "crd", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Established\")].status}").stdout == "True True True True True"
        })
    }

    @Test func explainReadsOpenAPIv2WithKubectl127And133() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            // Every Gantry CRD: kubectl reads the whole document, so one definition it cannot parse would fail them all.
            try await Self.installCRDs(t)
            var r: CommandResult
            for (i, kubectl) in try Prerequisite.kubectlReleases(["1.27", "1.33"]).enumerated() {
                func explain(_ args: String...) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/v2-cache-\(i)", "explain", "--output", "plaintext-openapiv2"] + args,
                                     environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                }
                // Each field and what its explanation says (words joined again: kubectl wraps descriptions).
                let explained: [(field: String, says: [String])] = [
                    ("pod.spec.containers.resources", ["KIND: Pod", "RESOURCE: resources <Object>", "Compute Resources required by this container",
                                                       "limits <map[string]string>", "requests <map[string]string>"]),
                    ("deployment.spec.strategy.rollingUpdate.maxSurge", ["FIELD: maxSurge <string>"]),  // IntOrString as v2 has it
                    ("service.spec.ipFamilyPolicy", ["IPFamilyPolicy represents the dual-stack-ness"]),
                    ("notebook.spec.culling.idleTimeoutSeconds", ["KIND: Notebook", "VERSION: gantry.dev/v1alpha1",
                                                                  "FIELD: idleTimeoutSeconds <integer>", "Idle this long"]),
                    ("trainingjob.spec.earlyStopping.median", ["median of other jobs of the same experiment"]),
                    ("notebook.metadata.labels", ["Map of string keys and values"]),  // custom kinds refer to ObjectMeta
                ]
                for (field, says) in explained {
                    r = await explain(field)
                    let words = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
                    #expect(r.ok && says.allSatisfy { words.contains($0) }, "\(kubectl) explain \(field): \(r.stdout) \(r.stderr)")
                }
                r = await explain("notebook.spec.nosuchfield")
                #expect(!r.ok && r.stderr.contains("nosuchfield"), "\(kubectl): \(r.stderr)")
                let v2 = t.cluster.requests().filter { $0.path == "/openapi/v2" && $0.code == 200 && $0.userAgent?.contains(kubectl.hasSuffix("1.27") ? "v1.27" : "v1.33") == true }
                #expect(!v2.isEmpty, "\(kubectl) read /openapi/v2")
            }
        }
    }

    /// Every resource `kubectl api-resources` lists (built-in and Gantry's) is explained, from /openapi/v3 (the
    /// default) and /openapi/v2, by the installed kubectl, 1.27 and 1.33. Named `plural.group` as api-resources
    /// prints it, except where kubectl itself reads the name as a field path (`events.events.k8s.io` starts with
    /// the core `events`): there, the plural with `--api-version`, as against any cluster.
    @Test func everyServedResourceIsExplainedByEveryClient() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            try await Self.installCRDs(t)
            let r = await t.kubectl("api-resources", "--no-headers", "-o", "wide")
            // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND VERBS [CATEGORIES]: the API version is the field before true/false.
            let resources: [(name: String, apiVersion: String)] = r.stdout.split(separator: "\n").compactMap { line in
                let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                guard let scope = fields.firstIndex(where: { $0 == "true" || $0 == "false" }), scope >= 2 else { return nil }
                return (fields[0], fields[scope - 1])
            }
            #expect(resources.count >= 30 && resources.contains { $0.name == "trainingjobs" } && resources.contains { $0.name == "poddisruptionbudgets" },
                    "\(r.stdout)")
            for (i, kubectl) in try ([TestCluster.kubectlPath] + Prerequisite.kubectlReleases(["1.27", "1.33"])).enumerated() {
                for output in ["plaintext", "plaintext-openapiv2"] {
                    for resource in resources {
                        let e = await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/all-cache-\(i)", "explain",
                                                           resource.name, "--api-version", resource.apiVersion, "--output", output],
                                                 environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                        let kind = e.stdout.contains("KIND:") && e.stdout.contains("VERSION:")
                        #expect(e.ok && kind, "\(kubectl) explain \(resource.name) --api-version \(resource.apiVersion) -o \(output): \(e.stdout.prefix(300)) \(e.stderr)")
                    }
                }
            }
        }
    }
}
