import ArgumentParser

/// `kubectl gantry …`: the same executable installed (or linked) as `kubectl-gantry`, which kubectl runs for
/// `kubectl gantry ARGS` with ARGS unchanged (docs/kubectl-plugin.md). Invoked under that name, the user's
/// verbs are the top level; the operator's own commands (`controller`, `dev`, `bench`) stay with `gantry`.
public struct KubectlGantryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "kubectl gantry",
        abstract: "Look at and steer Gantry's TrainingJobs, InferenceServices, Notebooks and Experiments.",
        discussion: "Reads the cluster as kubectl does: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; --context; -n/--namespace, else the context's namespace.",
        version: "gantry \(GantryVersion.current)",
        subcommands: PluginCommands.all)
    public init() {}
}

/// The verbs users run, under `kubectl gantry` and under `gantry` alike.
enum PluginCommands {
    static let all: [any ParsableCommand.Type] = [
        GetCommand.self, StatusCommand.self, MetricsCommand.self, RecordsCommand.self, LogsCommand.self,
        PromoteCommand.self, RollbackCommand.self, NotebookCommand.self, VersionCommand.self,
    ]
}
