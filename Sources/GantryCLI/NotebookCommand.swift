import ArgumentParser
import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// `gantry notebook open|start NAME`.
struct NotebookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Reach a Notebook, or start one that was culled.",
        subcommands: [Open.self, Start.self])

    /// Prints how to reach the server: the port-forward command and the URL with the token, read from the
    /// notebook's Secret with the caller's own credentials.
    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print how to reach a Notebook (port-forward command, URL with its token).")

        @Argument(help: "The Notebook.")
        var name: String

        @Option(help: "Local port for the port-forward.")
        var localPort: Int = 8888

        @OptionGroup var cluster: ClusterOptions

        func run() async throws {
            let (client, namespace) = try cluster.connect()
            let object = try await client.get(.notebooks, namespace: namespace, name: name)
            let notebook = try Notebook(object)
            guard notebook.status.phase == .running else {
                throw ValidationError("\(namespace)/\(name) is \(notebook.status.phase?.rawValue ?? "not started")" + (notebook.status.phase == .culled
                    ? ": start it with `gantry notebook start \(name)`" : ""))
            }
            let secret = Secret(json: try await client.get(.secrets, namespace: namespace, name: NotebookChildren.secretName(notebook)))
            guard let token = secret.value(NotebookChildren.tokenKey).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw ValidationError("the Secret \(NotebookChildren.secretName(notebook)) holds no token")
            }
            print("kubectl port-forward -n \(namespace) service/\(NotebookChildren.serviceName(notebook)) \(localPort):80")
            print("http://localhost:\(localPort)/?token=\(token)")
        }
    }

    /// Starts a culled notebook (the annotation gantry.dev/start with the current time; spec is not touched).
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a culled Notebook again on the same workspace.")

        @Argument(help: "The Notebook.")
        var name: String

        @OptionGroup var cluster: ClusterOptions

        func run() async throws {
            let (client, namespace) = try cluster.connect()
            let notebook = try Notebook(try await client.get(.notebooks, namespace: namespace, name: name))
            if notebook.spec.stopped == true {
                throw ValidationError("\(namespace)/\(name) has spec.stopped: true; set it to false (in Git, or kubectl patch) to start it")
            }
            let now = Timestamp.format(Date())
            _ = try await client.patch(.notebooks, namespace: namespace, name: name,
                                       patch: ["metadata": ["annotations": [NotebookPlanner.startAnnotation: .string(now)]]], patchType: .merge)
            print("starting \(namespace)/\(name) on workspace \(NotebookChildren.claimName(notebook))" + (notebook.status.phase == .culled ? "" : " (it was \(notebook.status.phase?.rawValue ?? "not culled"); nothing changes unless it is culled)"))
        }
    }
}
