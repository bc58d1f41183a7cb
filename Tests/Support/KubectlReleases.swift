import Foundation

/// The kubectl releases issue #12 ("Done when") asks every user-visible behaviour of the embedded cluster to be
/// checked with besides the default one: the oldest (1.27) and the newest (1.33) installed. Suites loop over them
/// inside one cluster, so each release adds seconds, not a cluster start.
extension Prerequisite {
    public static func kubectl127And133() throws -> [String] {
        try kubectlReleases(["1.27", "1.33"])
    }
}

extension TestCluster {
    /// `kubectl` at `path` (a release from `Prerequisite.kubectlReleases`) against this cluster: the cluster's
    /// kubeconfig unless `kubeconfig` names another (another identity), and a discovery cache per binary, since
    /// releases cache discovery and OpenAPI differently and one must not read what another wrote.
    public func kubectl(release path: String, _ args: String..., stdin: String? = nil, kubeconfig: String? = nil) async -> CommandResult {
        await kubectl(release: path, args: args, stdin: stdin, kubeconfig: kubeconfig)
    }

    public func kubectl(release path: String, args: [String], stdin: String? = nil, kubeconfig: String? = nil) async -> CommandResult {
        let cache = dir + "/cache-" + URL(fileURLWithPath: path).lastPathComponent
        return await runProcess(path, ["--kubeconfig", kubeconfig ?? self.kubeconfig, "--cache-dir", cache] + args, stdin: stdin,
                                environment: ["HOME": dir, "PATH": "/usr/bin:/bin"])
    }
}
