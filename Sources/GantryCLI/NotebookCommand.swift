import ArgumentParser
import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// `gantry notebook open|start|stop NAME`.
struct NotebookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notebook",
        abstract: "Reach a Notebook, stop it, or start one that was stopped or culled.",
        subcommands: [Open.self, Start.self, Stop.self])

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

    /// Starts a culled notebook (the annotation gantry.dev/start with the current time) or a stopped one
    /// (`spec.stopped` back to false: the field `stop` set).
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a stopped or culled Notebook again on the same workspace.")

        @Argument(help: "The Notebook.")
        var name: String

        @OptionGroup var cluster: ClusterOptions

        func run() async throws {
            let (client, namespace) = try cluster.connect()
            let notebook = try Notebook(try await client.get(.notebooks, namespace: namespace, name: name))
            if notebook.spec.stopped == true {
                try await Stop.setStopped(client, namespace, notebook, false)
                print("starting \(namespace)/\(name) on workspace \(NotebookChildren.claimName(notebook)): spec.stopped is now false" + Stop.gitOpsNote)
                return
            }
            let now = Timestamp.format(Date())
            _ = try await client.patch(.notebooks, namespace: namespace, name: name,
                                       patch: ["metadata": ["annotations": [NotebookPlanner.startAnnotation: .string(now)]]], patchType: .merge)
            print("starting \(namespace)/\(name) on workspace \(NotebookChildren.claimName(notebook))" + (notebook.status.phase == .culled ? "" : " (it was \(notebook.status.phase?.rawValue ?? "not culled"); nothing changes unless it is culled)"))
        }
    }

    /// Stops a notebook: its pod goes, its workspace and token stay. Stopping is the spec's `stopped: true`
    /// (declarative, docs/notebook.md), so this is the user's own edit of their spec, as `kubectl scale` is.
    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a Notebook (spec.stopped: true): the pod is deleted, the workspace and token are kept.")

        @Argument(help: "The Notebook.")
        var name: String

        @OptionGroup var cluster: ClusterOptions

        static let gitOpsNote = " (if this Notebook is kept in Git, change spec.stopped there too, or the next sync reverts it)"

        func run() async throws {
            let (client, namespace) = try cluster.connect()
            let notebook = try Notebook(try await client.get(.notebooks, namespace: namespace, name: name))
            guard notebook.spec.stopped != true else {
                print("\(namespace)/\(name) is already stopped (spec.stopped: true)")
                return
            }
            try await Self.setStopped(client, namespace, notebook, true)
            print("stopping \(namespace)/\(name): spec.stopped is now true; workspace \(NotebookChildren.claimName(notebook)) and token kept" + Self.gitOpsNote)
        }

        /// A merge patch carrying the resourceVersion read: a concurrent edit answers 409 instead of being overwritten.
        static func setStopped(_ client: KubeClient, _ namespace: String, _ notebook: Notebook, _ stopped: Bool) async throws {
            let patch: JSONValue = ["metadata": ["resourceVersion": .string(notebook.resourceVersion ?? "")], "spec": ["stopped": .bool(stopped)]]
            _ = try await client.patch(.notebooks, namespace: namespace, name: notebook.name, patch: patch, patchType: .merge)
        }
    }
}
