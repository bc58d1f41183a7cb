import Testing
@testable import GantryBench

/// The burst scenarios at their smallest, through the real processes; figures must exist and be sane, never
/// fast (targets are checked by `gantry bench`, not here).
@Suite struct BurstBenchTests {
    @Test(arguments: [1, 2, 4])
    func eachJobShapeRunsSmallAndYieldsItsFigures(replicas: Int) async throws {
        let bench = BurstBench(quick: true, scales: [3], replicas: replicas)
        let figures = try await bench.run(log: { _ in })
        let byMetric = Dictionary(figures.map { ($0.metric, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(Set(figures.map(\.benchmark)) == [bench.name])
        for metric in ["bare client, pods only, pods created per second", "bare client, the operator's writes, pods created per second",
                       "operator, pods created per second", "operator / bare client doing its writes", "operator / bare client, pods only",
                       "controller CPU per job, until every job runs", "API server CPU per pod, operator phase"] {
            let value = byMetric["N=3: " + metric]?.value
            #expect(value.map { $0.isFinite && $0 > 0 } == true, "missing or empty figure \(metric): \(String(describing: value))")
        }
        #expect(byMetric["N=3: bare client, pods only, pods created per second"]?.note == "\(3 * replicas) pods, 4 in flight")
        #expect(byMetric["N=3: bare client, the operator's writes, pods created per second"]?.note.contains(replicas > 1 ? "Service" : "status, 1 pod,") == true)
        #expect((byMetric["N=3: full admission computations, until every job runs"]?.value ?? 0) >= 1)
    }

    @Test func theShapesAreNamedForGantryBench() {
        #expect(BurstBench(quick: false, replicas: 1).name == "burst-one-replica")
        #expect(BurstBench(quick: false, replicas: 1).scales == [2000])
        #expect(BurstBench(quick: false, replicas: 4).scales == [500])
        #expect(BurstBench(quick: false).name == "burst")
        for name in ["burst", "burst-one-replica", "burst-four-replica", "burst-qps"] { #expect(BenchSuite.names.contains(name)) }
    }

    /// A rate-limited controller process (`--qps 20`) on five jobs: every figure is there and counts requests.
    @Test func qpsLimitedBurstRunsSmallAndYieldsItsFigures() async throws {
        var bench = BurstQPSBench(quick: true, scales: [20])
        bench.jobsPerQPS = 0.25
        let figures = try await bench.run(log: { _ in })
        let byMetric = Dictionary(figures.map { ($0.metric, $0) }, uniquingKeysWith: { a, _ in a })
        for metric in ["requests through the limiter, sustained / Q", "writes, sustained / Q", "most requests in a 1-s window once the bucket is spent / Q",
                       "most writes in a 1-s window once the bucket is spent / Q", "most requests in any 1-s window", "peak lead over Q·t"] {
            let value = byMetric["Q=20, burst 10: " + metric]?.value
            #expect(value.map { $0.isFinite && $0 > 0 } == true, "missing or empty figure \(metric): \(String(describing: value))")
        }
        // 5 two-replica jobs: 10 pod creates at least, each a request the server logged.
        #expect((byMetric["Q=20, burst 10: most requests in any 1-s window"]?.value ?? 0) >= 1)
        #expect(byMetric["Q=20, burst 10: requests through the limiter, sustained / Q"]?.note.contains("of 5 jobs") == true)
    }
}
