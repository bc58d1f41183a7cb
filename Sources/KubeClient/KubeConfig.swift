import Foundation
import KubeCore

/// Resolved connection settings: where the API server is, how to trust it and how to authenticate.
///
/// Built by `load` (kubeconfig files), `inCluster` (service account) or `automatic`; all file references are
/// already read into data or kept as absolute paths, so the value can move freely between tasks.
public struct KubeConfig: Sendable, Hashable {
    public var server: String
    /// Namespace of the context, or of the service account; "default" if unset.
    public var namespace: String
    public var caData: [UInt8]?
    /// CA bundle file, used when `caData` is nil (libcurl reads it).
    public var caFile: String?
    public var clientCertData: [UInt8]?
    public var clientKeyData: [UInt8]?
    public var token: String?
    /// Re-read at most every minute and after a 401 (rotated service account tokens, rule 18).
    public var tokenFile: String?
    public var exec: ExecConfig?
    public var insecureSkipTLSVerify: Bool
    public var tlsServerName: String?
    /// The cluster's `proxy-url` (http, https, socks5 or socks5h): every request goes through it, whatever
    /// `HTTPS_PROXY`/`NO_PROXY` say, as client-go does. Without it libcurl honours those variables.
    public var proxyURL: String?
    /// Name of the kubeconfig context this came from (nil in-cluster).
    public var contextName: String?

    public init(server: String, namespace: String = "default", caData: [UInt8]? = nil, caFile: String? = nil,
                clientCertData: [UInt8]? = nil, clientKeyData: [UInt8]? = nil, token: String? = nil,
                tokenFile: String? = nil, exec: ExecConfig? = nil, insecureSkipTLSVerify: Bool = false,
                tlsServerName: String? = nil, proxyURL: String? = nil, contextName: String? = nil) {
        self.server = server
        self.namespace = namespace
        self.caData = caData
        self.caFile = caFile
        self.clientCertData = clientCertData
        self.clientKeyData = clientKeyData
        self.token = token
        self.tokenFile = tokenFile
        self.exec = exec
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.proxyURL = proxyURL
        self.contextName = contextName
    }

    /// Reads kubeconfig files: `path` (one path or a colon-separated list), else `$KUBECONFIG` (a colon list,
    /// merged as kubectl merges: the first file to set a map key or `current-context` wins; files that do not
    /// exist are skipped), else `~/.kube/config`. `context` overrides `current-context`.
    public static func load(path: String? = nil, context: String? = nil,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubeConfig {
        try KubeconfigLoader(environment: environment).load(path: path, context: context)
    }

    /// In-cluster settings from the service account (rule 18). Paths are injectable for tests.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment,
                                 serviceAccountDirectory: String = InClusterConfig.defaultDirectory) throws -> KubeConfig {
        try InClusterConfig.load(environment: environment, directory: serviceAccountDirectory)
    }

    /// In-cluster when `KUBERNETES_SERVICE_HOST` is set and no kubeconfig was given (neither `path` nor
    /// `$KUBECONFIG`), else `load(path:context:)`.
    /// `serviceAccountDirectory`: where the kubelet mounted the token, `ca.crt` and `namespace`.
    public static func automatic(path: String?, context: String?,
                                 environment: [String: String] = ProcessInfo.processInfo.environment,
                                 serviceAccountDirectory: String = InClusterConfig.defaultDirectory) throws -> KubeConfig {
        let kubeconfigGiven = path != nil || !(environment["KUBECONFIG"] ?? "").isEmpty || context != nil
        if !kubeconfigGiven, let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty {
            return try inCluster(environment: environment, serviceAccountDirectory: serviceAccountDirectory)
        }
        return try load(path: path, context: context, environment: environment)
    }
}

/// An exec credential plugin (`users[].user.exec`), run to obtain a token or client certificate.
public struct ExecConfig: Sendable, Hashable {
    public var command: String
    public var args: [String]
    /// Extra environment variables, in kubeconfig order.
    public var env: [EnvVar]
    /// `client.authentication.k8s.io/v1` or `v1beta1`.
    public var apiVersion: String
    /// Send the cluster's connection info in `KUBERNETES_EXEC_INFO` (`provideClusterInfo`).
    public var provideClusterInfo: Bool
    public var installHint: String?
    /// Folder of the kubeconfig that declared the plugin: a relative command containing "/" is resolved
    /// against it, as kubectl does.
    public var baseDirectory: String?

    public struct EnvVar: Sendable, Hashable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(command: String, args: [String] = [], env: [EnvVar] = [], apiVersion: String = "client.authentication.k8s.io/v1",
                provideClusterInfo: Bool = false, installHint: String? = nil, baseDirectory: String? = nil) {
        self.command = command
        self.args = args
        self.env = env
        self.apiVersion = apiVersion
        self.provideClusterInfo = provideClusterInfo
        self.installHint = installHint
        self.baseDirectory = baseDirectory
    }
}
