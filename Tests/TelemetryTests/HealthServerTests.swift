import Foundation
import Synchronization
import Testing
import GantryTestSupport
import Metrics
import Prometheus
@testable import Telemetry

/// /healthz, /readyz and /metrics over real HTTP (curl).
@Suite struct HealthServerTests {
    @Test func readinessFollowsTheClosureAndMetricsUseThePrometheusTextFormat() async throws {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "controller", subsystem: "runtime", metricName: "reconcile", unitName: "total", helpText: ""),
                                           labels: [("controller", "trainingjob"), ("result", "success")])
        counter.increment(by: Int64(3))
        let ready = Mutex(false)
        let port = Mutex(0)
        let server = HealthServer(host: "127.0.0.1", port: 0, registry: registry, ready: { ready.withLock { $0 } },
                                  onListening: { p in port.withLock { $0 = p } })
        let task = Task { try await server.run() }
        defer { task.cancel() }
        #expect(try await eventually(timeout: .seconds(10)) { port.withLock { $0 } > 0 })
        let base = "http://127.0.0.1:\(port.withLock { $0 })"
        func get(_ path: String) async -> (String, String) {
            let r = await runProcess("/usr/bin/curl", ["-s", "-w", "\n%{http_code}", base + path])
            let parts = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            return (parts.dropLast().joined(separator: "\n"), String(parts.last ?? ""))
        }
        #expect(await get("/healthz").1 == "200")
        #expect(await get("/readyz").1 == "503")  // caches not synced yet
        ready.withLock { $0 = true }
        #expect(await get("/readyz").1 == "200")
        let (metrics, code) = await get("/metrics")
        #expect(code == "200")
        #expect(metrics.contains(#"controller_runtime_reconcile_total{controller="trainingjob",result="success"} 3"#))
    }
}
