import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// Analysis and autoscaling read from a real Prometheus (issue #10): the Debian `prometheus` server scrapes a
/// target the test serves, whose series carry the pods' labels as Kubernetes discovery would name them, and the
/// operator sends the spec's PromQL (placeholders filled) to the URL in the PlatformConfig.
@Suite(.serialized) struct InferenceServicePrometheusTests {
    typealias IS = InferenceServiceTests
    static let example = OperatorHarness.repoRoot + "/examples/inferenceservice-prometheus.yaml"

    /// What the target serves: the service's requests in flight, and request counters of revisions by status code.
    static func series(inFlight: Int, revisions: [(hash: String, ok: Int, failed: Int)] = []) -> String {
        var text = "http_requests_in_flight{namespace=\"default\",app_kubernetes_io_instance=\"ranker\"} \(inFlight)\n"
        for r in revisions {
            text += "http_requests_total{namespace=\"default\",gantry_dev_revision=\"\(r.hash)\",code=\"200\"} \(r.ok)\n"
            text += "http_requests_total{namespace=\"default\",gantry_dev_revision=\"\(r.hash)\",code=\"500\"} \(r.failed)\n"
        }
        return text
    }

    /// The PlatformConfig docs/inferenceservice.md shows, pointed at the test's Prometheus.
    static func platformConfig(prometheus port: Int) throws -> String {
        let shown = try guideBlock("inferenceservice.md", under: "## Reading Prometheus")
        guard shown.contains("kind: PlatformConfig"), shown.contains("http://prometheus.monitoring:9090") else {
            throw TestFailure("the first block under Reading Prometheus is not the PlatformConfig: \(shown)")
        }
        return shown.replacingOccurrences(of: "http://prometheus.monitoring:9090", with: "http://127.0.0.1:\(port)")
    }

    /// The operator, a scrape target serving `initial`, and a Prometheus scraping it every second.
    static func withPrometheus(_ initial: String, _ body: @escaping (OperatorHarness, ScrapeTarget, PrometheusServer) async throws -> Void) async throws {
        try await withOperator { h in
            try await withScrapeTarget(initial) { port, target in
                let server = try await PrometheusServer.start(scraping: "127.0.0.1:\(port)",
                                                              in: NSTemporaryDirectory() + "gantry-prom-" + UUID().uuidString.prefix(8))
                do {
                    try await body(h, target, server)
                } catch {
                    await server.stop()
                    throw error
                }
                await server.stop()
            }
        }
    }

    @Test func aMissingURLIsNamedThenTheServiceIsSizedByAPrometheusValue() async throws {
        try await Self.withPrometheus(Self.series(inFlight: 0)) { h, target, server in
            _ = try await h.kubectl("apply", "-f", Self.example)
            // No PlatformConfig names a Prometheus yet: the condition says which object and field to set.
            #expect(try await eventually(timeout: .seconds(30)) {
                IS.condition(try await IS.status(h, "ranker"), "MetricsConfigured")?["reason"] == "PrometheusURLMissing"
            })
            var status = try await IS.status(h, "ranker")
            let missing = IS.condition(status, "MetricsConfigured")
            #expect(missing?["status"] == "False" && missing?["observedGeneration"] == 1)
            #expect(missing?["message"]?.stringValue?.contains(#"PlatformConfig "default" spec.prometheus.url is not set"#) == true, "\(missing ?? .null)")
            #expect(missing?["message"]?.stringValue?.contains("spec.rollout.analysis (source Prometheus) and spec.autoscaling.query") == true, "\(missing ?? .null)")

            // The admin sets it: the query is answered (0 in flight: held at minReplicas).
            _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.platformConfig(prometheus: server.port))
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "ranker")
                return IS.condition(s, "MetricsConfigured")?["status"] == "True" && s[path: "autoscaling", "currentValue"]?.doubleValue == 0
                    && IS.condition(s, "Ready")?["status"] == "True"
            })
            #expect(try await IS.status(h, "ranker")["replicas"] == 1)

            // 30 requests in flight against 10 per replica: Prometheus' value asks for 3 replicas.
            await target.set(Self.series(inFlight: 30))
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "ranker")
                return s["replicas"] == 3 && s["readyReplicas"] == 3
            })
            status = try await IS.status(h, "ranker")
            #expect(status[path: "autoscaling", "lastScale", "from"] == 1 && status[path: "autoscaling", "lastScale", "to"] == 3)
            #expect(status[path: "autoscaling", "metric"]?.stringValue?.contains(#"Prometheus: sum(http_requests_in_flight{namespace="{{namespace}}""#) == true,
                    "\(status[path: "autoscaling"] ?? .null)")
            let events = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=ranker,reason=ScaledUp", "-o", "jsonpath={.items[*].message}")
            #expect(events.contains("concurrency 30 per replica against target 10 asks for 3: 1 → 3 replicas"), "\(events)")
            #expect(try await IS.pods(h, "ranker").count == 3)

            // HPA's scale-up policy: one pod per minute. 60 in flight asks for 6; 4 now, then held (ScaleUpLimit).
            let example = try String(contentsOfFile: Self.example, encoding: .utf8)
            let limited = example.replacingOccurrences(of: "    maxReplicas: 4\n", with: """
                    maxReplicas: 6
                    scaleUp:
                      policies: [{type: Pods, value: 1, periodSeconds: 60}]

                """)
            #expect(limited != example)
            _ = try await h.kubectl("apply", "-f", "-", stdin: limited)
            await target.set(Self.series(inFlight: 60))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await IS.status(h, "ranker")[path: "autoscaling", "reason"] == "ScaleUpLimit"
            })
            status = try await IS.status(h, "ranker")
            #expect(status["replicas"] == 4 && status[path: "autoscaling", "lastScale", "from"] == 3, "\(status[path: "autoscaling"] ?? .null)")
            #expect(status[path: "autoscaling", "message"]?.stringValue?.contains("asks for 6; 4 kept (limited by spec.autoscaling.scaleUp.policies)") == true,
                    "\(status[path: "autoscaling"] ?? .null)")
            let limitedEvents = try await h.kubectl("get", "events", "--field-selector", "involvedObject.name=ranker,reason=ScaledUp", "-o", "jsonpath={.items[*].message}")
            #expect(limitedEvents.contains("3 → 4 replicas (limited by spec.autoscaling.scaleUp.policies)"), "\(limitedEvents)")
        }
    }

    @Test func anErrorRatioReadFromPrometheusSwapsBackAndMarksTheServiceDegraded() async throws {
        try await Self.withPrometheus(Self.series(inFlight: 5)) { h, target, server in
            _ = try await h.kubectl("apply", "-f", "-", stdin: try Self.platformConfig(prometheus: server.port))
            let manifest = try String(contentsOfFile: Self.example, encoding: .utf8)
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "ranker") })
            let first = try #require(try await IS.status(h, "ranker")[path: "activeRevision", "hash"]?.stringValue)

            // A new image: its counters exist (at 0) by the time it takes traffic, and are the analysis' baseline.
            _ = try await h.kubectl("apply", "-f", "-", stdin: manifest.replacingOccurrences(of: "ranker-serving:1.4", with: "ranker-serving:1.5"))
            #expect(try await eventually(timeout: .seconds(30)) {
                (try await IS.status(h, "ranker")[path: "candidate", "revision", "hash"]?.stringValue).map { $0 != first } ?? false
            })
            let second = try #require(try await IS.status(h, "ranker")[path: "candidate", "revision", "hash"]?.stringValue)
            await target.set(Self.series(inFlight: 5, revisions: [(second, 0, 0)]))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "ranker")
                return s[path: "activeRevision", "hash"]?.stringValue == second && s[path: "analysis", "phase"] == "Running"
                    && s[path: "analysis", "baseline", "requests"] != nil
            })
            #expect(try await IS.selectedColor(h, "ranker") == "green")

            // Under traffic 30 of 100 requests fail: read from Prometheus, a breach; the alias goes back to blue.
            await target.set(Self.series(inFlight: 5, revisions: [(second, 70, 30)]))
            #expect(try await eventually(timeout: .seconds(60)) {
                try await IS.status(h, "ranker")[path: "lastSwap", "reason"] == "AnalysisFailed"
            })
            let status = try await IS.status(h, "ranker")
            #expect(status[path: "activeRevision", "hash"]?.stringValue == first && status["activeColor"] == "blue")
            #expect(try await IS.selectedColor(h, "ranker") == "blue")
            #expect(status[path: "analysis", "phase"] == "Failed" && status[path: "analysis", "errorRatio"]?.doubleValue == 0.3, "\(status[path: "analysis"] ?? .null)")
            #expect(status[path: "analysis", "last", "requests"]?.doubleValue == 100 && status[path: "analysis", "last", "errors"]?.doubleValue == 30)
            let degraded = try #require(IS.condition(status, "Degraded"))
            #expect(degraded["status"] == "True" && degraded["reason"] == "AnalysisFailed")
            #expect(degraded["message"]?.stringValue?.contains("error ratio 0.300 (30 of 100 requests) above maxErrorRatio 0.02") == true, "\(degraded)")
            let events = try await IS.events(h, "ranker")
            #expect(events.contains("AnalysisFailed"), "\(events)")
        }
    }
}
