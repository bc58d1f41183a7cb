import ArgumentParser

/// `gantry`: the operator and its tools in one executable.
@available(macOS 10.15, macCatalyst 13, iOS 13, tvOS 13, watchOS 6, *)
public struct GantryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Run machine-learning workloads on GPU clusters: TrainingJob, InferenceService, Notebook.",
        version: "gantry \(GantryVersion.current)",
        subcommands: [ControllerCommand.self, DevCommand.self, CRDsCommand.self, RecordsCommand.self, GPUsCommand.self, DashboardCommand.self, PromoteCommand.self, RollbackCommand.self, NotebookCommand.self, BenchCommand.self, SoakCommand.self, VersionCommand.self, GetCommand.self, StatusCommand.self, MetricsCommand.self, LogsCommand.self]
    )
    public init() {}
}
