import Foundation
import KubeCore
@testable import EmbeddedCluster

/// Output of one external command.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
    var ok: Bool { status == 0 }
}

/// Written by one reader thread, read after the DispatchGroup wait.
final class DataBox: @unchecked Sendable { var data = Data() }

/// Runs a program off the Swift concurrency pool (the server under test needs those threads to answer).
func runProcess(_ path: String, _ args: [String], stdin: String? = nil, environment: [String: String]? = nil) async -> CommandResult {
    await withCheckedContinuation { (c: CheckedContinuation<CommandResult, Never>) in
        DispatchQueue.global().async {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: path)
            p.arguments = args
            if let environment { p.environment = environment }
            let out = Pipe(), err = Pipe(), input = Pipe()
            p.standardOutput = out
            p.standardError = err
            p.standardInput = input
            do { try p.run() } catch {
                c.resume(returning: CommandResult(status: -1, stdout: "", stderr: "\(error)"))
                return
            }
            if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
            try? input.fileHandleForWriting.close()
            // Read both pipes concurrently so neither fills up and blocks the child.
            let errData = DataBox()
            let group = DispatchGroup()
            group.enter()
            DispatchQueue.global().async {
                errData.data = err.fileHandleForReading.readDataToEndOfFile()
                group.leave()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            group.wait()
            p.waitUntilExit()
            c.resume(returning: CommandResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                              stderr: String(decoding: errData.data, as: UTF8.self)))
        }
    }
}

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
        if let body { args += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"] }
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

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Polls `condition` until it holds or the deadline passes (never a fixed sleep).
func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
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
