import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// A throwaway CA of its own and a client certificate it signed, made with the openssl command: credentials
/// the embedded cluster must refuse.
struct ForeignPKI {
    let dir: TempDir
    var path: String { dir.path }

    /// Runs openssl on a thread of its own, not on the Swift concurrency pool that servers under test need.
    static func make() async throws -> ForeignPKI {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try ForeignPKI() }) }.start()
        }
    }

    private init() throws {
        dir = try TempDir()
        let script = """
            set -e
            cd '\(dir.path)'
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
            key ca.key; key client.key
            openssl req -x509 -new -key ca.key -out ca.crt -days 1 -subj /CN=foreign-ca 2>/dev/null
            openssl req -new -key client.key -out client.csr -subj /CN=intruder 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 1 2>/dev/null
            """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("openssl failed") }
    }

    func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))) }
}

/// TLS against the embedded cluster's HTTPS endpoint (its CA and certificates generated at start with OpenSSL).
@Suite("TLS: CA and client certificates from data or files, tls-server-name, insecure only when asked")
struct TLSTests {
    static let noRetries = ClientOptions(maxRetries: 0)

    func lastUser(_ f: ClusterFixture) -> String?? { f.cluster.requests().last(where: { $0.path.hasSuffix("/configmaps") })?.user }

    @Test func clientCertificateServerNameAndVerification() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            let cert = Array(try #require(f.cluster.clientCertificatePEM).utf8)
            let key = Array(try #require(f.cluster.clientKeyPEM).utf8)

            // The client certificate alone authenticates (no token), with a server name the certificate holds.
            let mutual = try f.client { c in
                c.token = nil
                c.clientCertData = cert
                c.clientKeyData = key
                c.tlsServerName = "localhost"
            }
            _ = try await mutual.list(configMaps, namespace: "default")
            #expect(lastUser(f) == "gantry-dev-admin")

            // A server name the certificate does not hold fails verification.
            let wrongName = try f.client({ $0.tlsServerName = "kubernetes" }, options: Self.noRetries)
            await #expect { try await wrongName.list(configMaps, namespace: "default") } throws: { isTransport($0) }

            // Without the CA the server is not trusted…
            let untrusted = try f.client({ $0.caData = nil }, options: Self.noRetries)
            await #expect { try await untrusted.list(configMaps, namespace: "default") } throws: { isTransport($0) }
            // …unless verification is explicitly off.
            _ = try await f.client { c in
                c.caData = nil
                c.insecureSkipTLSVerify = true
            }.list(configMaps, namespace: "default")

            // Neither a certificate nor a token: the TLS handshake succeeds (client certificates are optional), the
            // request is refused.
            let anonymous = try f.client({ $0.token = nil }, options: Self.noRetries)
            await #expect { try await anonymous.list(configMaps, namespace: "default") } throws: { ($0 as? APIError)?.isUnauthorized == true }
        }
    }

    /// A certificate the cluster CA did not sign gives no identity (the handshake still succeeds, as with
    /// kube-apiserver): alone it is refused with 401; beside a valid token, the token authenticates.
    @Test func certificateFromAnotherCAGivesNoIdentity() async throws {
        try Prerequisite.executable("/usr/bin/openssl", "openssl")
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            let foreign = try await ForeignPKI.make()
            let cert = try foreign.bytes("client.crt"), key = try foreign.bytes("client.key")
            let intruder = try f.client({ c in
                c.token = nil
                c.clientCertData = cert
                c.clientKeyData = key
            }, options: Self.noRetries)
            await #expect { try await intruder.list(configMaps, namespace: "default") } throws: { ($0 as? APIError)?.isUnauthorized == true }
            f.cluster.addToken("robot-token", user: "robot")
            let withToken = try f.client({ c in
                c.token = "robot-token"
                c.clientCertData = cert
                c.clientKeyData = key
            }, options: Self.noRetries)
            _ = try await withToken.list(configMaps, namespace: "default")
            #expect(f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") }.map(\.user) == [nil, "robot"])
        }
    }

    @Test func kubeconfigWithCertificateFiles() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            try f.writePKI()
            let file = try f.dir.write("kubeconfig-files", """
                current-context: tls
                clusters:
                - name: c
                  cluster: {server: "\(f.cluster.url)", certificate-authority: pki/ca.crt, tls-server-name: localhost}
                users:
                - name: u
                  user: {client-certificate: pki/client.crt, client-key: pki/client.key}
                contexts:
                - name: tls
                  context: {cluster: c, user: u, namespace: secure}
                """)
            let client = try KubeClient(config: try KubeConfig.load(path: file, environment: [:]))
            #expect(client.defaultNamespace == "secure")
            try await namespace(client, "secure")
            _ = try await client.create(configMaps, configMap("over-tls"))
            #expect(try await client.get(configMaps, namespace: nil, name: "over-tls").name == "over-tls")
            #expect(lastUser(f) == "gantry-dev-admin")
        }
    }
}

/// The cluster's `proxy-url`: requests tunnel through an HTTP CONNECT proxy, TLS and HTTP/2 inside the tunnel.
@Suite("proxy-url")
struct ProxyTests {
    @Test func requestsGoThroughTheKubeconfigsProxy() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            let proxy = try ConnectProxy()
            defer { proxy.stop() }
            let port = try #require(URLComponents(string: f.cluster.url)?.port)
            var text = try String(contentsOfFile: f.dir.path + "/kubeconfig", encoding: .utf8)
            text = text.replacingOccurrences(of: "    server: \(f.cluster.url)", with: "    server: \(f.cluster.url)\n    proxy-url: \(proxy.url)")
            let file = try f.dir.write("kubeconfig-proxy", text)
            let config = try KubeConfig.load(path: file, environment: [:])
            #expect(config.proxyURL == proxy.url)
            let client = try KubeClient(config: config, options: ClientOptions(userAgent: "via-proxy"))
            _ = try await client.create(configMaps, configMap("proxied"))
            _ = try await client.list(configMaps, namespace: "default")
            #expect(proxy.tunnels == ["127.0.0.1:\(port)"], "one tunnel, reused")
            #expect(f.cluster.requests().filter { $0.userAgent == "via-proxy" }.map(\.code) == [201, 200])

            // kubectl reads the same kubeconfig and goes through the same proxy.
            let r = await runProcess(try Prerequisite.kubectl(), ["--kubeconfig", file, "get", "configmap", "proxied"],
                                     environment: ["HOME": f.dir.path, "PATH": "/usr/bin:/bin"])
            #expect(r.ok && r.stdout.contains("proxied"), "\(r.stderr)")
            #expect(proxy.tunnels.count >= 2)

            // Credentials in a proxy URL never show when the config is printed.
            var secret = config
            secret.proxyURL = "http://user:hunter2@proxy.example:3128"
            #expect(!secret.description.contains("hunter2") && secret.description.contains("proxy.example:3128"))
        }
    }

    @Test func aProxyURLWithoutAKnownSchemeIsRefusedNamingTheField() throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            current-context: c
            clusters: [{name: c, cluster: {server: "https://10.0.0.1", proxy-url: "proxy.example:3128"}}]
            contexts: [{name: c, context: {cluster: c}}]
            """)
        #expect { try KubeConfig.load(path: file, environment: [:]) } throws: { error in
            "\(error)".contains("proxy-url") && "\(error)".contains("http, https, socks5")
        }
    }
}

func isTransport(_ error: any Error) -> Bool {
    if case .transport = error as? KubeClientError { return true }
    return false
}

/// "A kubeconfig that real kubectl accepts works for gantry unchanged": one written by `kubectl config`
/// commands from scratch (CA embedded, client certificate from files, a second context with a token), and
/// the flattened view of a two-file `$KUBECONFIG` merge, both used by KubeClient as they are.
@Suite("kubeconfigs written by kubectl")
struct KubectlWrittenKubeconfigTests {
    init() throws { try Prerequisite.kubectl() }

    @Test func configWrittenByKubectlCommandsWorks() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            try f.writePKI(cert: "admin.crt", key: "admin.key")
            let file = f.dir.path + "/written-by-kubectl"
            let env = ["HOME": f.dir.path, "PATH": "/usr/bin:/bin"]
            for args in [
                ["config", "set-cluster", "dev", "--server", f.cluster.url, "--certificate-authority", f.dir.path + "/pki/ca.crt", "--embed-certs=true"],
                ["config", "set-credentials", "admin", "--client-certificate", f.dir.path + "/pki/admin.crt", "--client-key", f.dir.path + "/pki/admin.key"],
                ["config", "set-credentials", "robot", "--token", f.cluster.token],
                ["config", "set-context", "as-admin", "--cluster", "dev", "--user", "admin", "--namespace", "kube-system"],
                ["config", "set-context", "as-robot", "--cluster", "dev", "--user", "robot"],
                ["config", "use-context", "as-admin"],
            ] {
                let r = await runProcess(TestCluster.kubectlPath, ["--kubeconfig", file] + args, environment: env)
                #expect(r.ok, "kubectl \(args.joined(separator: " ")): \(r.stderr)")
            }
            let admin = try KubeClient(config: KubeConfig.load(path: file, environment: [:]))
            #expect(admin.defaultNamespace == "kube-system")
            _ = try await admin.list(configMaps, namespace: nil)
            let robot = try KubeClient(config: KubeConfig.load(path: file, context: "as-robot", environment: [:]))
            _ = try await robot.list(configMaps, namespace: "default")
            let users = f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") }.compactMap(\.user)
            #expect(users == ["gantry-dev-admin", "gantry-dev-admin"])  // certificate, then the admin token

            // kubectl's own merge of a two-file KUBECONFIG, flattened, is the same cluster to us.
            let merged = await runProcess(TestCluster.kubectlPath, ["config", "view", "--flatten", "--minify"],
                                          environment: env.merging(["KUBECONFIG": file + ":" + f.dir.path + "/kubeconfig"]) { a, _ in a })
            #expect(merged.ok, "\(merged.stderr)")
            let flat = try f.dir.write("flattened", merged.stdout)
            _ = try await KubeClient(config: KubeConfig.load(path: flat, environment: [:])).list(configMaps, namespace: "default")
        }
    }
}
