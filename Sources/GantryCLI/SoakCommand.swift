import ArgumentParser
import Foundation
import GantryBench

/// `gantry soak` (`make soak`): a long churn under faults against the controller binary; fails when its memory
/// grows, its queue does not drain, or it re-lists while every watch could resume (docs/benchmarks.md, soak).
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run the controller under churn and faults for a while; fail on memory growth, an undrained queue or re-lists.",
        discussion: """
            Starts the embedded cluster in this process and `gantry controller` beside it, creates, updates and deletes \
            TrainingJobs, rolls an InferenceService and lets notebooks be culled and started again, with 5 % of requests \
            failing and every watch cut every 30 s. Samples the controller's RSS, work-queue depth (/metrics) and full \
            re-lists (the API server's request log). Exits non-zero if any bound is broken.
            """)

    @Option(help: "How long the churn runs, in minutes.")
    var minutes: Double = 60

    @Option(help: "Seed of the churn (default: random, printed).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("Largest RSS growth of the controller allowed after warm-up, in MiB.", valueName: "MiB"))
    var maxRSSGrowth: Double = 8

    func validate() throws {
        guard minutes > 0 else { throw ValidationError("--minutes must be more than 0") }
        guard maxRSSGrowth >= 0 else { throw ValidationError("--max-rss-growth must not be negative") }
    }

    func run() async throws {
        let log: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        let seed = self.seed ?? UInt64.random(in: 1...999_999)
        let soak = Soak(duration: .milliseconds(Int64(minutes * 60_000)), seed: seed, maxRSSGrowthMiB: maxRSSGrowth)
        let (samples, verdict) = try await soak.run(log: log)
        print("""
            command: \(CommandLine.arguments.joined(separator: " "))
            commit: \(GitCommit.current() ?? "unknown")
            machine: \(MachineInfo.describe())
            samples: \(samples.count) (every 5 s), warm-up \(soak.warmUp)
            controller RSS after warm-up: \(SoakVerdict.mib(verdict.rssBaselineBytes)) → \(SoakVerdict.mib(verdict.rssFinalBytes)) (bound +\(SoakVerdict.mib(soak.maxRSSGrowthBytes)))
            work queue: max depth \(Int(verdict.maxQueueDepth)), empty in \(verdict.emptyQueueSamples) samples after warm-up, drained at the end: \(verdict.drained)
            full re-lists after warm-up: \(verdict.relistsAfterWarmUp)
            result: \(verdict.passed ? "PASS" : "FAIL: " + verdict.failures.joined(separator: "; "))
            """)
        if !verdict.passed { throw ExitCode.failure }
    }
}
