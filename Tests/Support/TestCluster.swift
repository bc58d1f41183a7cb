import Foundation
import KubeCore
import EmbeddedCluster

/// Output of one external command.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    public var ok: Bool { status == 0 }
}

/// Written by one reader thread, read after the semaphore wait.
final class DataBox: @unchecked Sendable { var data = Data() }

/// Runs a program off the Swift concurrency pool (the server under test needs those threads to answer), on
/// threads of its own: GCD's global queues would do, but Linux libdispatch adds threads to a pool whose
/// threads block only about once a second, so two dozen concurrent `kubectl --watch` (two blocked readers
/// each) stalled every other command of a test for a minute (seen in TLSTests.manyWatchesThroughTLS).
public func runProcess(_ path: String, _ args: [String], stdin: String? = nil, environment: [String: String]? = nil) async -> CommandResult {
    await withCheckedContinuation { (c: CheckedContinuation<CommandResult, Never>) in
        Thread.detachNewThread {
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
            let errDone = DispatchSemaphore(value: 0)
            Thread.detachNewThread {
                errData.data = err.fileHandleForReading.readDataToEndOfFile()
                errDone.signal()
            }
            let outData = out.fileHandleForReading.readDataToEndOfFile()
            errDone.wait()
            p.waitUntilExit()
            c.resume(returning: CommandResult(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                                              stderr: String(decoding: errData.data, as: UTF8.self)))
        }
    }
}

/// A DevCluster on a free port with a kubeconfig in a temporary folder, driven by real kubectl and curl.
public final class TestCluster: Sendable {
    public let cluster: DevCluster
    public let dir: String
    public let kubeconfig: String
    public static let kubectlPath = ProcessInfo.processInfo.environment["KUBECTL"] ?? "/usr/bin/kubectl"


    public init(_ options: DevClusterOptions = DevClusterOptions()) async throws {
        dir = NSTemporaryDirectory() + "gantry-ec-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var options = options
        if options.dataDir == "<temp>" { options.dataDir = dir + "/data" }
        cluster = try await DevCluster.start(options)
        kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
        if let ca = cluster.caPEM { try Data(ca.utf8).write(to: URL(fileURLWithPath: caFile)) }
    }

    /// The cluster's CA (HTTPS only), for curl.
    public var caFile: String { dir + "/ca.crt" }

    /// A bare API server (no simulated nodes unless `options` names some), for tests that play the kubelet
    /// themselves or need none.
    public static func bare(_ options: DevClusterOptions = DevClusterOptions()) async throws -> TestCluster {
        var options = options
        if options.nodes == nil { options.nodes = "off" }
        return try await TestCluster(options)
    }

    public static func bare(reusing dir: String, _ options: DevClusterOptions) async throws -> TestCluster {
        var options = options
        if options.nodes == nil { options.nodes = "off" }
        return try await TestCluster(reusing: dir, options)
    }

    public init(reusing dir: String, _ options: DevClusterOptions) async throws {
        self.dir = dir
        cluster = try await DevCluster.start(options)
        kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
        if let ca = cluster.caPEM { try Data(ca.utf8).write(to: URL(fileURLWithPath: caFile)) }
    }

    public func stop() async {
        await cluster.stop()
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// `kubectl --kubeconfig ... --cache-dir ... ARGS` (a private discovery cache per cluster).
    public func kubectl(_ args: String..., stdin: String? = nil) async -> CommandResult {
        await kubectl(args: args, stdin: stdin)
    }

    public func kubectl(args: [String], stdin: String? = nil) async -> CommandResult {
        await runProcess(Self.kubectlPath, ["--kubeconfig", kubeconfig, "--cache-dir", dir + "/cache"] + args, stdin: stdin,
                         environment: ["HOME": dir, "PATH": "/usr/bin:/bin"])
    }

    /// curl with the cluster's token; answers (HTTP status, body).
    public func curl(_ method: String = "GET", _ path: String, body: String? = nil, contentType: String = "application/json",
              headers: [String] = [], token: String? = nil, maxTime: Int = 20) async -> (Int, String) {
        var args = ["-sS", "-X", method, "-H", "Authorization: Bearer \(token ?? cluster.token)", "-w", "\n%{http_code}",
                    "--max-time", String(maxTime)]
        for h in headers { args += ["-H", h] }
        if cluster.caPEM != nil { args += ["--cacert", caFile] }
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

    public func json(_ path: String) async throws -> JSONValue {
        let (code, body) = await curl("GET", path)
        guard code == 200 else { throw TestFailure("GET \(path) answered \(code): \(body)") }
        return try JSONValue.parse(body)
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// Polls `condition` until it holds or the deadline passes (never a fixed sleep).
public func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

