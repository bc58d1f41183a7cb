import Foundation
import KubeClient
import KubeCore

/// `dev-startup`: how long `gantry dev` takes from exec to serving, as a user or script sees it (issue target:
/// under 2 s). Each run starts the real binary (HTTPS, default simulated node pool, a fresh temporary
/// kubeconfig), and times three moments: the `export KUBECONFIG=` line that ends the startup hint (scripts wait
/// for it), the first authenticated request answered through the written kubeconfig (what kubectl needs), and,
/// after SIGTERM, the process exit.
public struct DevStartupBench: Sendable {
    public var runs = 10
    public var target: Duration = .seconds(2)

    public init(quick: Bool) {
        if quick { runs = 3 }
    }

    /// The `gantry` binary: this process when it is gantry, else a `gantry` beside it (the test runner's folder).
    static func gantryBinary() throws -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        if (me as NSString).lastPathComponent == "gantry" { return me }
        let sibling = ((me as NSString).deletingLastPathComponent as NSString).appendingPathComponent("gantry")
        guard FileManager.default.isExecutableFile(atPath: sibling) else { throw BenchError.setup("no gantry binary at \(sibling)") }
        return sibling
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "dev-startup"
        let binary = try Self.gantryBinary()
        var hint = Samples(), firstRequest = Samples(), shutdown = Samples()
        for i in 0..<runs {
            let r = try await Self.once(binary: binary)
            hint.append(r.hint)
            firstRequest.append(r.firstRequest)
            shutdown.append(r.shutdown)
            log("\(name): run \(i + 1)/\(runs): hint \(Int(r.hint.milliseconds)) ms, first request \(Int(r.firstRequest.milliseconds)) ms")
        }
        let verdict = firstRequest.p99 < target ? "target < \(Int(target.seconds)) s: met" : "target < \(Int(target.seconds)) s: MISSED"
        return [
            BenchFigure(name, "exec → startup hint printed, median", hint.median.milliseconds, "ms", note: "\(runs) runs"),
            BenchFigure(name, "exec → first kubeconfig request answered, median", firstRequest.median.milliseconds, "ms"),
            BenchFigure(name, "exec → first kubeconfig request answered, p99", firstRequest.p99.milliseconds, "ms", note: verdict),
            BenchFigure(name, "SIGTERM → exit, median", shutdown.median.milliseconds, "ms"),
        ]
    }

    struct Run { var hint: Duration; var firstRequest: Duration; var shutdown: Duration }

    static func once(binary: String) async throws -> Run {
        let dir = NSTemporaryDirectory() + "gantry-bench-dev-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kubeconfig = dir + "/kubeconfig"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["dev", "--kubeconfig", kubeconfig]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        let clock = ContinuousClock()
        let start = clock.now
        try process.run()
        // Whatever fails below, the server does not outlive the run.
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let printed = await DevProcess.awaitStartupHint(out)
        let hint = clock.now - start
        guard printed else { throw BenchError.setup("gantry dev exited before printing its startup lines") }
        let client = try KubeClient(config: KubeConfig.load(path: kubeconfig, environment: [:]), options: ClientOptions(maxRetries: 0))
        _ = try await client.list(.namespaces, namespace: nil)
        let firstRequest = clock.now - start
        let stopAt = clock.now
        process.terminate()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                process.waitUntilExit()
                c.resume()
            }
        }
        return Run(hint: hint, firstRequest: firstRequest, shutdown: clock.now - stopAt)
    }
}
