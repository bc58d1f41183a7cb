import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// Secrets never reach logs, Events or status (issue #14): one workload touching every secret Gantry handles, run
/// by the `gantry controller` binary at trace level, then every place a user or an operator reads is searched for
/// each secret value (as written and base64-encoded).
@Suite(.serialized)
struct SecretLeakTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    /// A secret value and what it is, for the failure message.
    struct Needle {
        var label: String
        var value: String
    }

    static func unique(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.lowercased() }

    static let job = """
        apiVersion: gantry.dev/v1alpha1
        kind: TrainingJob
        metadata: {name: trainer, namespace: default}
        spec:
          image: registry.example/trainer:1
          gpu: {count: 1}
          imagePullSecrets: [{name: regcred}]
          env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: db, key: password}}}]
          podMetadata:
            annotations:
              sim.gantry.dev/script: '{logs: ["training"], exit: {code: 0, after: 20s}}'
        """

    @Test func noSecretValueInControllerLogsEventsStatusOrRequestLog() async throws {
        try await withWebhookReceiver { url, receiver in
            try await withCluster(TestCluster(DevClusterOptions(nodes: "2x{gpu: 4}", tls: true))) { cluster async throws in
                @Sendable func kubectl(_ args: String..., stdin: String? = nil) async throws -> String {
                    let r = await cluster.kubectl(args: args, stdin: stdin)
                    guard r.ok else { throw TestFailure("kubectl \(args.joined(separator: " ")): \(r.stderr)") }
                    return r.stdout
                }
                _ = try await kubectl("apply", "-k", OperatorHarness.repoRoot + "/crds")
                _ = try await kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd/trainingjobs.gantry.dev",
                                      "crd/platformconfigs.gantry.dev", "crd/notebooks.gantry.dev")

                // The secrets: a webhook URL carrying its key, a database password for env, registry credentials.
                let webhookKey = Self.unique("whsec")
                let webhookURL = "\(url)?key=\(webhookKey)"
                let dbPassword = Self.unique("dbpass")
                let registryPassword = Self.unique("regpass")
                _ = try await kubectl("create", "secret", "generic", "chat-hook", "-n", "default", "--from-literal=url=\(webhookURL)")
                _ = try await kubectl("create", "secret", "generic", "db", "-n", "default", "--from-literal=password=\(dbPassword)")
                _ = try await kubectl("create", "secret", "docker-registry", "regcred", "-n", "default", "--docker-server=registry.example",
                                      "--docker-username=ci", "--docker-password=\(registryPassword)")
                // A budget of 7.2 GPU-seconds: the warning is posted to the webhook within seconds of the job starting.
                _ = try await kubectl("apply", "-f", "-", stdin: """
                    apiVersion: gantry.dev/v1alpha1
                    kind: PlatformConfig
                    metadata: {name: default}
                    spec:
                      budgets: {accountingPeriodSeconds: 1, namespaces: [{namespace: default, gpuHoursPerMonth: 0.002, warningFraction: 0.5}]}
                      notifications: {webhookSecretRef: {namespace: default, name: chat-hook}}
                    """)

                // The controller's kubeconfig holds both a bearer token and a client key.
                let keyPEM = try #require(cluster.cluster.clientKeyPEM)
                let kubeconfig = cluster.dir + "/controller-kubeconfig"
                let yaml = cluster.cluster.kubeconfigYAML(credentials: .clientCertificate)
                    .replacingOccurrences(of: "    client-certificate-data:", with: "    token: \(cluster.cluster.token)\n    client-certificate-data:")
                try yaml.write(toFile: kubeconfig, atomically: true, encoding: .utf8)

                let controller = try ControllerProcess(kubeconfig: kubeconfig, logPath: cluster.dir + "/controller.log",
                                                       ["--identity", "secrets", "--lease-namespace", "default", "--log-level", "trace"])
                defer { controller.killIfRunning() }

                _ = try await kubectl("apply", "-f", "-", stdin: Self.job)
                _ = try await kubectl("apply", "-f", "-", stdin: NotebookTests.manifest("nb", idle: 10))
                // The token is used by the culling probes until the notebook is culled for idleness.
                #expect(try await eventually(timeout: .seconds(60)) {
                    try await kubectl("get", "notebook", "nb", "-o", "jsonpath={.status.phase}") == "Culled"
                }, "\(controller.output.suffix(3000))")
                #expect(try await eventually(timeout: .seconds(60)) { await !receiver.bodies.isEmpty }, "the budget warning is posted")
                #expect(try await kubectl("get", "trainingjob", "trainer", "-o", "jsonpath={.status.phase}") != "",
                        "the job was reconciled")
                let tokenBase64 = try await kubectl("get", "secret", "nb-token", "-o", "jsonpath={.data.token}")
                let notebookToken = try #require(Data(base64Encoded: tokenBase64).map { String(decoding: $0, as: UTF8.self) })
                #expect(notebookToken.count >= 32)
                controller.signal(SIGTERM)
                #expect(await controller.waitForExit(timeout: 60) == 0)

                // The longest line of the key's PEM body: any copy of the key contains it.
                let keyLine = try #require(keyPEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.max { $0.count < $1.count })
                var needles = [Needle(label: "API bearer token", value: cluster.cluster.token),
                               Needle(label: "client key", value: String(keyLine)),
                               Needle(label: "webhook key", value: webhookKey),
                               Needle(label: "webhook URL", value: webhookURL),
                               Needle(label: "env secretKeyRef value", value: dbPassword),
                               Needle(label: "imagePullSecret password", value: registryPassword),
                               Needle(label: "notebook token", value: notebookToken)]
                needles += needles.map { Needle(label: $0.label + " (base64)", value: Data($0.value.utf8).base64EncodedString()) }
                needles.append(Needle(label: "client key (kubeconfig base64)", value: String(Data(keyPEM.utf8).base64EncodedString().prefix(120))))

                var haystacks: [(place: String, text: String)] = [("controller log", controller.output)]
                #expect(controller.output.contains("gantry controller stopped"), "the whole run's log")
                // The search can fail: each secret is found where it belongs, in its Secret.
                let secrets = try await kubectl("get", "secrets", "-n", "default", "-o", "json")
                for label in ["webhook URL (base64)", "notebook token (base64)", "env secretKeyRef value (base64)"] {
                    #expect(needles.contains { $0.label == label && secrets.contains($0.value) }, "\(label) in its Secret")
                }
                haystacks.append(("core/v1 Events", try await kubectl("get", "events", "-A", "-o", "json")))
                haystacks.append(("events.k8s.io Events", try await kubectl("get", "events.events.k8s.io", "-A", "-o", "json")))
                let resources = try await kubectl("api-resources", "--verbs=list", "-o", "name").split(separator: "\n")
                #expect(resources.contains("notebooks.gantry.dev") && resources.contains("pods"))
                for resource in resources {
                    let list = try JSONValue.parse(try await kubectl("get", String(resource), "-A", "-o", "json"))
                    let statuses = (list["items"]?.arrayValue ?? []).compactMap { $0["status"]?.serialized() }
                    haystacks.append(("status of \(resource)", statuses.joined(separator: "\n")))
                }
                // The API server's request log records query strings as an audit log does. The notebook token travels
                // in the services/proxy query by design (docs/notebook.md says so), so those requests are left out.
                let requests = cluster.cluster.requests().filter { !$0.path.contains("/proxy") }
                haystacks.append(("API server request log", requests.map { "\($0.method) \($0.path)?\($0.query)" }.joined(separator: "\n")))

                for needle in needles {
                    for haystack in haystacks where haystack.text.contains(needle.value) {
                        let line = haystack.text.split(separator: "\n").first { $0.contains(needle.value) } ?? ""
                        Issue.record("the \(needle.label) is in the \(haystack.place): \(line.prefix(400))")
                    }
                }
            }
        }
    }
}
