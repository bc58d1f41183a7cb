import Foundation
import Testing
import GantryAPI
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore

/// spec.autoscaling through the real path: load sent through the alias Service (the API server's service proxy)
/// shows in the simulated servers' /metrics, the operator reads them through the pod proxy over libcurl and sizes
/// the service; kubectl applies, scales and reads (issue #10).
@Suite(.serialized) struct InferenceServiceAutoscalingTests {
    typealias IS = InferenceServiceTests

    /// A server whose `http_requests_total` counts the requests it answered (the simulation's `{requests}`).
    static let countingServer = #"{readyAfter: 1s, http: {"/v2/health/ready": {body: ok}, "/v1/models/m:predict": {body: {ok: true}}}, metrics: "http_requests_total {requests}\n"}"#

    static func service(_ name: String, image: String = "acme/llm-serving:1", autoscaling: String, script: String,
                        rollout: String = "{scaleDownDelaySeconds: 0}") -> String {
        """
        apiVersion: gantry.dev/v1alpha1
        kind: InferenceService
        metadata: {name: \(name), namespace: default}
        spec:
          image: \(image)
          readinessPath: /v2/health/ready
          autoscaling: \(autoscaling)
          rollout: \(rollout)
          podMetadata:
            annotations:
              sim.gantry.dev/script: '\(script)'
        """
    }

    /// Requests through the alias at about `perSecond`, paced (a slow request is not made up for with a burst),
    /// until cancelled.
    static func load(_ h: OperatorHarness, _ name: String, perSecond: Double) -> Task<Int, Never> {
        Task {
            var sent = 0
            let clock = ContinuousClock()
            var due = clock.now
            while !Task.isCancelled {
                _ = try? await h.client.proxy(.services, namespace: "default", name: name, port: "http", path: "/v1/models/m:predict")
                sent += 1
                due = max(due + .seconds(1 / perSecond), clock.now)
                try? await Task.sleep(until: due, clock: clock)
            }
            return sent
        }
    }

    struct Sample: Sendable {
        var at: ContinuousClock.Instant
        var replicas: Int?
        var ready: Int?
        var reason: String?
        var recommendation: Int?
        /// status.autoscaling.lastCheck: when the operator read the metric this sample's decision came from.
        var checked: Date?
    }

    /// status.replicas and status.autoscaling every 100 ms until cancelled.
    static func sampler(_ h: OperatorHarness, _ name: String) -> Task<[Sample], Never> {
        Task {
            var samples: [Sample] = []
            while !Task.isCancelled {
                if let s = try? await IS.status(h, name) {
                    samples.append(Sample(at: .now, replicas: s["replicas"]?.intValue.map(Int.init), ready: s["readyReplicas"]?.intValue.map(Int.init),
                                          reason: s[path: "autoscaling", "reason"]?.stringValue,
                                          recommendation: s[path: "autoscaling", "recommendation"]?.intValue.map(Int.init),
                                          checked: s[path: "autoscaling", "lastCheck"]?.stringValue.flatMap(Timestamp.parse)))
                }
                try? await Task.sleep(for: .milliseconds(100))
            }
            return samples
        }
    }

    /// Stops the sampler; the status read now closes the record (its last read may predate what the test just saw).
    static func finish(_ sampler: Task<[Sample], Never>, _ h: OperatorHarness, _ name: String) async throws -> [Sample] {
        sampler.cancel()
        let final = try await IS.status(h, name)
        return await sampler.value + [Sample(at: .now, replicas: final["replicas"]?.intValue.map(Int.init), ready: nil,
                                             reason: final[path: "autoscaling", "reason"]?.stringValue, recommendation: nil, checked: nil)]
    }

    /// Waits until the autoscaler has read its metric `count` more times (status.autoscaling.lastCheck moved on):
    /// the test's phases last a number of the operator's readings, not a guess at wall time.
    static func awaitChecks(_ h: OperatorHarness, _ name: String, _ count: Int) async throws -> Bool {
        for _ in 0..<count {
            let previous = try await IS.status(h, name)[path: "autoscaling", "lastCheck"]
            guard try await eventually(timeout: .seconds(20), {
                try await IS.status(h, name)[path: "autoscaling", "lastCheck"] != previous
            }) else { return false }
        }
        return true
    }

    /// Whether a sequence rises, then only falls (never up again once it went down).
    static func upThenDown(_ values: [Int]) -> Bool {
        let fell = zip(values, values.dropFirst()).map { $1 < $0 }
        guard let first = fell.firstIndex(of: true) else { return true }
        return fell[first...].allSatisfy { $0 }
    }

    /// The distinct values of a sequence, in order (1, 1, 3, 3, 1 → 1, 3, 1).
    static func steps(_ values: [Int]) -> [Int] {
        values.reduce(into: []) { out, v in if out.last != v { out.append(v) } }
    }

    @Test func loadScalesUpAtOnceADipShorterThanTheWindowScalesNothingDownAndTheEndOfLoadDoesAfterIt() async throws {
        try await withOperator { h in
            let autoscaling = "{minReplicas: 1, maxReplicas: 4, metric: rps, target: 6, intervalSeconds: 2, scaleDownStabilizationSeconds: 8}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service("web", autoscaling: autoscaling, script: Self.countingServer))
            #expect(try await eventually(timeout: .seconds(60)) { try await IS.ready(h, "web") })
            #expect(try await IS.status(h, "web")["replicas"] == 1)
            let samples = Self.sampler(h, "web")

            // 15 requests/s through the alias against 6 per replica: ceil(15 / 6) = 3 replicas, at once.
            var traffic = Self.load(h, "web", perSecond: 15)
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "web")
                return s["replicas"] == 3 && s["readyReplicas"] == 3
            })
            let up = try await IS.status(h, "web")
            #expect(up[path: "autoscaling", "lastScale", "from"] == 1 && up[path: "autoscaling", "lastScale", "to"] == 3)
            #expect(try await IS.pods(h, "web").count == 3)
            // Let the three share the load for two readings: it holds at 3 (about 5 per replica, within reach of 6).
            #expect(try await Self.awaitChecks(h, "web", 2))
            #expect(try await IS.status(h, "web")["replicas"] == 3)

            // A dip of 3 s, shorter than the 8 s scale-down window: the recommendation falls, the size does not.
            traffic.cancel()
            _ = await traffic.value
            #expect(try await eventually(timeout: .seconds(10)) {
                try await IS.status(h, "web")[path: "autoscaling", "reason"] == "ScaleDownStabilized"
            })
            #expect(try await Self.awaitChecks(h, "web", 1), "one more reading of the dip")
            traffic = Self.load(h, "web", perSecond: 15)
            // The load is back: the recommendation returns to 3 and the size never left it (the samples check
            // that it only went up, then down, below).
            #expect(try await eventually(timeout: .seconds(20)) {
                try await IS.status(h, "web")[path: "autoscaling", "recommendation"] == 3
            })
            #expect(try await Self.awaitChecks(h, "web", 1))
            #expect(try await IS.status(h, "web")["replicas"] == 3)

            // The load ends: back to minReplicas once the window holds only low recommendations, not before.
            traffic.cancel()
            _ = await traffic.value
            let ended = ContinuousClock.now
            #expect(try await eventually(timeout: .seconds(30)) { try await IS.status(h, "web")["replicas"] == 1 })
            let down = ContinuousClock.now
            #expect(down - ended >= .seconds(7), "scaled down \(down - ended) after the load ended, inside the 8 s window")
            #expect(try await eventually(timeout: .seconds(20)) { try await IS.pods(h, "web").filter { $0.deletionTimestamp == nil }.count == 1 })
            let seen = try await Self.finish(samples, h, "web")
            // No flapping: up, then only down (down may pass through the highest recommendation still in the window,
            // as HPA does: a reading just after the load ended may ask for 2).
            let steps = Self.steps(seen.compactMap(\.replicas))
            #expect(steps.first == 1 && steps.last == 1 && steps.max() == 3 && Self.upThenDown(steps), "\(steps)")
            #expect(seen.contains { $0.replicas == 3 && $0.reason == "ScaleDownStabilized" && ($0.recommendation ?? 3) < 3 })

            let status = try await IS.status(h, "web")
            #expect(status[path: "autoscaling", "desiredReplicas"] == 1 && status[path: "autoscaling", "reason"] == "ScaledDown")
            #expect(status[path: "autoscaling", "metric"]?.stringValue?.contains("http_requests_total") == true)
            let events = try await IS.events(h, "web")
            #expect(events.contains("ScaledUp") && events.contains("ScaleDownStabilized") && events.contains("ScaledDown"), "\(events)")
            // Gantry never wrote the spec: no replicas in it, the generation unchanged.
            let object = try #require(try await h.get(.inferenceServices, "default", "web"))
            #expect(object[path: "spec", "replicas"] == nil && object.generation == 1)
        }
    }

    /// A queue's exporter: the age of its oldest message over time (seconds since the exporter started).
    static let exporter = """
        apiVersion: v1
        kind: Pod
        metadata: {name: jobs-exporter, namespace: default, labels: {app: jobs-exporter},
          annotations: {sim.gantry.dev/script: '{readyAfter: 0s, metrics: [{after: 0s, text: "queue_oldest_message_age_seconds 45\\n"}, {after: 12s, text: "queue_oldest_message_age_seconds 0\\n"}, {after: 26s, text: "queue_oldest_message_age_seconds 12\\n"}]}'}}
        spec:
          containers: [{name: exporter, image: acme/queue-exporter:1, ports: [{name: metrics, containerPort: 9100}]}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: jobs-exporter, namespace: default}
        spec:
          selector: {app: jobs-exporter}
          ports: [{name: metrics, port: 9100, targetPort: metrics}]
        """

    @Test func queueAgeScalesWorkersToZeroWhenTheQueueStaysEmptyAndBackWhenAMessageWaits() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.exporter)
            let autoscaling = "{minReplicas: 0, maxReplicas: 3, metric: queueAge, target: 30, intervalSeconds: 1, scaleDownStabilizationSeconds: 4, metricsFrom: {service: jobs-exporter, port: 9100}}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service("workers", image: "acme/queue-worker:1", autoscaling: autoscaling,
                                                                           script: "{readyAfter: 1s, http: {\"/v2/health/ready\": {body: ok}}}"))
            let samples = Self.sampler(h, "workers")
            // A message has waited 45 s: from zero to one worker, then ceil(1 × 45 / 30) = 2, then ceil(2 × 45 / 30) = 3
            // (the age does not fall while the exporter says 45).
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "workers")
                return s["replicas"] == 3 && s["readyReplicas"] == 3
            })
            // The queue empties (age 0): after the 4 s window, zero workers, no pod, and the service is Ready (idle).
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "workers")
                return s["replicas"] == 0 && s[path: "autoscaling", "lastScale", "to"] == 0
            })
            #expect(try await eventually(timeout: .seconds(20)) { try await IS.pods(h, "workers").isEmpty })
            let idle = try await IS.status(h, "workers")
            #expect(IS.condition(idle, "Ready")?["status"] == "True" && IS.condition(idle, "Ready")?["reason"] == "ScaledToZero")
            // A message waits again: one worker.
            #expect(try await eventually(timeout: .seconds(30)) {
                let s = try await IS.status(h, "workers")
                return s["replicas"] == 1 && s["readyReplicas"] == 1
            })
            let seen = try await Self.finish(samples, h, "workers")
            let steps = Self.steps(seen.compactMap(\.replicas))
            #expect(steps == [0, 1, 2, 3, 0, 1], "\(steps)")
            // The workers went a whole window (4 s) after the last reading that still saw a message waiting (the
            // operator's reading times, as status records them).
            let zero = try #require(seen.first { sample in sample.replicas == 0 && seen.contains { $0.replicas == 3 && $0.at < sample.at } })
            let busy = try #require(seen.last { $0.at < zero.at && $0.replicas == 3 && ($0.recommendation ?? 0) > 0 })
            let waited = (zero.checked ?? .distantPast).timeIntervalSince(busy.checked ?? .distantFuture)
            #expect(waited >= 3.9, "scaled to zero \(waited) s after the last reading with a message waiting")
            let events = try await IS.events(h, "workers")
            #expect(events.contains("ScaledUp") && events.contains("ScaledDown"))
        }
    }

    @Test func aRolloutUnderAutoscalingStartsTheCandidateAtTheCurrentSize() async throws {
        try await withOperator { h in
            // Every replica always has 25 requests in flight against a target of 10: the size goes to maxReplicas (3).
            let busy = #"{readyAfter: 1s, http: {"/v2/health/ready": {body: ok}}, metrics: "http_requests_in_flight 25\n"}"#
            let autoscaling = "{minReplicas: 1, maxReplicas: 3, metric: concurrency, target: 10, intervalSeconds: 1, scaleDownStabilizationSeconds: 30}"
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service("busy", autoscaling: autoscaling, script: busy, rollout: "{scaleDownDelaySeconds: 5}"))
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "busy")
                return s["replicas"] == 3 && s["readyReplicas"] == 3
            })
            #expect(try await IS.status(h, "busy")[path: "autoscaling", "reason"] == "AtMaxReplicas")
            _ = try await h.kubectl("apply", "-f", "-", stdin: Self.service("busy", image: "acme/llm-serving:2", autoscaling: autoscaling, script: busy,
                                                                          rollout: "{scaleDownDelaySeconds: 5}"))
            #expect(try await eventually(timeout: .seconds(30)) {
                try await IS.status(h, "busy")[path: "candidate", "desired"] == 3
            })
            #expect(try await eventually(timeout: .seconds(30)) {
                try await IS.pods(h, "busy").filter { $0.labels[GantryLabels.color] == "green" }.count == 3
            })
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "busy")
                return s["activeColor"] == "green" && s["candidate"] == nil && s["readyReplicas"] == 3
            })
            #expect(try await IS.status(h, "busy")[path: "activeRevision", "image"] == "acme/llm-serving:2")
        }
    }

    @Test func theDocumentedExampleReadsItsServersAndKubectlScaleIsRefusedNamingTheFix() async throws {
        try await withOperator { h in
            _ = try await h.kubectl("apply", "-f", OperatorHarness.repoRoot + "/examples/inferenceservice-autoscaling.yaml")
            #expect(try await eventually(timeout: .seconds(60)) {
                let s = try await IS.status(h, "chat")
                return IS.condition(s, "Ready")?["status"] == "True" && s[path: "autoscaling", "currentValue"] != nil
            })
            let status = try await IS.status(h, "chat")
            // The simulated vLLM serves nothing: 0 requests in flight, held at minReplicas.
            #expect(status[path: "autoscaling", "currentValue"]?.doubleValue == 0)
            #expect(status[path: "autoscaling", "reason"] == "AtMinReplicas")
            #expect(status["replicas"] == 1 && status[path: "autoscaling", "desiredReplicas"] == 1)
            let scale = try JSONValue.parse(try await h.kubectl("get", "--raw", "/apis/gantry.dev/v1alpha1/namespaces/default/inferenceservices/chat/scale"))
            #expect(scale[path: "status", "replicas"] == 1)
            let refused = await h.cluster.kubectl(args: ["scale", "inferenceservice", "chat", "--replicas=3"])
            #expect(!refused.ok && refused.stderr.contains("spec.replicas and spec.autoscaling are exclusive: remove spec.replicas"), "\(refused.stderr)")
            let wide = try await h.kubectl("get", "gis", "chat", "-o", "wide")
            #expect(wide.contains("REPLICAS"), "\(wide)")
        }
    }

    static let badSpecs: [(spec: String, message: String)] = [
        ("replicas: 2\n  autoscaling: {maxReplicas: 3, metric: rps, target: 5}", "spec.replicas and spec.autoscaling are exclusive"),
        ("autoscaling: {minReplicas: 4, maxReplicas: 3, metric: rps, target: 5}", "spec.autoscaling.minReplicas must not exceed spec.autoscaling.maxReplicas"),
        ("autoscaling: {maxReplicas: 3, metric: rps, target: 0}", "spec.autoscaling.target"),
        ("autoscaling: {minReplicas: 0, maxReplicas: 3, metric: queueAge, target: 30}", "spec.autoscaling.minReplicas 0 needs spec.autoscaling.metricsFrom"),
        ("autoscaling: {maxReplicas: 3, metric: custom, target: 5}", "spec.autoscaling.metricName is required with metric custom"),
        ("autoscaling: {maxReplicas: 3, metric: rps, target: 5, targetType: Value}", "spec.autoscaling.targetType and counter apply to metric custom only"),
        ("autoscaling: {maxReplicas: 3, metric: cpu, target: 70}", "spec.autoscaling.metric cpu needs spec.resources.cpu"),
        ("autoscaling: {maxReplicas: 3, metric: latency, target: 1}", "spec.autoscaling.metric"),
        ("autoscaling: {maxReplicas: 3, metric: rps, target: 5, scaleDownStabilizationSeconds: 7200}", "spec.autoscaling.scaleDownStabilizationSeconds"),
    ]

    @Test func aBadAutoscalingSpecIsRefusedNamingTheField() async throws {
        try await withOperator { h in
            for (spec, message) in Self.badSpecs {
                let manifest = "apiVersion: gantry.dev/v1alpha1\nkind: InferenceService\nmetadata: {name: bad, namespace: default}\nspec:\n  image: m:1\n  \(spec)\n"
                let refused = await h.cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
                #expect(!refused.ok && refused.stderr.contains(message), "\(spec): \(refused.stderr)")
            }
            #expect(try await h.get(.inferenceServices, "default", "bad") == nil)
            // A good one next to them: cpu with a CPU request is accepted.
            let good = "apiVersion: gantry.dev/v1alpha1\nkind: InferenceService\nmetadata: {name: good, namespace: default}\nspec:\n  image: m:1\n  resources: {cpu: 500m}\n  autoscaling: {maxReplicas: 3, metric: cpu, target: 70}\n"
            _ = try await h.kubectl("apply", "-f", "-", stdin: good)
        }
    }
}
