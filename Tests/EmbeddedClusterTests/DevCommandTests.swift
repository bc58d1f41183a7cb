import GantryTestSupport
import Foundation
import KubeCore
import Testing

/// The command-line contract of `gantry dev` (docs/embedded-cluster.md, "Command line"), checked on the built
/// binary: HTTPS by default, `--insecure-http` for plain HTTP, the startup lines scripts wait for.
@Suite(.serialized)
struct DevCommandTests {
    init() throws {
        try Prerequisite.executable(GantryDev.binary, "the gantry binary (run `swift build --build-tests` first)")
        try Prerequisite.kubectl()
    }

    @Test func servesHTTPSByDefault() async throws {
        let dev = try await GantryDev.start([])
        defer { dev.stop() }
        #expect(dev.url.hasPrefix("https://127.0.0.1:"), "\(dev.output)")
        #expect(dev.output.contains("security: HTTPS"), "\(dev.output)")
        let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
        #expect(config.contains("certificate-authority-data: ") && config.contains("token: "))
        let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", dev.kubeconfig, "get", "namespaces"],
                                 environment: ["HOME": dev.dir, "PATH": "/usr/bin:/bin"])
        #expect(r.ok && r.stdout.contains("kube-system"), "\(r.stderr)")
        let anonymous = await runProcess("/usr/bin/curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", dev.url + "/api/v1/namespaces"])
        #expect(anonymous.stdout == "401")
    }

    @Test func clientCertificateCredentials() async throws {
        let dev = try await GantryDev.start(["--credentials", "client-certificate"])
        defer { dev.stop() }
        #expect(dev.output.contains("the kubeconfig carries the CA and a client certificate"), "\(dev.output)")
        let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
        #expect(config.contains("client-certificate-data: ") && config.contains("client-key-data: ") && !config.contains("token: "))
        let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", dev.kubeconfig, "get", "namespaces"],
                                 environment: ["HOME": dev.dir, "PATH": "/usr/bin:/bin"])
        #expect(r.ok && r.stdout.contains("kube-system"), "\(r.stderr)")
        // Without HTTPS there is no certificate to hand out: refused with the fix named.
        let refused = await runProcess(GantryDev.binary, ["dev", "--no-tls", "--credentials", "client-certificate"])
        #expect(!refused.ok && refused.stderr.contains("--credentials client-certificate needs HTTPS"), "\(refused.stderr)")
    }

    /// HTTP/2 by default (ALPN), HTTP/1.1 only with --no-http2.
    @Test func http2OptOut() async throws {
        for (args, expected) in [([String](), "2"), (["--no-http2"], "1.1")] {
            let dev = try await GantryDev.start(args)
            defer { dev.stop() }
            let r = await runProcess("/usr/bin/curl", ["-sk", "--http2", "-o", "/dev/null", "-w", "%{http_version}", dev.url + "/version"])
            #expect(r.stdout == expected, "\(args): \(r.stdout) \(r.stderr)")
        }
    }

    @Test func insecureHTTPOptOut() async throws {
        for flag in ["--insecure-http", "--no-tls"] {
            let dev = try await GantryDev.start([flag])
            defer { dev.stop() }
            #expect(dev.url.hasPrefix("http://127.0.0.1:"), "\(dev.output)")
            #expect(dev.output.contains("security: plain HTTP"), "\(dev.output)")
            let config = try String(contentsOfFile: dev.kubeconfig, encoding: .utf8)
            #expect(!config.contains("certificate-authority-data"))
            let r = await runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", dev.url + "/api/v1/namespaces"])
            #expect(r.stdout == "200")
        }
    }
}

/// A `gantry dev` process, started with a kubeconfig in a temporary folder and stopped with SIGTERM.
final class GantryDev: @unchecked Sendable {
    let process: Process
    let dir: String
    let kubeconfig: String
    let url: String
    let output: String

    /// `.build/debug/gantry` of this checkout (built by `swift build --build-tests`).
    static let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/gantry").path

    private init(process: Process, dir: String, kubeconfig: String, url: String, output: String) {
        self.process = process
        self.dir = dir
        self.kubeconfig = kubeconfig
        self.url = url
        self.output = output
    }

    /// Starts the server and waits (up to 60 s) for the `export KUBECONFIG=` line that ends the startup hint.
    static func start(_ args: [String]) async throws -> GantryDev {
        let dir = NSTemporaryDirectory() + "gantry-dev-" + UUID().uuidString.prefix(8)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let kubeconfig = dir + "/kubeconfig"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["dev", "--kubeconfig", kubeconfig, "--nodes", "off"] + args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let lines: String = await withCheckedContinuation { c in
            DispatchQueue.global().async {
                var text = ""
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, !text.contains("export KUBECONFIG=") {
                    let chunk = out.fileHandleForReading.availableData  // blocks until output or EOF
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                c.resume(returning: text)
            }
        }
        let first = lines.split(separator: "\n").first { $0.hasPrefix("gantry dev: serving the Kubernetes API at ") }
        guard let first, lines.contains("export KUBECONFIG=\(kubeconfig)") else {
            process.terminate()
            throw TestFailure("gantry dev did not print its startup lines: \(lines)")
        }
        let url = String(first.dropFirst("gantry dev: serving the Kubernetes API at ".count))
        return GantryDev(process: process, dir: dir, kubeconfig: kubeconfig, url: url, output: lines)
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: dir)
    }
}
