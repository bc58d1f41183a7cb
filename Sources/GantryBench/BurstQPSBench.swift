import EmbeddedCluster
import Foundation
import KubeClient
import KubeCore

/// `burst-qps` (issue #14 scenario 1, rate-limited): a `gantry controller` process started with `--qps Q --burst B`
/// gets 2·Q two-replica TrainingJobs at once (about 9 requests each, so it stays backlogged for some 18 s at any
/// Q), and the API server's request log says when each of its requests arrived. Checked against client-go's
/// token bucket (`RateLimitCheck`): sustained rate after the bucket's B initial tokens ≥ 0.95·Q (all requests
/// the limiter governs, and writes alone), never more than Q in a 1-second window once the bucket is spent, and
/// never more than B ahead of Q·t overall.
///
/// The API server is in this process (its request log is readable, 5,000 requests deep); the controller is a
/// child process with the flags a user would pass. Watches are left out of the counts: client-go does not rate
/// limit them (`rest.Request.Watch`), and the controller opens none during a burst once its caches are synced.
public struct BurstQPSBench: Sendable {
    /// The QPS limits measured, one run each.
    public var limits = [20, 50]
    /// The controller's `--burst` (its default).
    public var burst = 10
    public var jobsPerQPS = 2.0
    public var replicas = 2
    public var timeout: Duration = .seconds(300)
    let name = "burst-qps"
    static let userAgent = "gantry-bench"

    public init(quick: Bool, scales: [Int]? = nil) {
        if quick { limits = [20]; jobsPerQPS = 0.5 }
        if let scales, !scales.isEmpty { limits = scales }
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        var figures: [BenchFigure] = []
        for q in limits {
            guard q > 0 else { throw BenchError.setup("burst-qps: a QPS limit must be positive, not \(q)") }
            let jobs = max(1, Int((Double(q) * jobsPerQPS).rounded()))
            let cluster = try await DevCluster.start(DevClusterOptions(nodes: "\((replicas * jobs + 7) / 8 + 1)x{gpu: 8, product: A100}"))
            do {
                let check = try await measure(qps: q, jobs: jobs, cluster: cluster)
                await cluster.stop()
                figures += Self.figures(name, check, jobs: jobs, log: log)
            } catch {
                await cluster.stop()
                throw error
            }
        }
        return figures
    }

    func measure(qps q: Int, jobs: Int, cluster: DevCluster) async throws -> RateLimitCheck {
        let binary = try DevStartupBench.gantryBinary()
        let dir = NSTemporaryDirectory() + "gantry-bench-qps-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try cluster.writeKubeconfig(to: dir + "/kubeconfig")
        let client = try KubeClient(config: KubeConfig.load(path: dir + "/kubeconfig", environment: [:]), options: ClientOptions(userAgent: Self.userAgent))
        try await EarlyStopBench(quick: true).installCRDs(client)
        let replicas = self.replicas, burst = self.burst, timeout = self.timeout
        return try await ControllerProcess.with(binary: binary, kubeconfig: dir + "/kubeconfig", arguments: ["--qps", "\(q)", "--burst", "\(burst)"]) { controller in
            _ = try await controller.awaitSynced(timeout: .seconds(60))
            let counter = PodCounter(client: client, target: replicas * jobs)
            let countTask = Task { await counter.run() }
            defer { countTask.cancel() }
            await counter.ready()
            // The rule counts from a full bucket: give the limiter the B / Q seconds it takes to refill after
            // the caches' lists (a wait that is the definition of the start, not a guess at readiness).
            try await Task.sleep(for: .milliseconds(Int64(1000 * Double(burst) / Double(q)) + 200))

            let start = ContinuousClock.now
            try await BurstBench.createAll((0..<jobs).map { BurstBench.jobObject($0, replicas: replicas) }, type: .trainingJobs,
                                           client: client, concurrency: 8)
            guard await counter.reached(timeout: timeout) != nil else {
                throw BenchError.timeout("only \(await counter.count) of \(replicas * jobs) pods were created within \(timeout)")
            }
            // The watch can report a pod before the server has logged its create: wait for the log to hold them.
            let logged = ContinuousClock.now + .seconds(10)
            var records = cluster.requests()
            while Self.podCreates(records, since: start).count < replicas * jobs {
                guard ContinuousClock.now < logged else { throw BenchError.wrongResult("the request log lacks the controller's pod creates") }
                try await Task.sleep(for: .milliseconds(20))
                records = cluster.requests()
            }
            guard let oldest = records.first?.received, oldest < start else {
                throw BenchError.setup("the API server's request log (5,000 requests) overflowed during the burst: use a lower QPS (--scale)")
            }
            return Self.check(records, since: start, qps: q, burst: burst)
        }
    }

    /// The controller's requests from `start` on, watches left out, as arrivals from its first request; the
    /// backlog ends with its last pod create.
    static func check(_ records: [RequestRecord], since start: ContinuousClock.Instant, qps: Int, burst: Int) -> RateLimitCheck {
        let ours = records.filter { $0.received >= start && $0.userAgent != userAgent && !isWatch($0) }
        let origin = ours.map(\.received).min() ?? start
        let end = podCreates(records, since: start).map(\.received).max() ?? origin
        return RateLimitCheck(arrivals: ours.map { .init(at: ($0.received - origin).seconds, isWrite: $0.method != "GET") },
                              qps: Double(qps), burst: burst, end: (end - origin).seconds)
    }

    static func podCreates(_ records: [RequestRecord], since start: ContinuousClock.Instant) -> [RequestRecord] {
        records.filter { $0.received >= start && $0.userAgent != userAgent && $0.method == "POST" && $0.path.hasSuffix("/pods") && $0.code == 201 }
    }

    static func isWatch(_ r: RequestRecord) -> Bool {
        r.query.split(separator: "&").contains { $0 == "watch=true" || $0 == "watch=1" }
    }

    static func figures(_ name: String, _ c: RateLimitCheck, jobs: Int, log: @Sendable (String) -> Void) -> [BenchFigure] {
        let q = c.qps, prefix = "Q=\(Int(q)), burst \(c.burst)"
        let sustained = (c.sustained ?? .nan) / q, writes = (c.sustainedWrites ?? .nan) / q
        let gets = c.arrivals.filter { !$0.isWrite }.count
        func verdict(_ met: Bool) -> String { met ? "met" : "MISSED" }
        log("\(name): \(prefix): \(c.arrivals.count) requests (\(gets) GETs) from \(jobs) jobs; sustained \(String(format: "%.2f", sustained)) × Q, writes \(String(format: "%.2f", writes)) × Q; most in 1 s after the bucket \(c.maxWindowAfterBurst)")
        return [
            BenchFigure(name, "\(prefix): requests through the limiter, sustained / Q", sustained, "×",
                        note: "target ≥ 0.95: \(verdict(sustained >= 0.95)); \(c.arrivals.count) requests of \(jobs) jobs, backlog \(String(format: "%.1f", c.end)) s"),
            BenchFigure(name, "\(prefix): writes, sustained / Q", writes, "×",
                        note: "target ≥ 0.95: \(verdict(writes >= 0.95)); \(gets) GETs (log reads) share the budget"),
            BenchFigure(name, "\(prefix): most requests in a 1-s window once the bucket is spent / Q", Double(c.maxWindowAfterBurst) / q, "×",
                        note: "never above Q, one request of arrival jitter allowed (≤ \(Int(q) + 1)): \(verdict(Double(c.maxWindowAfterBurst) <= q + 1))"),
            BenchFigure(name, "\(prefix): most writes in a 1-s window once the bucket is spent / Q", Double(c.maxWriteWindowAfterBurst) / q, "×"),
            BenchFigure(name, "\(prefix): most requests in any 1-s window", Double(c.maxWindow), "requests",
                        note: "the bucket allows Q + B = \(Int(q) + c.burst) at the start"),
            BenchFigure(name, "\(prefix): peak lead over Q·t", c.peakExcess, "requests",
                        note: "the bucket allows B = \(c.burst), one request of arrival jitter allowed: \(verdict(c.peakExcess <= Double(c.burst + 1)))"),
        ]
    }
}
