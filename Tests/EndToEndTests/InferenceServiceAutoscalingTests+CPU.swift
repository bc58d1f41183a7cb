import Foundation
import Testing
import GantryAPI
import GantryTestSupport
import KubeCore

/// metric cpu through the real path: each serving pod's `process_cpu_seconds_total` (a counter) read through the pod
/// proxy twice, its rate in cores taken as a percentage of spec.resources.cpu (issue #10).
extension InferenceServiceAutoscalingTests {
    /// Busy at one core: the counter grows by one CPU-second each second of uptime.
    static let oneCoreServer = #"{readyAfter: 1s, http: {"/v2/health/ready": {body: ok}}, metrics: "process_cpu_seconds_total {t}\n"}"#

    @Test func cpuAgainstTheRequestScalesUpAtTheTarget() async throws {
        try await withOperator { h in
            let yaml = Self.service("cruncher", autoscaling: "{minReplicas: 1, maxReplicas: 2, metric: cpu, target: 100, intervalSeconds: 2}",
                                    script: Self.oneCoreServer) + "\n  resources: {cpu: 500m}\n"
            _ = try await h.kubectl("apply", "-f", "-", stdin: yaml)
            // One core used of half a core requested: 200 % against a target of 100 asks for 2 replicas.
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "cruncher")
                return s[path: "autoscaling", "lastScale", "to"] == 2 && s["readyReplicas"] == 2
            })
            let status = try await IS.status(h, "cruncher")
            #expect(status[path: "autoscaling", "metric"]?.stringValue?.contains("process_cpu_seconds_total") == true, "\(status["autoscaling"] ?? .null)")
            let value = status[path: "autoscaling", "currentValue"]?.doubleValue ?? 0
            #expect(value > 150 && value < 250, "a rate of about one core over 0.5 requested: \(value) %")
            #expect(status[path: "autoscaling", "lastScale", "from"] == 1)
            #expect(try await IS.events(h, "cruncher").contains("ScaledUp"))
        }
    }
}
