import CoreMetrics
import Foundation
import GantryTestSupport
import KubeClient
import Synchronization
import Testing

/// Records counter increments by label and dimensions.
final class RecordingMetrics: MetricsFactory, Sendable {
    let counts = Mutex<[String: Int64]>([:])
    let timings = Mutex<[String: Int]>([:])

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    final class CounterBox: CounterHandler, Sendable {
        let key: String
        let owner: RecordingMetrics
        init(key: String, owner: RecordingMetrics) { self.key = key; self.owner = owner }
        func increment(by amount: Int64) { owner.counts.withLock { $0[key, default: 0] += amount } }
        func reset() {}
    }

    final class TimerBox: TimerHandler, Sendable {
        let key: String
        let owner: RecordingMetrics
        init(key: String, owner: RecordingMetrics) { self.key = key; self.owner = owner }
        func recordNanoseconds(_ duration: Int64) { owner.timings.withLock { $0[key, default: 0] += 1 } }
    }

    final class Nothing: RecorderHandler, Sendable {
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        CounterBox(key: Self.key(label, dimensions), owner: self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Nothing() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        TimerBox(key: Self.key(label, dimensions), owner: self)
    }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite("Request metrics")
struct MetricsTests {
    @Test func countsRequestsByMethodAndCode() async throws {
        let metrics = RecordingMetrics()
        try await withCluster(ClusterFixture.start(options: ClientOptions(metricsFactory: metrics))) { f async throws in
            _ = try await f.client.list(configMaps, namespace: "default")
            _ = try await f.client.list(configMaps, namespace: "default")
            _ = try? await f.client.get(configMaps, namespace: "default", name: "missing")
            let counts = metrics.counts.withLock { $0 }
            #expect(counts["rest_client_requests_total{method=GET,code=200}"] == 2)
            #expect(counts["rest_client_requests_total{method=GET,code=404}"] == 1)
            #expect(metrics.timings.withLock { $0 }["rest_client_request_duration_seconds{verb=GET}"] == 3)
        }
    }
}
