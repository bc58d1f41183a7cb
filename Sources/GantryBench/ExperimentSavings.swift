import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeYAML

/// The GPU time early stopping saves across an Experiment's trials (issue #15): examples/experiment.yaml run
/// twice at once with `algorithm: random` and the same seed (so both run the very same 20 trials), once with its
/// median rule and once without `earlyStopping`; each trainer's loss curve ends at a value that depends on its
/// hyperparameters. GPU-seconds are summed from the trials' `status.gpuHours`; the best trial of both runs is
/// compared (stopping must not lose it).
extension EarlyStopBench {
    static let experimentFile = "examples/experiment.yaml"
    static let experimentTrials = 20

    func measureExperiment(client: KubeClient, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "early-stop-latency"
        guard let text = try? String(contentsOfFile: Self.experimentFile, encoding: .utf8),
              let example = try YAML.parseDocuments(text).first(where: { $0.kind == "Experiment" }) else {
            throw BenchError.setup("cannot read an Experiment from \(Self.experimentFile): run from the repository root")
        }
        let trials = quickTrials ?? Self.experimentTrials
        // Longer runs than the example's (10 s of log) so second-precision start and end times matter less.
        let script = "{logs: [{series: {at: 1s, every: 0.25s, count: 40, start: 10, step: 10, template: \"step={step} loss={loss}\", "
            + "loss: {from: 2.3, to: \"0.1 + 2.2 * (1 - exp(-((log10(HP_LR) + 2.5)^2 + ((HP_BATCH_SIZE - 96) / 64)^2)))\", curve: exp}}}], exit: {code: 0}}"
        for stopping in [true, false] {
            var experiment = example
            experiment.name = stopping ? "savings-es" : "savings-full"
            experiment.namespace = "default"
            experiment[path: "metadata", "resourceVersion"] = nil
            experiment[path: "spec", "algorithm"] = "random"
            experiment[path: "spec", "seed"] = 7
            experiment[path: "spec", "maxTrials"] = .int(Int64(trials))
            experiment[path: "spec", "parallelTrials"] = 4
            experiment[path: "spec", "template", "podMetadata", "annotations", "sim.gantry.dev/script"] = .string(script)
            if !stopping { experiment[path: "spec", "earlyStopping"] = nil }
            _ = try await client.create(.experiments, experiment, namespace: "default")
        }
        log("\(name): two experiments of \(trials) random trials (same seed), with and without early stopping")
        let deadline = ContinuousClock.now + .seconds(Double(trials) * 15)
        var done: [String: JSONValue] = [:]
        while done.count < 2 {
            guard ContinuousClock.now < deadline else { throw BenchError.timeout("experiments unfinished: \(["savings-es", "savings-full"].filter { done[$0] == nil })") }
            try await Task.sleep(for: .seconds(1))
            for experiment in ["savings-es", "savings-full"] where done[experiment] == nil {
                let object = try await client.get(.experiments, namespace: "default", name: experiment)
                if ["Succeeded", "Failed"].contains(object[path: "status", "phase"]?.stringValue ?? "") {
                    done[experiment] = object
                    log("\(name): \(experiment) \(object[path: "status", "phase"]?.stringValue ?? "") best \(object[path: "status", "bestTrial", "name"]?.stringValue ?? "-")")
                }
            }
        }
        func gpuSeconds(_ experiment: String) async throws -> (total: Double, stopped: Int) {
            let jobs = try await client.list(.trainingJobs, namespace: "default", options: ListOptions(labelSelector: "\(GantryLabels.experiment)=\(experiment)")).items
            return (jobs.reduce(0) { $0 + self.gpuSeconds($1) }, jobs.filter { $0[path: "status", "phase"] == "EarlyStopped" }.count)
        }
        let withStopping = try await gpuSeconds("savings-es"), without = try await gpuSeconds("savings-full")
        let saved = without.total > 0 ? (without.total - withStopping.total) / without.total * 100 : 0
        // Trials are named <experiment>-<n>: the same n is the same hyperparameters in both.
        let bestIndex = { (e: String) in done[e]?[path: "status", "bestTrial", "name"]?.stringValue?.split(separator: "-").last.map(String.init) ?? "-" }
        let kept = bestIndex("savings-es") == bestIndex("savings-full")
        return [
            BenchFigure(name, "experiment GPU-seconds, early stopping on", withStopping.total, "GPU-s", note: "\(withStopping.stopped) of \(trials) trials stopped early"),
            BenchFigure(name, "experiment GPU-seconds, all run to the end", without.total, "GPU-s", note: "\(trials) random trials, seed 7, 1 GPU each"),
            BenchFigure(name, "experiment GPU time saved", saved, "%",
                        note: kept ? "the same best trial (#\(bestIndex("savings-full"))) found" : "best trial differs: #\(bestIndex("savings-es")) with stopping, #\(bestIndex("savings-full")) without"),
        ]
    }
}
