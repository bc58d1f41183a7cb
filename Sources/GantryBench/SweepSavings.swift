import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// The GPU time a sweep saves: the jobs of examples/trainingjob-sweep.yaml run twice side by side, once as
/// written (early stopping on) and once with `earlyStopping` removed, each copy its own experiment so the
/// median rule compares like with like. GPU-seconds come from `status.gpuHours` once every job finished
/// (second-precision start/completion times, so each job's figure is ±1 s × GPUs).
extension EarlyStopBench {
    func measureSweep(_ sweep: [JSONValue], client: KubeClient, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "early-stop-latency"
        var names: [(String, Bool)] = []
        for job in sweep {
            for stopping in [true, false] {
                var copy = job
                let jobName = (job.name ?? "job") + (stopping ? "-es" : "-full")
                copy.name = jobName
                copy.namespace = "default"
                copy[path: "metadata", "labels", GantryLabels.experiment] = .string(stopping ? "sweep-es" : "sweep-full")
                if !stopping { copy[path: "spec", "earlyStopping"] = nil }
                copy[path: "metadata", "resourceVersion"] = nil
                _ = try await client.create(.trainingJobs, copy, namespace: "default")
                names.append((jobName, stopping))
            }
        }
        log("\(name): sweep of \(sweep.count) jobs, with and without early stopping")

        var seconds: [String: Double] = [:]
        var stops: [String] = []
        let deadline = ContinuousClock.now + timeout
        while seconds.count < names.count {
            guard ContinuousClock.now < deadline else {
                throw BenchError.timeout("sweep jobs unfinished: \(names.map(\.0).filter { seconds[$0] == nil })")
            }
            try await Task.sleep(for: .milliseconds(500))
            for (jobName, _) in names where seconds[jobName] == nil {
                let job = try await client.get(.trainingJobs, namespace: "default", name: jobName)
                guard let phase = job[path: "status", "phase"]?.stringValue,
                      ["Succeeded", "Failed", "EarlyStopped"].contains(phase) else { continue }
                seconds[jobName] = gpuSeconds(job)
                if let rule = job[path: "status", "earlyStop", "rule"]?.stringValue { stops.append("\(jobName): \(rule)") }
                log("\(name): \(jobName) \(phase) after \(fmt(seconds[jobName] ?? 0)) GPU-s")
            }
        }
        let withStopping = names.filter(\.1).reduce(0) { $0 + (seconds[$1.0] ?? 0) }
        let without = names.filter { !$0.1 }.reduce(0) { $0 + (seconds[$1.0] ?? 0) }
        let saved = without > 0 ? (without - withStopping) / without * 100 : 0
        return [
            BenchFigure(name, "sweep GPU-seconds, early stopping on", withStopping, "GPU-s", note: "stopped: \(stops.sorted().joined(separator: "; "))"),
            BenchFigure(name, "sweep GPU-seconds, all run to the end", without, "GPU-s", note: "\(sweep.count) jobs, 1 GPU each"),
            BenchFigure(name, "sweep GPU time saved", saved, "%"),
        ]
    }

    /// `status.gpuHours` in seconds, or GPUs × (completion − start) when the field is missing.
    func gpuSeconds(_ job: JSONValue) -> Double {
        if let hours = job[path: "status", "gpuHours"]?.doubleValue { return hours * 3600 }
        guard let start = job[path: "status", "startTime"]?.stringValue.flatMap(Timestamp.parse),
              let end = job[path: "status", "completionTime"]?.stringValue.flatMap(Timestamp.parse) else { return 0 }
        let gpus = Double(job[path: "status", "gpus"]?.intValue ?? job[path: "spec", "gpu", "count"]?.intValue ?? 1)
        return gpus * end.timeIntervalSince(start)
    }
}
