import Foundation
import GantryTestSupport
import KubeCore
@testable import EmbeddedCluster

/// Process running, waiting and failures come from GantryTestSupport (shared with the end-to-end tests).
/// A DevCluster on a free port with a kubeconfig in a temporary folder, driven by real kubectl and curl.
final class TestCluster: Sendable {
    let cluster: DevCluster
    let dir: String
    let kubeconfig: String
    static let kubectlPath = ProcessInfo.processInfo.environment["KUBECTL"] ?? "/usr/bin/kubectl"

    static var kubectlAvailable: Bool { FileManager.default.isExecutableFile(atPath: kubectlPath) }

    init(_ options: DevClusterOptions = DevClusterOptions(nodes: "off")) async throws {  // server tests: no simulation unless asked
        dir = NSTemporaryDirectory() + "gantry-ec-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = options
        if options.dataDir == "<temp>" { options.dataDir = dir + "/data" }
        // Server tests run on a bare API server; simulation tests ask for nodes explicitly.
        if options.nodes == nil { options.nodes = "off" }
        cluster = try await DevCluster.start(options)
        kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
        if let ca = cluster.caPEM { try Data(ca.utf8).write(to: URL(fileURLWithPath: dir + "/ca.crt")) }
    }

    init(reusing dir: String, _ options: DevClusterOptions) async throws {
        self.dir = dir
        var options = options
        if options.nodes == nil { options.nodes = "off" }
        cluster = try await DevCluster.start(options)
        kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
    }

    func stop() async {
        await cluster.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `kubectl --kubeconfig ... --cache-dir ... ARGS` (a private discovery cache per cluster).
    func kubectl(_ args: String..., stdin: String? = nil) async -> CommandResult {
        await kubectl(args: args, stdin: stdin)
    }

    func kubectl(args: [String], stdin: String? = nil) async -> CommandResult {
        await runProcess(Self.kubectlPath, ["--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache"] + args, stdin: stdin,
                         environment: ["HOME": dir, "PATH": "/usr/bin:/bin"])
    }

    /// curl with the cluster's token; answers (HTTP status, body).
    func curl(_ method: String = "GET", _ path: String, body: String? = nil, contentType: String = "application/json",
              headers: [String] = [], token: String? = nil, maxTime: Int = 20) async -> (Int, String) {
        var args = ["-sS", "-X", method, "-H", "Authorization: Bearer \(token ?? cluster.token)", "-w", "\n%{http_code}",
                    "--max-time", String(maxTime)]
        for h in headers { args += ["-H", h] }
        if cluster.caPEM != nil { args += ["--cacert", dir + "/ca.crt"] }
        if body != nil { args += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
        args.append(cluster.url + path)
        let r = await runProcess("/usr/bin/curl", args, stdin: body)
        var text = r.stdout
        var code = 0
        if let nl = text.lastIndex(of: "\n") {
            code = Int(text[text.index(after: nl)...]) ?? 0
            text = String(text[..<nl])
        }
        return (code, text)
    }

    func json(_ path: String) async throws -> JSONValue {
        let (code, body) = await curl("GET", path)
        guard code == 200 else { throw TestFailure("GET \(path) answered \(code): \(body)") }
        return try JSONValue.parse(body)
    }
}

let trainingJobCRD = """
    apiVersion: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
    metadata:
      name: trainingjobs.gantry.dev
    spec:
      group: gantry.dev
      scope: Namespaced
      names: {plural: trainingjobs, singular: trainingjob, kind: TrainingJob, shortNames: [tj], categories: [gantry]}
      versions:
      - name: v1
        served: true
        storage: true
        subresources: {status: {}, scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}}
        additionalPrinterColumns:
        - {name: Replicas, type: integer, jsonPath: .spec.replicas}
        - {name: Ready, type: string, jsonPath: '.status.conditions[?(@.type=="Ready")].status'}
        - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
        schema:
          openAPIV3Schema:
            type: object
            properties:
              spec:
                type: object
                properties:
                  replicas: {type: integer, minimum: 1}
                  image: {type: string}
              status:
                type: object
                x-kubernetes-preserve-unknown-fields: true

    """
