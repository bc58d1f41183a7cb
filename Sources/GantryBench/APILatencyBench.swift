import EmbeddedCluster
import Foundation
import KubeClient
import KubeCore

/// `api-latency`: one KubeClient GET against the embedded API server, sequentially, over each transport a
/// user meets: plain HTTP/1.1 (in-process tests), HTTPS with HTTP/1.1, and HTTPS with HTTP/2 (`gantry dev`'s
/// default, as a real API server). Shows what the TLS front end adds per request, and catches the class of
/// bug where small writes wait on delayed ACKs (Nagle), which costs tens of milliseconds per request.
public struct APILatencyBench: Sendable {
    public var requests = 500

    public init(quick: Bool) {
        if quick { requests = 50 }
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let name = "api-latency"
        var figures: [BenchFigure] = []
        for (label, tls, http2) in [("HTTP/1.1", false, false), ("HTTPS HTTP/1.1", true, false), ("HTTPS HTTP/2", true, true)] {
            let cluster = try await DevCluster.start(DevClusterOptions(nodes: "off", tls: tls, http2: http2))
            let dir = NSTemporaryDirectory() + "gantry-bench-latency-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try cluster.writeKubeconfig(to: dir + "/kubeconfig")
            let client = try KubeClient(config: KubeConfig.load(path: dir + "/kubeconfig", environment: [:]),
                                        options: ClientOptions(userAgent: "gantry-bench"))
            var cm: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "data": ["k": "v"]]
            cm.name = "probe"
            _ = try await client.create(.configMaps, cm, namespace: "default")
            for _ in 0..<20 { _ = try await client.get(.configMaps, namespace: "default", name: "probe") }  // warm-up
            var samples = Samples()
            let clock = ContinuousClock()
            for _ in 0..<requests {
                let start = clock.now
                _ = try await client.get(.configMaps, namespace: "default", name: "probe")
                samples.append(clock.now - start)
            }
            let used = Set(cluster.requests().filter { $0.userAgent == "gantry-bench" }.map(\.httpVersion)).sorted().joined(separator: ",")
            await cluster.stop()
            log("\(name): \(label): median \(String(format: "%.3f", samples.median.milliseconds)) ms")
            figures.append(BenchFigure(name, "GET over \(label), median", samples.median.milliseconds, "ms", note: "\(requests) sequential requests (\(used))"))
            figures.append(BenchFigure(name, "GET over \(label), p99", samples.p99.milliseconds, "ms"))
        }
        return figures
    }
}
