import ArgumentParser
import KubeClient

/// Where a command finds the cluster: kubeconfig, context, namespace, read as kubectl reads them (`--kubeconfig`,
/// else `$KUBECONFIG`, else `~/.kube/config`; the context's namespace unless `-n` names one). kubectl hands a
/// plugin its arguments unchanged, so `kubectl gantry get -n ml --context prod` arrives here as typed.
struct ClusterOptions: ParsableArguments {
    @Option(help: "Path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Option(name: [.short, .long], help: "Namespace (default: the context's namespace).")
    var namespace: String?

    func connect() throws -> (KubeClient, String) {
        let config = try KubeConfig.automatic(path: kubeconfig, context: context)
        return (try KubeClient(config: config), namespace ?? config.namespace)
    }
}
