/// The named benchmarks of `gantry bench`, in the order they run. Memory figures are cleanest with `--only`:
/// each benchmark leaves the allocator with arenas the next one may reuse.
public enum BenchSuite {
    public static let names = ["decode-pods", "watch-framing", "store-update", "early-stop-latency", "dev-startup", "api-latency", "burst", "burst-one-replica", "burst-four-replica", "burst-qps", "blue-green", "scale-10k", "culling"]

    /// Runs one benchmark by name; `log` receives progress lines (stderr in the CLI, so tables stay clean).
    /// `scales`: the scale benchmarks' sizes (`burst` and its shapes: job counts; `burst-qps`: the QPS limits; `blue-green`: the swap count, first value;
    /// `scale-10k`: the seeded Pods and objects, first value); nil for their defaults.
    public static func run(_ name: String, quick: Bool, scales: [Int]? = nil, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        switch name {
        case "decode-pods": return try DecodePodsBench(quick: quick).run(log: log)
        case "watch-framing": return try WatchFramingBench(quick: quick).run(log: log)
        case "store-update": return try await StoreUpdateBench(quick: quick).run(log: log)
        case "early-stop-latency": return try await EarlyStopBench(quick: quick).run(log: log)
        case "dev-startup": return try await DevStartupBench(quick: quick).run(log: log)
        case "api-latency": return try await APILatencyBench(quick: quick).run(log: log)
        case "burst": return try await BurstBench(quick: quick, scales: scales).run(log: log)
        case "burst-one-replica": return try await BurstBench(quick: quick, scales: scales, replicas: 1).run(log: log)
        case "burst-four-replica": return try await BurstBench(quick: quick, scales: scales, replicas: 4).run(log: log)
        case "burst-qps": return try await BurstQPSBench(quick: quick, scales: scales).run(log: log)
        case "blue-green": return try await BlueGreenBench(quick: quick, scales: scales).run(log: log)
        case "scale-10k": return try await Scale10kBench(quick: quick, scales: scales).run(log: log)
        case "culling": return try await CullingBench(quick: quick).run(log: log)
        default: throw BenchError.setup("unknown benchmark \(name); known: \(names.joined(separator: ", "))")
        }
    }
}
