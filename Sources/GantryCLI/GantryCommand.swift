import ArgumentParser

/// `gantry`: the operator and its tools in one executable.
public struct GantryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gantry",
        abstract: "Run machine-learning workloads on GPU clusters: TrainingJob, InferenceService, Notebook.",
        subcommands: [DevCommand.self]
    )
    public init() {}
}
