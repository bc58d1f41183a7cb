import GantryTestSupport
import Foundation
import KubeCore
import Testing
@testable import EmbeddedCluster

/// HTTPS (the default of `gantry dev`): the kubeconfig, kubectl 1.27–1.33, and the TLS front end under a
/// watch-heavy load.
@Suite(.serialized)
struct TLSTests {
    init() throws { try Prerequisite.kubectl() }

    static let configMaps = "/api/v1/namespaces/default/configmaps"

    @Test func kubeconfigCarriesCAAndToken() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let text = try String(contentsOfFile: t.kubeconfig, encoding: .utf8)
            let ca = try #require(t.cluster.caPEM)
            #expect(text.contains("certificate-authority-data: " + Data(ca.utf8).base64EncodedString()))
            #expect(text.contains("token: " + t.cluster.token))
            #expect(text.contains("server: https://127.0.0.1:"))
            #expect(!text.contains("insecure-skip-tls-verify"))
            let attributes = try FileManager.default.attributesOfItem(atPath: t.kubeconfig)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        }
    }

    /// The kubeconfig variant with the admin client certificate instead of the token: kubectl authenticates
    /// by x509 alone; without the certificate, an unknown token is refused.
    @Test func kubectlWithTheClientCertificate() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let certConfig = t.dir + "/kubeconfig-cert"
            try t.cluster.writeKubeconfig(to: certConfig, credentials: .clientCertificate)
            let text = try String(contentsOfFile: certConfig, encoding: .utf8)
            #expect(text.contains("client-certificate-data:") && text.contains("client-key-data:") && !text.contains(t.cluster.token))
            let env = ["HOME": t.dir, "PATH": "/usr/bin:/bin"]
            let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", certConfig, "get", "configmaps", "-A"], environment: env)
            #expect(r.ok, "\(r.stderr)")
            let record = t.cluster.requests().last { $0.path == "/api/v1/configmaps" }
            #expect(record?.user == "gantry-dev-admin" && record?.code == 200)

            // Without the certificate and with a token the server does not know, kubectl is refused. (With no
            // credentials at all kubectl would prompt for a basic-auth login on stdin.)
            let wrong = text.split(separator: "\n").filter { !$0.contains("client-key-data") }
                .map { $0.contains("client-certificate-data") ? "    token: not-a-known-token" : String($0) }.joined(separator: "\n")
            try wrong.write(toFile: t.dir + "/kubeconfig-wrong", atomically: true, encoding: .utf8)
            let refused = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", t.dir + "/kubeconfig-wrong", "get", "configmaps"], environment: env)
            #expect(!refused.ok && refused.stderr.contains("Unauthorized"), "\(refused.stderr)")
        }
    }

    /// The identity of a verified certificate belongs to its relay connection only: while kubectl holds one
    /// open (a watch), a process dialling the internal HTTP port directly — even from the relay's own source
    /// port on another loopback address — is anonymous and refused.
    @Test func certificateIdentityDoesNotLeakToOtherConnections() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true, http2: false))) { t async throws in
            let certConfig = t.dir + "/kubeconfig-cert"
            try t.cluster.writeKubeconfig(to: certConfig, credentials: .clientCertificate)
            let watch = Task {
                await runProcess(TestCluster.kubectlPath, ["--kubeconfig", certConfig, "get", "configmaps", "-w", "--request-timeout=120s"],
                                 environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
            }
            @Sendable func relay() -> RequestRecord? {
                t.cluster.requests().last { $0.query.contains("watch=true") && $0.user == "gantry-dev-admin" }
            }
            #expect(try await eventually { relay() != nil })
            let relayPort = try #require(relay()?.peerPort)
            for args in [["--interface", "127.0.0.1"], ["--interface", "127.0.0.2"], ["--interface", "127.0.0.2", "--local-port", String(relayPort)]] {
                let direct = await runProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + args
                                                                + ["http://127.0.0.1:\(t.cluster.port)/api/v1/namespaces"])
                #expect(direct.stdout == "401", "direct \(args): \(direct.stdout) \(direct.stderr)")
            }
            // The relay's watch was still open through every direct attempt; the server ends it now.
            let stillOpen = await t.cluster.store.openWatchCount
            #expect(stillOpen == 1, "the relay's watch stayed open through the direct attempts")
            await t.cluster.dropWatches()
            _ = await watch.value
        }
    }

    /// HTTP/2 details: a HEAD answer carries no DATA (curl treats any as a protocol error), and a restart
    /// ends open HTTP/2 streams (a watch) and serves again on the same public port.
    @Test func http2HeadAndRestart() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let head = await runProcess("/usr/bin/curl", ["-sS", "--http2", "-I", "--cacert", t.caFile, t.cluster.url + "/healthz"])
            #expect(head.ok && head.stdout.hasPrefix("HTTP/2 200"), "\(head.stdout) \(head.stderr)")
            let internalBefore = t.cluster.port
            let watch = Task { await t.curl("GET", "/api/v1/namespaces/default/configmaps?watch=true", maxTime: 60) }
            #expect(try await eventually { await t.cluster.store.openWatchCount == 1 })
            #expect(t.cluster.requests().last { $0.query.contains("watch=true") }?.httpVersion == "HTTP/2")
            try await t.cluster.restart()
            let started = ContinuousClock.now
            _ = await watch.value
            #expect(ContinuousClock.now - started < .seconds(30), "the open watch ended with the restart, not at curl's 60 s limit")
            #expect(t.cluster.port != internalBefore, "the internal port is fresh after a restart")
            let r = await t.kubectl("get", "namespaces")
            #expect(r.ok && r.stdout.contains("kube-system"), "\(r.stderr)")
            #expect(t.cluster.requests().filter { ($0.userAgent ?? "").hasPrefix("kubectl") }.allSatisfy { $0.httpVersion == "HTTP/2" })
        }
    }

    /// Every kubectl release we ship against (1.27–1.33) verifies the generated CA and authenticates.
    @Test func kubectlVersionsOverHTTPS() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let versions = try Prerequisite.kubectlReleases(["1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"]) + [TestCluster.kubectlPath]
            for (i, kubectl) in versions.enumerated() {
                func run(_ args: String..., stdin: String? = nil) async -> CommandResult {
                    await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/cache-\(i)"] + args, stdin: stdin,
                                     environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
                }
                var r = await run("get", "namespaces")
                #expect(r.ok && r.stdout.contains("kube-system"), "\(kubectl): \(r.stderr)")
                r = await run("apply", "-f", "-", stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: v\(i)}\ndata: {a: b}\n")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await run("describe", "configmap", "v\(i)")
                #expect(r.ok && r.stdout.contains("Events:"), "\(kubectl): \(r.stderr)")
            }
            // Every kubectl negotiated HTTP/2 (ALPN h2), as it does with kube-apiserver.
            let kubectlRequests = t.cluster.requests().filter { ($0.userAgent ?? "").hasPrefix("kubectl") }
            #expect(!kubectlRequests.isEmpty && kubectlRequests.allSatisfy { $0.httpVersion == "HTTP/2" })
            // A kubeconfig without the CA is refused by kubectl (the certificate is not from a known authority).
            let noCA = try String(contentsOfFile: t.kubeconfig, encoding: .utf8).split(separator: "\n")
                .filter { !$0.contains("certificate-authority-data") }.joined(separator: "\n")
            try noCA.write(toFile: t.dir + "/no-ca", atomically: true, encoding: .utf8)
            let refused = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", t.dir + "/no-ca", "get", "ns"],
                                           environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
            #expect(!refused.ok && refused.stderr.contains("certificate"), "\(refused.stderr)")
        }
    }

    /// 20 libcurl watches and 4 kubectl watches stay open through the TLS front end while kubectl and curl
    /// write and read; every watcher sees every change.
    @Test func manyWatchesThroughTLS() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let rv = await t.cluster.store.currentRevision
            let curlWatches = (0..<20).map { _ in
                Task { await t.curl("GET", Self.configMaps + "?watch=true&resourceVersion=\(rv)", maxTime: 120) }
            }
            let kubectlWatches = (0..<4).map { _ in
                Task { await t.kubectl("get", "configmaps", "--watch", "--output-watch-events", "-o", "name", "--request-timeout=120s") }
            }
            let open = try await eventually(timeout: .seconds(60)) { await t.cluster.store.openWatchCount == 24 }
            let count = await t.cluster.store.openWatchCount
            #expect(open, "open watches: \(count)")
            // Writes and reads meanwhile, half through kubectl, half through curl, all at once.
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<5 {
                    group.addTask {
                        let r = await t.kubectl("create", "configmap", "k\(i)", "--from-literal=a=b")
                        #expect(r.ok, "\(r.stderr)")
                    }
                    group.addTask {
                        let (code, body) = await t.curl("POST", Self.configMaps, body: #"{"metadata":{"name":"c\#(i)"}}"#)
                        #expect(code == 201, "\(body)")
                    }
                    group.addTask {
                        let r = await t.kubectl("get", "namespaces", "-o", "name")
                        #expect(r.ok && r.stdout.contains("namespace/default"), "\(r.stderr)")
                    }
                }
            }
            let names = (0..<5).flatMap { ["k\($0)", "c\($0)"] }
            // Ending the streams flushes what each one still buffers (the store hands over every event first).
            await t.cluster.dropWatches()
            for watch in curlWatches {
                let (code, body) = await watch.value
                #expect(code == 200)
                let seen = Set(body.split(separator: "\n").compactMap { try? JSONValue.parse(String($0))[path: "object", "metadata", "name"]?.stringValue })
                #expect(seen.isSuperset(of: names), "curl watch saw \(seen.sorted())")
            }
            for watch in kubectlWatches {
                let r = await watch.value
                for name in names { #expect(r.stdout.contains("configmap/\(name)"), "kubectl watch: \(r.stdout) \(r.stderr)") }
            }
        }
    }
}
