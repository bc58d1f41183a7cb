import Foundation
import GantryTestSupport
@testable import KubeClient
import KubeCore
import Testing

/// A shell exec credential plugin: counts its runs, records KUBERNETES_EXEC_INFO, its args and $FOO, and
/// prints a token ("stale" on the first run when $FIRST_STALE is set) with an optional expiry from $EXPIRY.
let pluginScript = #"""
#!/bin/sh
dir="$(dirname "$0")"
n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$dir/count"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$dir/info.json"
echo "$* $FOO" > "$dir/args"
tok=test-token
if [ "$n" = 1 ] && [ -n "$FIRST_STALE" ]; then tok=stale; fi
printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"%s}}' "${API_VERSION:-client.authentication.k8s.io/v1}" "$tok" "$EXPIRY"
"""#

@Suite("Authentication against the embedded API server: exec plugins and rotating token files")
struct AuthTests {
    func runs(_ dir: TempDir) throws -> Int {
        Int(try String(contentsOfFile: dir.path + "/count", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// An HTTPS cluster that also accepts the plugin's token "test-token" (for the user `exec-user`).
    func cluster() async throws -> ClusterFixture {
        let f = try await ClusterFixture.start(tls: true)
        f.cluster.addToken("test-token", user: "exec-user")
        return f
    }

    func execClient(_ f: ClusterFixture, _ dir: TempDir, env: [ExecConfig.EnvVar] = [], apiVersion: String = "client.authentication.k8s.io/v1") throws -> KubeClient {
        try dir.write("plugin.sh", pluginScript, executable: true)
        // Run through /bin/sh rather than exec'ing the file just written: with tests forking in parallel, a
        // freshly written executable can be briefly "text file busy".
        let exec = ExecConfig(command: "/bin/sh", args: [dir.path + "/plugin.sh", "--flag", "x"], env: env + [.init(name: "API_VERSION", value: apiVersion)],
                              apiVersion: apiVersion, provideClusterInfo: true, baseDirectory: dir.path)
        // The kubeconfig's cluster (server, CA) with the plugin as the user, and a server name the certificate holds.
        return try f.client { c in
            c.token = nil
            c.exec = exec
            c.tlsServerName = "localhost"
        }
    }

    func users(_ f: ClusterFixture) -> [String?] {
        f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") }.map(\.user)
    }

    @Test func execPluginTokenIsCachedAndClusterInfoSent() async throws {
        try await withCluster(cluster()) { f async throws in
            let dir = try TempDir()
            let client = try execClient(f, dir, env: [.init(name: "FOO", value: "bar")])
            _ = try await client.list(configMaps, namespace: "default")
            _ = try await client.list(configMaps, namespace: "default")
            #expect(try runs(dir) == 1)
            #expect(users(f) == ["exec-user", "exec-user"], "\(f.cluster.requests().map { "\($0.method) \($0.path) \($0.code) \($0.httpVersion) \($0.peerPort ?? 0)" })")
            let info = try JSONValue.parse(try String(contentsOfFile: dir.path + "/info.json", encoding: .utf8))
            #expect(info["kind"] == "ExecCredential")
            #expect(info["apiVersion"] == "client.authentication.k8s.io/v1")
            #expect(info[path: "spec", "interactive"] == false)
            #expect(info[path: "spec", "cluster", "server"] == .string(f.cluster.url))
            #expect(info[path: "spec", "cluster", "tls-server-name"] == "localhost")
            #expect(info[path: "spec", "cluster", "certificate-authority-data"] == .string(Data((f.cluster.caPEM ?? "").utf8).base64EncodedString()))
            #expect(try String(contentsOfFile: dir.path + "/args", encoding: .utf8) == "--flag x bar\n")
        }
    }

    @Test func expiredExecCredentialIsRefreshed() async throws {
        try await withCluster(cluster()) { f async throws in
            let dir = try TempDir()
            let client = try execClient(f, dir, env: [.init(name: "EXPIRY", value: #","expirationTimestamp":"2001-01-01T00:00:00Z""#)],
                                        apiVersion: "client.authentication.k8s.io/v1beta1")
            _ = try await client.list(configMaps, namespace: "default")
            _ = try await client.list(configMaps, namespace: "default")
            #expect(try runs(dir) == 2)
        }
    }

    @Test func execPluginRerunsAfter401() async throws {
        try await withCluster(cluster()) { f async throws in
            let dir = try TempDir()
            let client = try execClient(f, dir, env: [.init(name: "FIRST_STALE", value: "1")])
            _ = try await client.list(configMaps, namespace: "default")  // "stale" → 401 → re-run → "test-token"
            #expect(try runs(dir) == 2)
            #expect(f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") }.map(\.code) == [401, 200])
        }
    }

    @Test func failingPluginIsAnExecError() async throws {
        try await withCluster(cluster()) { f async throws in
            let dir = try TempDir()
            try dir.write("fail.sh", "#!/bin/sh\necho 'no credentials for you' >&2\nexit 3\n")
            let client = try f.client { c in
                c.token = nil
                c.exec = ExecConfig(command: "sh", args: [dir.path + "/fail.sh"])
            }
            await #expect {
                try await client.list(configMaps, namespace: "default")
            } throws: { error in
                guard case .exec(_, let message) = error as? KubeClientError else { return false }
                return message.contains("status 3") && message.contains("no credentials for you")
            }
        }
    }

    /// A projected service-account token rotates: the kubelet writes a new one, the old one stops being
    /// accepted, and the client re-reads the file on the 401 and goes on without an error.
    @Test func rotatedTokenFileIsRereadAfter401() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            f.cluster.addToken("bound-token-1", user: "system:serviceaccount:gantry-system:gantry")
            let dir = try TempDir()
            let tokenFile = try dir.write("token", "bound-token-1\n")
            let client = try f.client { c in
                c.token = nil
                c.tokenFile = tokenFile
            }
            _ = try await client.list(configMaps, namespace: "default")
            f.cluster.addToken("bound-token-2", user: "system:serviceaccount:gantry-system:gantry")
            try dir.write("token", "bound-token-2\n")
            f.cluster.revokeToken("bound-token-1")
            _ = try await client.list(configMaps, namespace: "default")
            let codes = f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") }.map(\.code)
            #expect(codes == [200, 401, 200], "the stale token is refused once, then the re-read token works")
            // A token nobody accepts any more surfaces as Unauthorized.
            f.cluster.revokeToken("bound-token-2")
            await #expect { try await client.list(configMaps, namespace: "default") } throws: { ($0 as? APIError)?.isUnauthorized == true }
        }
    }

    @Test func execCommandResolution() throws {
        let relative = ExecConfig(command: "./bin/plugin", baseDirectory: "/etc/kube")
        #expect(try ExecCredentialPlugin.resolveCommand(relative, environment: [:]) == "/etc/kube/./bin/plugin")
        #expect(try ExecCredentialPlugin.resolveCommand(ExecConfig(command: "/opt/p"), environment: [:]) == "/opt/p")
        #expect(try ExecCredentialPlugin.resolveCommand(ExecConfig(command: "sh"), environment: ["PATH": "/nonexistent:/bin"]) == "/bin/sh")
        #expect(throws: KubeClientError.self) {
            try ExecCredentialPlugin.resolveCommand(ExecConfig(command: "no-such-plugin-xyz", installHint: "install it"), environment: ["PATH": "/bin"])
        }
    }

    @Test func execCredentialDecoding() throws {
        let exec = ExecConfig(command: "p")
        #expect(throws: KubeClientError.self) { try ExecCredentialPlugin.decode(Array(#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}"#.utf8), exec: exec) }
        #expect(throws: KubeClientError.self) { try ExecCredentialPlugin.decode(Array(#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}"#.utf8), exec: exec) }
        #expect(throws: KubeClientError.self) { try ExecCredentialPlugin.decode(Array("not json".utf8), exec: exec) }
        let ok = try ExecCredentialPlugin.decode(Array(#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"2030-01-02T03:04:05Z"}}"#.utf8), exec: exec)
        #expect(ok.token == "t")
        #expect(ok.expiration != nil)
    }
}

@Suite("Token file rotation timing")
struct TokenFileTimingTests {
    /// A clock the test moves by hand.
    final class ManualClock: @unchecked Sendable {
        // @unchecked: guarded by `lock`.
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_000_000)
        var now: Date { lock.withLock { current } }
        func advance(_ seconds: TimeInterval) { lock.withLock { current += seconds } }
    }

    @Test func tokenFileIsReReadAfterAMinute() async throws {
        let dir = try TempDir()
        let file = try dir.write("token", "one\n")
        let clock = ManualClock()
        let auth = Authenticator(config: KubeConfig(server: "https://h", tokenFile: file), environment: [:], now: { clock.now })
        #expect(try await auth.credentials().bearerToken == "one")
        try dir.write("token", "two\n")
        clock.advance(30)
        #expect(try await auth.credentials().bearerToken == "one")  // cached
        clock.advance(31)
        #expect(try await auth.credentials().bearerToken == "two")  // older than a minute: re-read
        try dir.write("token", "three\n")
        await auth.invalidate()  // as after a 401
        #expect(try await auth.credentials().bearerToken == "three")
    }
}

@Suite("Exec plugin cancellation")
struct ExecCancellationTests {
    @Test func cancellingARequestKillsAHangingPlugin() async throws {
        let dir = try TempDir()
        try dir.write("hang.sh", "#!/bin/sh\ntrap '' TERM\ntouch \"$(dirname \"$0\")/started\"\nexec sleep 300\n")
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:1", exec: ExecConfig(command: "sh", args: [dir.path + "/hang.sh"])))
        let task = Task { try await client.list(configMaps, namespace: "x") }
        try await waitUntil("plugin started") { FileManager.default.fileExists(atPath: dir.path + "/started") }
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.result
        #expect(throws: (any Error).self) { try result.get() }
        #expect(ContinuousClock.now - cancelledAt < .seconds(10))
    }
}
