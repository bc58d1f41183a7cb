import Foundation
import EmbeddedCluster
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore
import KubeYAML

/// `early-stop-latency`: end to end, from the moment a trainer's log line reporting `loss=nan` is appended to
/// the pod log, to the moment a pod watcher sees the trainer pod's `deletionTimestamp`.
///
/// Everything is real except the GPUs: an in-process `DevCluster` with simulated nodes and scripted
/// containers, Gantry's CRDs, the `OperatorManager` following pod logs over libcurl, and a separate
/// `KubeClient` watching pods. The line's time comes from the server itself (`/log?timestamps=true`, stamped
/// when the simulated container appended it, microsecond precision); the deletion's time is when our watch
/// event arrived, so watch delivery is included and the figure errs on the slow side.
///
/// Then a sweep like examples/trainingjob-sweep.yaml runs twice at once, with and without `earlyStopping`,
/// and the GPU-seconds of each (`status.gpuHours`) are compared.
public struct EarlyStopBench: Sendable {
    public var jobs = 20
    public var sweepFile = "examples/trainingjob-sweep.yaml"
    public var timeout: Duration = .seconds(120)
    /// Trials of each experiment in the savings measurement (quick runs use fewer).
    var quickTrials: Int?

    public init(quick: Bool) {
        if quick { jobs = 5; quickTrials = 6 }
    }

    /// A job whose loss diverges: NaN arrives a few seconds after the container starts (curve `diverge`), and
    /// the pod takes 5 s to terminate so its log can still be read after the deletion.
    static func divergingJob(_ index: Int) -> JSONValue {
        let script = "{logs: [{series: {at: 1s, every: 0.1s, count: 60, start: 10, step: 10, template: \"step={step} loss={loss}\", "
            + "loss: {from: 2.3, to: 0.3, curve: diverge}}}], exit: {code: 0}, terminate: {after: 5s, code: 143}}"
        var job: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "TrainingJob",
                              "spec": ["image": "ghcr.io/example/trainer:1.0", "gpu": ["count": 1],
                                       "earlyStopping": ["metric": "loss"],
                                       "podMetadata": ["annotations": ["sim.gantry.dev/script": .string(script)]]]]
        job.name = "diverge-\(index)"
        job.namespace = "default"
        return job
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "early-stop-latency"
        let sweep = try loadSweep()
        let cluster = try await DevCluster.start(DevClusterOptions(nodes: "4x{gpu: 8}"))
        let dir = NSTemporaryDirectory() + "gantry-bench-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try cluster.writeKubeconfig(to: dir + "/kubeconfig")
        let client = try KubeClient(config: KubeConfig.load(path: dir + "/kubeconfig"))
        try await installCRDs(client)
        log("\(name): cluster at \(cluster.url), CRDs established; starting the operator")

        let manager = try OperatorManager(client: client)
        let operatorTask = Task { await manager.run() }
        let deletions = DeletionWatcher(client: client)
        let watchTask = Task { await deletions.run() }
        await deletions.ready()
        defer { operatorTask.cancel(); watchTask.cancel() }

        var figures = try await measureLatency(client: client, deletions: deletions, log: log)
        figures += try await measureSweep(sweep, client: client, log: log)
        figures += try await measureExperiment(client: client, log: log)

        operatorTask.cancel()
        watchTask.cancel()
        await operatorTask.value
        await cluster.stop()
        return figures
    }

    // MARK: latency

    func measureLatency(client: KubeClient, deletions: DeletionWatcher, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "early-stop-latency"
        log("\(name): \(jobs) diverging TrainingJobs")
        for i in 0..<jobs { _ = try await client.create(.trainingJobs, Self.divergingJob(i), namespace: "default") }

        var latencies: [Duration] = []
        var missing: [String] = []
        let deadline = ContinuousClock.now + timeout
        var pending = Set((0..<jobs).map { "diverge-\($0)" })
        while !pending.isEmpty {
            guard ContinuousClock.now < deadline else { throw BenchError.timeout("no pod deletion for \(pending.sorted())") }
            try await Task.sleep(for: .milliseconds(200))
            for (pod, seenAt) in await deletions.observed() {
                guard let job = pending.first(where: { pod.hasPrefix($0 + "-") }) else { continue }
                pending.remove(job)
                let line: Date?
                do {
                    line = try await firstNaNLine(client: client, pod: pod)
                } catch {
                    // The pod (and its log) can be gone before the bench reads it on a loaded machine; counted, not hidden.
                    log("\(name): \(pod): \(error); no sample")
                    missing.append(pod)
                    continue
                }
                guard let written = line else {
                    throw BenchError.wrongResult("pod \(pod) was deleted but its log has no loss=nan line")
                }
                let latency = seenAt.timeIntervalSince(written)
                log("\(name): \(pod): \(Int(latency * 1000)) ms from the NaN line to deletionTimestamp")
                latencies.append(.milliseconds(latency * 1000))
            }
        }
        guard !latencies.isEmpty else { throw BenchError.wrongResult("no log could be read: \(missing)") }
        let samples = Samples(latencies)
        let verdict = samples.p99 <= .seconds(1) ? "target p99 ≤ 1 s: met" : "target p99 ≤ 1 s: NOT met"
        return [
            BenchFigure(name, "NaN log line → pod deletionTimestamp, p50", samples.median.milliseconds, "ms", note: "\(samples.count) jobs" + (missing.isEmpty ? "" : "; \(missing.count) logs gone before they were read")),
            BenchFigure(name, "NaN log line → pod deletionTimestamp, p99", samples.p99.milliseconds, "ms", note: verdict),
            BenchFigure(name, "NaN log line → pod deletionTimestamp, min", samples.min.milliseconds, "ms"),
        ]
    }

    /// Server time of the first `loss=nan` line (`timestamps=true` prefixes each line with its append time).
    func firstNaNLine(client: KubeClient, pod: String) async throws -> Date? {
        let response = try await client.raw(method: "GET", path: ResourceType.pods.objectPath(namespace: "default", name: pod) + "/log",
                                            query: [("container", TrainingPods.containerName), ("timestamps", "true")])
        guard response.status == 200 else { throw BenchError.wrongResult("log of \(pod) answered \(response.status)") }
        for line in String(decoding: response.body, as: UTF8.self).split(separator: "\n") where line.lowercased().contains("loss=nan") {
            guard let space = line.firstIndex(of: " ") else { continue }
            return Self.parseMicroTimestamp(String(line[..<space]))
        }
        return nil
    }

    /// `2026-12-01T15:02:03.123456Z` with its microseconds (Foundation's ISO 8601 style keeps milliseconds).
    static func parseMicroTimestamp(_ text: String) -> Date? {
        guard let dot = text.firstIndex(of: "."), text.hasSuffix("Z") else { return Timestamp.parse(text) }
        let fraction = text[text.index(after: dot)..<text.index(before: text.endIndex)]
        guard let base = Timestamp.parse(String(text[..<dot]) + "Z"), let value = Double("0." + fraction) else { return nil }
        return base.addingTimeInterval(value)
    }

    // MARK: set-up

    func installCRDs(_ client: KubeClient) async throws {
        for crd in CRDBuilder.all { _ = try await client.create(.customResourceDefinitions, crd) }
        let deadline = ContinuousClock.now + .seconds(20)
        for crd in CRDBuilder.all {
            let crdName = crd.name ?? ""
            while true {
                let current = try await client.get(.customResourceDefinitions, namespace: nil, name: crdName)
                let established = current[path: "status", "conditions"]?.arrayValue?.contains {
                    $0["type"]?.stringValue == "Established" && $0["status"]?.stringValue == "True"
                } ?? false
                if established { break }
                guard ContinuousClock.now < deadline else { throw BenchError.timeout("CRD \(crdName) not established") }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    func loadSweep() throws -> [JSONValue] {
        guard let text = try? String(contentsOfFile: sweepFile, encoding: .utf8) else {
            throw BenchError.setup("cannot read \(sweepFile): run from the repository root")
        }
        let jobs = try YAML.parseDocuments(text).filter { $0.kind == "TrainingJob" }
        guard !jobs.isEmpty else { throw BenchError.setup("\(sweepFile) holds no TrainingJob") }
        return jobs
    }
}
