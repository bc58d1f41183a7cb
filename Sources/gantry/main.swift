import ArgumentParser
import GantryCLI

// What AsyncParsableCommand.main does, spelled out: from top-level code Swift picks the synchronous
// ParsableCommand.main overload, which refuses async commands.
do {
    var command = try GantryCommand.parseAsRoot()
    if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
    } else {
        try command.run()
    }
} catch {
    GantryCommand.exit(withError: error)
}
