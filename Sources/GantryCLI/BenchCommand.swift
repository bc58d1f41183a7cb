import ArgumentParser
import Foundation
import GantryBench

/// `gantry bench`: the project's speed and memory benchmarks (docs/benchmarks.md). Targets are checked here,
/// never in timed unit tests, because a shared CI machine makes timing assertions flaky.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run Gantry's benchmarks and print their figures.",
        discussion: """
            Build with -c release first (`make bench`): debug figures are not representative.
            Benchmarks: \(BenchSuite.names.joined(separator: ", ")).
            """)

    @Option(help: ArgumentHelp("Run only this benchmark (repeatable).", valueName: "name"))
    var only: [String] = []

    @Flag(help: "Smaller inputs and fewer iterations, for a smoke run.")
    var quick = false

    @Option(help: ArgumentHelp("Sizes of the scale benchmarks: burst's job counts, e.g. --scale 50 --scale 2000 (default 50, 200, 1000; burst-one-replica 2000, burst-four-replica 500); burst-qps's QPS limits (default 20, 50); blue-green's swap count (first value, default 30); scale-10k's seeded jobs and pods (first value, default 10000).", valueName: "n"))
    var scale: [Int] = []

    @Flag(help: "Print a Markdown table (for docs/benchmarks.md) instead of a text table.")
    var markdown = false

    @Option(help: ArgumentHelp("Also write the run as JSON (figures, machine, commit, command) to this file.", valueName: "file"))
    var json: String?

    func validate() throws {
        for name in only where !BenchSuite.names.contains(name) {
            throw ValidationError("unknown benchmark '\(name)'; known: \(BenchSuite.names.joined(separator: ", "))")
        }
    }

    func run() async throws {
        let selected = only.isEmpty ? BenchSuite.names : only
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        log("machine: \(MachineInfo.describe())")
        var figures: [BenchFigure] = []
        for name in selected {
            figures += try await BenchSuite.run(name, quick: quick, scales: scale.isEmpty ? nil : scale, log: log)
        }
        let command = CommandLine.arguments.joined(separator: " ")
        let commit = GitCommit.current()
        print("command: \(command)\ncommit: \(commit ?? "unknown (not run from a git checkout)")\nmachine: \(MachineInfo.describe())\n")
        print(markdown ? BenchTable.markdown(figures) : BenchTable.text(figures))
        if let json {
            try BenchResult(figures: figures, command: command, commit: commit).json().write(to: URL(fileURLWithPath: json))
            log("wrote \(json)")
        }
    }
}

/// The commit the working directory is on, with "-dirty" when it has uncommitted changes; nil outside a checkout.
enum GitCommit {
    static func current() -> String? {
        guard let head = run(["rev-parse", "--short", "HEAD"]), !head.isEmpty else { return nil }
        let dirty = !(run(["status", "--porcelain", "--untracked-files=no"]) ?? "").isEmpty
        return dirty ? head + "-dirty" : head
    }

    private static func run(_ args: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = args
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
