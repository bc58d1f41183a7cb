import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// What kube-apiserver refuses to change once created (issue #12), through real kubectl (the installed one, 1.33 and 1.27): a Pod's
/// spec but for the documented exceptions, and the data of a ConfigMap or Secret marked `immutable`.
@Suite(.serialized)
struct ImmutabilityTests {
    init() throws { try Prerequisite.kubectl() }

    static let pod = """
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: default}
        spec:
          restartPolicy: Never
          containers: [{name: c, image: 'busybox:1.36'}]
          tolerations: [{key: a, operator: Exists}]
        """

    @Test func aPodsSpecIsFixedButForImagesDeadlinesAndAddedTolerations() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectlReleases(["1.33", "1.27"]))
        try await withCluster(TestCluster.bare()) { t async throws in
            for kubectl in kubectls {
                var r = await t.kubectl(args: ["apply", "-f", "-"], stdin: Self.pod)
                #expect(r.ok, "\(r.stderr)")
                func patch(_ body: String) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "patch", "pod", "p", "--type=merge", "-p", body])
                }
                r = await patch(#"{"spec":{"restartPolicy":"Always"}}"#)
                #expect(!r.ok && r.stderr.contains(#"The Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`"#),
                        "\(kubectl): \(r.stderr)")
                #expect(r.stderr.contains("changed: spec.restartPolicy"), "the changed field is named: \(r.stderr)")
                r = await patch(#"{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}"#)
                #expect(r.ok, "an image may change: \(r.stderr)")
                r = await patch(#"{"spec":{"activeDeadlineSeconds":600}}"#)
                #expect(r.ok, "a deadline may be set: \(r.stderr)")
                r = await patch(#"{"spec":{"activeDeadlineSeconds":900}}"#)
                #expect(!r.ok && r.stderr.contains("changed: spec.activeDeadlineSeconds"), "but not raised: \(r.stderr)")
                r = await patch(#"{"spec":{"tolerations":[{"key":"a","operator":"Exists"},{"key":"b","operator":"Exists"}]}}"#)
                #expect(r.ok, "a toleration may be added: \(r.stderr)")
                r = await patch(#"{"spec":{"tolerations":[{"key":"b","operator":"Exists"}]}}"#)
                #expect(!r.ok && r.stderr.contains("changed: spec.tolerations"), "but none removed: \(r.stderr)")
                // A replace that leaves out what the server defaulted at creation changes nothing.
                let replacement = Self.pod.replacingOccurrences(of: "1.36", with: "1.38")
                    .replacingOccurrences(of: "tolerations: [{key: a, operator: Exists}]",
                                          with: "tolerations: [{key: a, operator: Exists}, {key: b, operator: Exists}]\n  activeDeadlineSeconds: 600")
                r = await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "replace", "-f", "-"], stdin: replacement)
                #expect(r.ok, "serviceAccountName and schedulerName left out are the defaults: \(r.stderr)")
                r = await t.kubectl("delete", "pod", "p", "--wait=false")
                #expect(r.ok, "\(r.stderr)")
                _ = await t.kubectl("delete", "pod", "p", "--grace-period=0", "--force")
            }
        }
    }

    /// The 422s as the installed kubectl, 1.27 and 1.33 show them (one ConfigMap and Secret each).
    @Test func immutableConfigMapsAndSecretsKeepTheirData() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
        try await withCluster(TestCluster.bare()) { t async throws in
            for (i, kubectl) in kubectls.enumerated() {
                func run(_ args: String..., stdin: String? = nil) async -> CommandResult {
                    await t.kubectl(release: kubectl, args: args, stdin: stdin)
                }
                var r = await run("apply", "-f", "-", stdin: """
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: frozen-\(i)}
                    immutable: true
                    data: {k: v}
                    ---
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: sealed-\(i)}
                    immutable: true
                    stringData: {password: hunter2}
                    ---
                    apiVersion: v1
                    kind: ConfigMap
                    metadata: {name: open-\(i)}
                    data: {k: v}
                    """)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("patch", "configmap", "frozen-\(i)", "--type=merge", "-p", #"{"data":{"k":"w"}}"#)
                #expect(!r.ok && r.stderr.contains(#"The ConfigMap "frozen-\#(i)" is invalid: data: Forbidden: field is immutable when `immutable` is set"#), "\(kubectl): \(r.stderr)")
                r = await run("patch", "configmap", "frozen-\(i)", "--type=merge", "-p", #"{"immutable":false}"#)
                #expect(!r.ok && r.stderr.contains("immutable: Forbidden: field is immutable when `immutable` is set"), "\(kubectl): \(r.stderr)")
                r = await run("patch", "secret", "sealed-\(i)", "--type=merge", "-p", #"{"stringData":{"password":"x"}}"#)
                #expect(!r.ok && r.stderr.contains(#"The Secret "sealed-\#(i)" is invalid: data: Forbidden: field is immutable when `immutable` is set"#), "\(kubectl): \(r.stderr)")
                r = await run("patch", "secret", "sealed-\(i)", "--type=merge", "-p", #"{"type":"kubernetes.io/tls"}"#)
                #expect(!r.ok && r.stderr.contains("type: Invalid value"), "\(kubectl): \(r.stderr)")
                // A replacement without `type` is defaulted to Opaque as a create is (SetDefaults_Secret), not a change.
                r = await run("replace", "-f", "-", stdin: "apiVersion: v1\nkind: Secret\nmetadata: {name: plain-\(i)}\nstringData: {a: b}\n")
                #expect(!r.ok, "no such Secret yet")
                r = await run("create", "secret", "generic", "plain-\(i)", "--from-literal=a=b")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("replace", "-f", "-", stdin: "apiVersion: v1\nkind: Secret\nmetadata: {name: plain-\(i)}\nstringData: {a: c}\n")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                // Labels stay editable, and a ConfigMap not marked immutable may change and then be frozen.
                r = await run("label", "configmap", "frozen-\(i)", "team=ml")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("patch", "configmap", "open-\(i)", "--type=merge", "-p", #"{"data":{"k":"w"},"immutable":true}"#)
                #expect(r.ok, "\(kubectl): \(r.stderr)")
            }
        }
    }
}
