import GantryCLI

await GantryCommand.main()
