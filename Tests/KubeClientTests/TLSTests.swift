import Foundation
import KubeClient
import KubeCore
import Testing

/// A throwaway CA, a server certificate for the name "kubernetes" only, and a client certificate, made with
/// the openssl command.
struct TestPKI {
    let dir: TempDir
    var path: String { dir.path }

    /// Runs openssl on a thread of its own, not on the Swift concurrency pool that servers under test need.
    static func make() async throws -> TestPKI {
        try await offPool { try TestPKI() }
    }

    private init() throws {
        dir = try TempDir()
        let script = """
            set -e
            cd '\(dir.path)'
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
            key ca.key; key server.key; key client.key
            openssl req -x509 -new -key ca.key -out ca.crt -days 1 -subj /CN=test-ca 2>/dev/null
            openssl req -new -key server.key -out server.csr -subj /CN=kubernetes 2>/dev/null
            printf 'subjectAltName=DNS:kubernetes\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 1 -extfile san.ext 2>/dev/null
            openssl req -new -key client.key -out client.csr -subj /CN=gantry 2>/dev/null
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

@Suite("TLS: CA and client certificates from data, tls-server-name, insecure only when asked")
struct TLSTests {
    static let opensslAvailable = FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")

    @Test(.enabled(if: opensslAvailable)) func mutualTLSWithServerName() async throws {
        let pki = try await TestPKI.make()
        let server = try await FakeAPIServer.start(tls: (pki.path + "/server.crt", pki.path + "/server.key", pki.path + "/ca.crt"))
        let url = "https://127.0.0.1:\(server.port)"
        var config = KubeConfig(server: url, caData: try pki.bytes("ca.crt"), clientCertData: try pki.bytes("client.crt"),
                                clientKeyData: try pki.bytes("client.key"), token: server.token, tlsServerName: "kubernetes")
        let client = try KubeClient(config: config)
        _ = try await client.list(configMaps, namespace: "tls")

        // Without the server name, the certificate (valid for "kubernetes" only) does not match 127.0.0.1.
        config.tlsServerName = nil
        let wrongName = try KubeClient(config: config, options: ClientOptions(maxRetries: 0))
        await #expect { try await wrongName.list(configMaps, namespace: "tls") } throws: { isTransport($0) }

        // Without the CA the server is not trusted…
        var noCA = config
        noCA.caData = nil
        noCA.tlsServerName = "kubernetes"
        let untrusted = try KubeClient(config: noCA, options: ClientOptions(maxRetries: 0))
        await #expect { try await untrusted.list(configMaps, namespace: "tls") } throws: { isTransport($0) }
        // …unless verification is explicitly off.
        noCA.insecureSkipTLSVerify = true
        noCA.tlsServerName = nil
        _ = try await KubeClient(config: noCA).list(configMaps, namespace: "tls")

        // The server demands a client certificate.
        var noCert = config
        noCert.tlsServerName = "kubernetes"
        noCert.clientCertData = nil
        noCert.clientKeyData = nil
        let anonymous = try KubeClient(config: noCert, options: ClientOptions(maxRetries: 0))
        await #expect { try await anonymous.list(configMaps, namespace: "tls") } throws: { isTransport($0) }
    }

    @Test(.enabled(if: opensslAvailable)) func kubeconfigWithCertificateFiles() async throws {
        let pki = try await TestPKI.make()
        let server = try await FakeAPIServer.start(tls: (pki.path + "/server.crt", pki.path + "/server.key", pki.path + "/ca.crt"))
        let file = try pki.dir.write("kubeconfig", """
            current-context: tls
            clusters:
            - name: c
              cluster: {server: "https://127.0.0.1:\(server.port)", certificate-authority: ca.crt, tls-server-name: kubernetes}
            users:
            - name: u
              user: {client-certificate: client.crt, client-key: client.key, token: \(server.token)}
            contexts:
            - name: tls
              context: {cluster: c, user: u, namespace: secure}
            """)
        let client = try KubeClient(config: try KubeConfig.load(path: file, environment: [:]))
        #expect(client.defaultNamespace == "secure")
        _ = try await client.create(configMaps, configMap("over-tls"))
        #expect(try await client.get(configMaps, namespace: nil, name: "over-tls").name == "over-tls")
    }
}

func isTransport(_ error: any Error) -> Bool {
    if case .transport = error as? KubeClientError { return true }
    return false
}
