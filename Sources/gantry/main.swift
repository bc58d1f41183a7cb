import ArgumentParser
import GantryCLI

// From top-level code Swift resolves `GantryCommand.main()` and `run()` to ParsableCommand's synchronous
// overloads; inside a generic constrained to AsyncParsableCommand it picks the async entry point.
func runRoot<Command: AsyncParsableCommand>(_ command: Command.Type, _ arguments: [String]? = nil) async {
    await command.main(arguments)
}

// Linked or installed as `kubectl-gantry`, the binary is the kubectl plugin (docs/kubectl-plugin.md).
if PluginInvocation.isPlugin(argv0: CommandLine.arguments.first ?? "") {
    let arguments = PluginInvocation.arguments(Array(CommandLine.arguments.dropFirst()))
    if let refusal = PluginInvocation.refusal(arguments) { KubectlGantryCommand.exit(withError: ValidationError(refusal)) }
    await runRoot(KubectlGantryCommand.self, arguments)
} else {
    await runRoot(GantryCommand.self)
}
