import ArgumentParser
import GantryCLI

// From top-level code Swift resolves `GantryCommand.main()` and `run()` to ParsableCommand's synchronous
// overloads; inside a generic constrained to AsyncParsableCommand it picks the async entry point.
func runRoot<Command: AsyncParsableCommand>(_ command: Command.Type) async {
    await command.main()
}

await runRoot(GantryCommand.self)
