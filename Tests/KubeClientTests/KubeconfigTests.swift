import Foundation
import KubeClient
import Testing

@Suite("kubeconfig loading and merging")
struct KubeconfigTests {
    let ca = Data("CA-PEM".utf8).base64EncodedString()

    @Test func singleFileWithCurrentContextAndNamespace() throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: c1
              cluster:
                server: https://10.0.0.1:6443
                certificate-authority-data: \(ca)
                tls-server-name: kubernetes
            users:
            - name: u1
              user:
                token: secret-token
            contexts:
            - name: dev
              context: {cluster: c1, user: u1, namespace: team-a}
            - name: other
              context: {cluster: c1, user: u1}
            """)
        let config = try KubeConfig.load(path: file, environment: [:])
        #expect(config.server == "https://10.0.0.1:6443")
        #expect(config.namespace == "team-a")
        #expect(config.caData == Array("CA-PEM".utf8))
        #expect(config.token == "secret-token")
        #expect(config.tlsServerName == "kubernetes")
        #expect(config.insecureSkipTLSVerify == false)
        // Printing a config never shows the token.
        #expect(!"\(config)".contains("secret-token"))
        #expect(!String(reflecting: config).contains("secret-token"))
        var dumped = ""
        dump(config, to: &dumped)
        #expect(!dumped.contains("secret-token"))
        let other = try KubeConfig.load(path: file, context: "other", environment: [:])
        #expect(other.namespace == "default")
        #expect(other.contextName == "other")
    }

    @Test func mergesKUBECONFIGFirstFileWins() throws {
        let dir = try TempDir()
        let a = try dir.write("a/config", """
            current-context: ctx-a
            clusters:
            - name: shared
              cluster: {server: "https://from-a"}
            contexts:
            - name: ctx-a
              context: {cluster: shared, user: ua}
            users:
            - name: ua
              user: {client-certificate: certs/a.crt, client-key: certs/a.key}
            """)
        try dir.write("a/certs/a.crt", "CERT-A")
        try dir.write("a/certs/a.key", "KEY-A")
        let b = try dir.write("b/config", """
            current-context: ctx-b
            clusters:
            - name: shared
              cluster: {server: "https://from-b"}
            - name: only-b
              cluster: {server: "https://only-b", insecure-skip-tls-verify: true}
            contexts:
            - name: ctx-b
              context: {cluster: only-b, user: ub}
            users:
            - name: ub
              user: {tokenFile: token}
            """)
        let env = ["KUBECONFIG": "\(a):\(dir.path)/missing:\(b)"]
        let config = try KubeConfig.load(environment: env)
        // current-context from the first file; "shared" defined by both: a wins; relative paths against a's folder.
        #expect(config.contextName == "ctx-a")
        #expect(config.server == "https://from-a")
        #expect(config.clientCertData == Array("CERT-A".utf8))
        #expect(config.clientKeyData == Array("KEY-A".utf8))
        let fromB = try KubeConfig.load(context: "ctx-b", environment: env)
        #expect(fromB.server == "https://only-b")
        #expect(fromB.insecureSkipTLSVerify)
        #expect(fromB.tokenFile == "\(dir.path)/b/token")
    }

    @Test func defaultsToHomeKubeConfig() throws {
        let dir = try TempDir()
        try dir.write(".kube/config", """
            {"current-context": "x", "clusters": [{"name": "c", "cluster": {"server": "http://h"}}],
             "contexts": [{"name": "x", "context": {"cluster": "c"}}]}
            """)
        let config = try KubeConfig.load(environment: ["HOME": dir.path])
        #expect(config.server == "http://h")
        #expect(config.token == nil)
    }

    @Test func badBase64NamesFileAndField() throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            current-context: x
            clusters:
            - name: c
              cluster: {server: "https://h"}
            users:
            - name: u
              user:
                client-certificate-data: "not base64!!"
                client-key-data: \(ca)
            contexts:
            - name: x
              context: {cluster: c, user: u}
            """)
        #expect(throws: KubeClientError.config(file: file, field: "users[0].user.client-certificate-data", message: "not valid base64")) {
            try KubeConfig.load(path: file, environment: [:])
        }
    }

    @Test func yamlSyntaxErrorNamesLineAndColumn() throws {
        let dir = try TempDir()
        let file = try dir.write("config", "current-context: x\nclusters:\n  - name: [unclosed\n")
        do {
            _ = try KubeConfig.load(path: file, environment: [:])
            Issue.record("expected an error")
        } catch let error as KubeClientError {
            guard case let .config(f, _, line, column, _) = error else { Issue.record("wrong error \(error)"); return }
            #expect(f == file)
            #expect(line != nil && column != nil)
            #expect(error.description.hasPrefix("\(file):"))
        }
    }

    @Test func missingPiecesAreNamed() throws {
        let dir = try TempDir()
        let noContext = try dir.write("a", "clusters: []\n")
        #expect(throws: KubeClientError.config(file: noContext, field: "current-context", message: "not set and no context was given")) {
            try KubeConfig.load(path: noContext, environment: [:])
        }
        let noServer = try dir.write("b", """
            current-context: x
            clusters: [{name: c, cluster: {}}]
            contexts: [{name: x, context: {cluster: c}}]
            """)
        #expect(throws: KubeClientError.config(file: noServer, field: "clusters[0].cluster.server", message: "missing")) {
            try KubeConfig.load(path: noServer, environment: [:])
        }
        #expect(throws: KubeClientError.self) { try KubeConfig.load(path: noServer, context: "nope", environment: [:]) }
        #expect(throws: KubeClientError.self) { try KubeConfig.load(path: dir.path + "/does-not-exist", environment: [:]) }
    }

    /// Credentials kubectl may read but Gantry cannot use are refused by name, with what to use instead,
    /// rather than leaving requests silently anonymous.
    @Test(arguments: [
        ("{auth-provider: {name: gcp, config: {}}}", "auth-provider", "gke-gcloud-auth-plugin"),
        ("{username: admin, password: hunter2}", "username", "since 1.19"),
    ]) func unusableCredentialsAreNamed(user: String, field: String, hint: String) throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            current-context: c
            clusters: [{name: c, cluster: {server: "https://10.0.0.1"}}]
            users: [{name: u, user: \(user)}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            """)
        #expect { try KubeConfig.load(path: file, environment: [:]) } throws: { error in
            let text = "\(error)"
            return text.contains(file) && text.contains(field) && text.contains(hint) && !text.contains("hunter2")
        }
        // Beside a usable credential they are ignored, as the usable one is what requests carry.
        let both = try dir.write("both", """
            current-context: c
            clusters: [{name: c, cluster: {server: "https://10.0.0.1"}}]
            users: [{name: u, user: {token: t, username: admin, password: hunter2}}]
            contexts: [{name: c, context: {cluster: c, user: u}}]
            """)
        #expect(try KubeConfig.load(path: both, environment: [:]).token == "t")
    }

    @Test func execSectionIsParsed() throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://h"}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            users:
            - name: u
              user:
                exec:
                  apiVersion: client.authentication.k8s.io/v1beta1
                  command: ./bin/plugin
                  args: [--region, eu]
                  env: [{name: FOO, value: bar}]
                  provideClusterInfo: true
            """)
        let exec = try #require(try KubeConfig.load(path: file, environment: [:]).exec)
        #expect(exec.command == "./bin/plugin")
        #expect(exec.args == ["--region", "eu"])
        #expect(exec.env == [.init(name: "FOO", value: "bar")])
        #expect(exec.apiVersion == "client.authentication.k8s.io/v1beta1")
        #expect(exec.provideClusterInfo)
        #expect(exec.baseDirectory == dir.path)

        let bad = try dir.write("bad", """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://h"}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: p}}}]
            """)
        #expect(throws: KubeClientError.self) { try KubeConfig.load(path: bad, environment: [:]) }
    }

    @Test func inClusterConfig() throws {
        let dir = try TempDir()
        try dir.write("token", "sa-token\n")
        try dir.write("ca.crt", "CA")
        try dir.write("namespace", "gantry-system")
        let config = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"],
                                              serviceAccountDirectory: dir.path)
        #expect(config.server == "https://[fd00::1]:443")
        #expect(config.namespace == "gantry-system")
        #expect(config.tokenFile == dir.path + "/token")
        #expect(config.caData == Array("CA".utf8))

        let v4 = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "6443"],
                                          serviceAccountDirectory: dir.path)
        #expect(v4.server == "https://10.96.0.1:6443")

        let noCA = try TempDir()
        try noCA.write("token", "t")
        // A missing CA is an error naming the file, never a reason to skip verification.
        #expect {
            try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"], serviceAccountDirectory: noCA.path)
        } throws: { error in
            guard case .config(let file, _, _, _, let message) = error as? KubeClientError else { return false }
            return file == noCA.path + "/ca.crt" && message.contains("CA certificate is missing")
        }
    }

    @Test func automaticPrefersInClusterOnlyWithoutKubeconfig() throws {
        let dir = try TempDir()
        let file = try dir.write("config", """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://from-file"}}]
            contexts: [{name: x, context: {cluster: c}}]
            """)
        #expect(try KubeConfig.automatic(path: file, context: nil, environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"]).server == "https://from-file")
        #expect {
            // In-cluster chosen (no kubeconfig given); the default service-account folder does not exist here,
            // so the error is the in-cluster one naming its CA file (not a kubeconfig error).
            try KubeConfig.automatic(path: nil, context: nil, environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1"])
        } throws: { error in
            guard case .config(let file, _, _, _, let message) = error as? KubeClientError else { return false }
            return file == "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" && message.contains("service account CA")
        }
    }
}
