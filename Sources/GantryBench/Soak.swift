import EmbeddedCluster
import Foundation
import KubeClient
import KubeCore

/// `gantry soak` (`make soak`, issue #14): the embedded cluster in this process, faults on, the `gantry controller`
/// binary in a process of its own (so its RSS is its own), and `SoakChurn` as the users. Every `sampleEvery` it
/// reads the controller's RSS, its work-queue depth (/metrics) and the full re-lists it made (the API server's
/// request log); at the end the churn stops, the faults go off, and the queue must drain. `SoakVerdict` decides.
///
/// The faults are the ones a resumable watch must survive without a re-list: 5 % of requests answered 503, 429 or
/// 500 in turn (10 s each) with 20 ms added latency, and every watch cut every `dropWatchesEvery`. History is never
/// compacted and the server never restarted, which would make a re-list legitimate (ChaosTests covers those).
public struct Soak: Sendable {
    public var duration: Duration
    public var seed: UInt64
    public var sampleEvery: Duration = .seconds(5)
    public var maxRSSGrowthBytes: Int
    public var dropWatchesEvery: Duration = .seconds(30)
    /// Not judged: caches fill, the allocator finds its size; 20 % of the run, at least 30 s, at most 10 minutes.
    public var warmUp: Duration { min(max(.seconds(30), duration / 5), .seconds(600)) }

    static let userAgent = "gantry-soak"

    public init(duration: Duration, seed: UInt64, maxRSSGrowthMiB: Double) {
        self.duration = duration
        self.seed = seed
        maxRSSGrowthBytes = Int(maxRSSGrowthMiB * 1_048_576)
    }

    public func run(log: @Sendable (String) -> Void) async throws -> (samples: [SoakSample], verdict: SoakVerdict) {
        let binary = try DevStartupBench.gantryBinary()
        let dir = NSTemporaryDirectory() + "gantry-soak-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let cluster = try await DevCluster.start(DevClusterOptions(nodes: "4x{gpu: 8}"))
        do {
            let result = try await soak(cluster, binary: binary, dir: dir, log: log)
            await cluster.stop()
            try? FileManager.default.removeItem(atPath: dir)
            return result
        } catch {
            await cluster.stop()
            log("soak: files kept in \(dir)")
            throw error
        }
    }

    func soak(_ cluster: DevCluster, binary: String, dir: String, log: @Sendable (String) -> Void) async throws -> (samples: [SoakSample], verdict: SoakVerdict) {
        let kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
        let client = try KubeClient(config: KubeConfig.load(path: kubeconfig, environment: [:]), options: ClientOptions(userAgent: Self.userAgent))
        try await EarlyStopBench(quick: true).installCRDs(client)
        return try await ControllerProcess.with(binary: binary, kubeconfig: kubeconfig, logPath: dir + "/controller.log") { controller in
            _ = try await controller.awaitSynced(timeout: .seconds(60))
            guard await controller.queueDepth() != nil else { throw BenchError.setup("the controller serves no workqueue_depth: see \(dir)/controller.log") }
            log("soak: controller pid \(controller.pid) serving /metrics on port \(controller.healthPort); \(duration) with seed \(seed), warm-up \(warmUp)")
            return try await churn(cluster, client: client, controller: controller, dir: dir, log: log)
        }
    }

    private func churn(_ cluster: DevCluster, client: KubeClient, controller: ControllerProcess, dir: String,
                       log: @Sendable (String) -> Void) async throws -> (samples: [SoakSample], verdict: SoakVerdict) {
        let churn = SoakChurn(client: client, seed: seed)
        let churnTask = Task { await churn.run() }
        let faultTask = Task { await Self.injectFaults(cluster, dropWatchesEvery: dropWatchesEvery) }
        var relists = RelistCounter(ignoring: Self.userAgent)
        let start = ContinuousClock.now
        var samples: [SoakSample] = []
        var lastLogged = start
        while ContinuousClock.now - start < duration {
            try await Task.sleep(for: sampleEvery)
            guard controller.process.isRunning else { throw BenchError.setup("the controller exited during the soak: see \(dir)/controller.log") }
            let sample = SoakSample(at: ContinuousClock.now - start, rssBytes: ProcessMemory.read(pid: controller.pid)?.rssBytes ?? 0,
                                    queueDepth: await controller.queueDepth() ?? -1, relists: relists.count(cluster.requests()))
            samples.append(sample)
            if ContinuousClock.now - lastLogged >= .seconds(60) {
                lastLogged = .now
                log("soak: \(sample.at): RSS \(SoakVerdict.mib(sample.rssBytes)), queue \(Int(sample.queueDepth)), re-lists \(samples.reduce(0) { $0 + $1.relists }), "
                    + "\(await churn.actions) actions (\(await churn.failed) failed), \(cluster.injectedFaults) faults injected")
            }
        }
        churnTask.cancel()
        faultTask.cancel()
        await churnTask.value
        await faultTask.value
        cluster.setFaults(FaultSpec())
        let drained = await controller.drains(within: .seconds(120))
        if relists.logOverflowed { log("soak: the request log overflowed between two samples; some re-lists may be uncounted") }
        return (samples, SoakVerdict(samples: samples, warmUp: warmUp, maxRSSGrowthBytes: maxRSSGrowthBytes, drained: drained))
    }

    /// 5 % errors, the code changing every 10 s, and every watch cut every `dropWatchesEvery`, until cancelled.
    static func injectFaults(_ cluster: DevCluster, dropWatchesEvery: Duration) async {
        let codes = [503, 429, 500]
        var tick = 0
        var lastDrop = ContinuousClock.now
        while !Task.isCancelled {
            cluster.setFaults(FaultSpec(errorRate: 0.05, errorCode: codes[tick % codes.count], latency: .milliseconds(20)))
            if ContinuousClock.now - lastDrop >= dropWatchesEvery {
                await cluster.dropWatches()
                lastDrop = .now
            }
            tick += 1
            try? await Task.sleep(for: .seconds(10))
        }
    }
}

/// Full re-lists in the request log: a LIST (GET without `watch`) of a collection the same client also watches,
/// counted once per request, whoever else made requests (the churn's user agent is ignored).
struct RelistCounter {
    /// What the counter reads of a `RequestRecord`.
    struct Request {
        var method: String, path: String, query: String, userAgent: String?, received: ContinuousClock.Instant
    }
    private let ignoring: String
    private var watched: Set<String> = []
    private var seenUntil: ContinuousClock.Instant?
    private(set) var logOverflowed = false

    init(ignoring userAgent: String) { ignoring = userAgent }

    /// Re-lists among the requests answered since the previous call.
    mutating func count(_ records: [RequestRecord]) -> Int {
        count(records.map { Request(method: $0.method, path: $0.path, query: $0.query, userAgent: $0.userAgent, received: $0.received) })
    }

    mutating func count(_ log: [Request]) -> Int {
        if let seenUntil, let oldest = log.first?.received, oldest > seenUntil { logOverflowed = true }
        var relists = 0
        for r in log where r.userAgent != ignoring && seenUntil.map({ r.received > $0 }) ?? true {
            let isWatch = r.query.split(separator: "&").contains { $0 == "watch=true" || $0 == "watch=1" }
            if isWatch { watched.insert(r.path) } else if r.method == "GET" && watched.contains(r.path) { relists += 1 }
        }
        seenUntil = log.last?.received ?? seenUntil
        return relists
    }
}
