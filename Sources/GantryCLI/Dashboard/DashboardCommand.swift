import ArgumentParser
import Foundation
import KubeClient

/// `gantry dashboard`: a read-only web dashboard served locally with the user's own credentials
/// (docs/dashboard.md).
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Serve a read-only web dashboard of experiments, TrainingJobs, InferenceServices, Notebooks and GPUs.",
        discussion: """
            Pages are read with the kubeconfig's identity on each request: they show only what that user may read, and a kind the user may not read is shown as "no access". A kind the user may not list across namespaces is read in the context's namespace, as kubectl does.

            Server-rendered HTML with inline SVG charts: no JavaScript and nothing loaded from the internet.
            """)

    @Option(help: "Path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config; in a pod, its service account).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Option(name: [.short, .long], help: "Show only this namespace (default: every namespace the user may list).")
    var namespace: String?

    @Option(help: "Port to listen on (0: any free port, printed at start).")
    var port: Int = 8090

    @Option(help: "Address to listen on. The default keeps the dashboard on this machine; anyone who reaches it reads the cluster as you.")
    var address: String = "127.0.0.1"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
    }

    func run() async throws {
        let config = try KubeConfig.automatic(path: kubeconfig, context: context)
        let client = try KubeClient(config: config)
        let identity = "\(config.contextName ?? "in-cluster") · \(config.server)"
        let reader = DashboardReader(client: client, namespace: namespace, contextNamespace: config.namespace)
        let site = DashboardSite(reader: reader, pages: try DashboardPages(identity: identity), now: { Date() })
        let address = self.address
        try await DashboardServer(site: site, host: address, port: port).run { port in
            let host = address.contains(":") ? "[\(address)]" : address
            // Unbuffered: a script (or a test) waiting for this line reads it at once.
            FileHandle.standardOutput.write(Data("gantry dashboard: serving http://\(host):\(port)/ as \(identity)\n".utf8))
        }
    }
}
