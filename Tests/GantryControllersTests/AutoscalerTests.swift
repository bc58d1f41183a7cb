import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// HPA's arithmetic (Autoscaler) and its use by the InferenceService planner (spec.autoscaling); the end-to-end
/// behaviour is in InferenceServiceAutoscalingTests.
@Suite struct AutoscalerTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    func recommend(_ reading: AutoscalingReading, current: Int, target: Double, type: Autoscaling.TargetType = .averageValue) -> Int? {
        Autoscaler.recommend(reading, current: current, target: target, tolerance: 0.1, type: type)?.replicas
    }

    @Test func desiredIsTheCeilingOfCurrentTimesValueOverTargetOutsideTheTolerance() {
        // 3 pods at 15 each, target 10: ceil(3 × 1.5) = 5.
        #expect(recommend(.pods([15, 15, 15], missing: 0), current: 3, target: 10) == 5)
        // Average 10.5 against 10 is within 10 %: no change.
        #expect(recommend(.pods([10, 11], missing: 0), current: 2, target: 10) == 2)
        // 11.5 is not: ceil(2 × 1.15) = 3.
        #expect(recommend(.pods([11, 12], missing: 0), current: 2, target: 10) == 3)
        // Idle pods ask for nothing (the bounds keep minReplicas).
        #expect(recommend(.pods([0, 0, 0], missing: 0), current: 3, target: 10) == 0)
        #expect(recommend(.pods([2, 2, 2, 2], missing: 0), current: 4, target: 10) == 1)
        // No value at all: no decision.
        #expect(recommend(.pods([], missing: 2), current: 2, target: 10) == nil)
        #expect(recommend(.warmingUp("first reading"), current: 2, target: 10) == nil)
    }

    @Test func podsWithoutAValueCountAsIdleForAScaleUpAndAtTargetForAScaleDown() {
        // One pod at 30 and two starting: scale-up assumes the starting ones idle, 30/3 = 10 = target: no change
        // (the scale-up that started them is not repeated before they report).
        #expect(recommend(.pods([30], missing: 2), current: 3, target: 10) == 3)
        // One pod at 60 and one starting: (60 + 0) / 2 = 30: ceil(3 × 2) = 6.
        #expect(recommend(.pods([60], missing: 1), current: 2, target: 10) == 6)
        // Scale-down assumes the silent pods at the target: (2 + 10 + 10) / 3 = 7.33: ceil(3 × 0.733) = 3 → no change.
        #expect(recommend(.pods([2], missing: 2), current: 3, target: 10) == 3)
        // (0 + 0 + 10 + 10) / 4 = 5 → ceil(4 × 0.5) = 2.
        #expect(recommend(.pods([0, 0], missing: 2), current: 4, target: 10) == 2)
        // The assumption reversing the direction changes nothing: 12 alone asks for more, (12 + 0 + 0) / 3 for less.
        #expect(recommend(.pods([12], missing: 2), current: 3, target: 10) == 3)
    }

    @Test func aValueFromAServiceIsDividedByTheReplicasOrComparedAsIs() {
        // AverageValue from a Service (requests in flight at a gateway): ceil(total / target), also from zero.
        #expect(recommend(.service(45), current: 2, target: 10) == 5)
        #expect(recommend(.service(45), current: 0, target: 10) == 5)
        #expect(recommend(.service(21), current: 2, target: 10) == 2)  // 10.5 per replica: within the tolerance
        // Value (queue age): ceil(current × age / target); from zero any waiting message asks for one replica.
        #expect(recommend(.service(45), current: 2, target: 30, type: .value) == 3)
        #expect(recommend(.service(12), current: 0, target: 30, type: .value) == 1)
        #expect(recommend(.service(0), current: 0, target: 30, type: .value) == 0)
        #expect(recommend(.service(0), current: 3, target: 30, type: .value) == 0)
        #expect(recommend(.service(31), current: 3, target: 30, type: .value) == 3)  // within 10 %
        // Value from pods: the highest pod's value.
        #expect(recommend(.pods([10, 60, 0], missing: 0), current: 3, target: 30, type: .value) == 6)
    }

    func rec(_ secondsAgo: Double, _ replicas: Int) -> AutoscalingStatus.Recommendation {
        .init(at: Timestamp.format(Self.start.addingTimeInterval(-secondsAgo)), replicas: replicas)
    }

    @Test func stabilizationTakesTheHighestRecommendationOfTheScaleDownWindowAndTheLowestOfTheScaleUpWindow() {
        // Scale-down window 300 s: a recommendation of 5 two minutes ago keeps 5 though the metric asks for 2.
        let history = [rec(120, 5), rec(60, 3)]
        #expect(Autoscaler.stabilize(2, current: 5, history: history, now: Self.start, upWindow: 0, downWindow: 300) == 5)
        // With a 90 s window only the 3 of a minute ago is inside: down to 3, not to 2.
        #expect(Autoscaler.stabilize(2, current: 5, history: history, now: Self.start, upWindow: 0, downWindow: 90) == 3)
        // Up at once with no scale-up window.
        #expect(Autoscaler.stabilize(8, current: 5, history: history, now: Self.start, upWindow: 0, downWindow: 300) == 8)
        // A 90 s scale-up window holds the size until every recommendation in it asks for more: 3 of a minute ago.
        #expect(Autoscaler.stabilize(8, current: 3, history: history, now: Self.start, upWindow: 90, downWindow: 300) == 3)
        #expect(Autoscaler.stabilize(8, current: 2, history: history, now: Self.start, upWindow: 90, downWindow: 300) == 3)
    }

    @Test func theHistoryKeepsOnlyWhatCanStillDecide() {
        // Steady: one entry however many readings.
        var history: [AutoscalingStatus.Recommendation] = []
        for i in 0..<100 {
            history = Autoscaler.record(rec(Double(100 - i), 3), into: history, now: Self.start.addingTimeInterval(-Double(100 - i)), upWindow: 0, downWindow: 300)
        }
        #expect(history.count == 1)
        // A peak stays until it leaves the window, lower ones after it stay (they decide once the peak is out).
        history = Autoscaler.record(rec(50, 6), into: [], now: Self.start, upWindow: 0, downWindow: 300)
        history = Autoscaler.record(rec(40, 4), into: history, now: Self.start, upWindow: 0, downWindow: 300)
        history = Autoscaler.record(rec(30, 5), into: history, now: Self.start, upWindow: 0, downWindow: 300)
        #expect(history.map(\.replicas) == [6, 5])  // 4 is below the later 5 and above nothing later: it can never be the max
        // Outside both windows: gone.
        #expect(Autoscaler.record(rec(0, 1), into: [rec(400, 9)], now: Self.start, upWindow: 0, downWindow: 300).map(\.replicas) == [1])
    }

    // MARK: the planner

    func service(_ autoscaling: JSONValue, image: String = "m:1", status: InferenceServiceStatus? = nil) throws -> InferenceService {
        var object: JSONValue = ["apiVersion": "gantry.dev/v1alpha1", "kind": "InferenceService",
                                 "spec": ["image": .string(image), "autoscaling": autoscaling, "rollout": ["scaleDownDelaySeconds": 30]]]
        object.name = "api"
        object.namespace = "default"
        object[path: "metadata", "uid"] = "uid-1"
        object[path: "metadata", "generation"] = 1
        if let status { object["status"] = try JSONValue(encoding: status).droppingNulls() }
        return try InferenceService(object)
    }

    let planner = InferenceServicePlanner(platform: { PlatformConfigSpec() })

    func plan(_ service: InferenceService, pods: [JSONValue], reading: AutoscalingReading?, at now: Date) -> KindPlan<InferenceServiceStatus> {
        planner.plan(KindObservation(object: service, children: [.pods: pods],
                                     inputs: .init(platform: PlatformConfigSpec(), autoscaling: reading.map { .success($0) }), now: now))
    }

    func readyPods(_ plan: KindPlan<InferenceServiceStatus>, now: Date) -> [JSONValue] {
        plan.children.desired.filter { $0.type == .pods }.map { child in
            var pod = child.object
            pod[path: "status", "phase"] = "Running"
            pod[path: "status", "conditions"] = [["type": "Ready", "status": "True", "lastTransitionTime": .string(Timestamp.format(now.addingTimeInterval(-60)))]]
            return pod
        }
    }

    func servingPods(_ plan: KindPlan<InferenceServiceStatus>) -> Int { plan.children.desired.filter { $0.type == .pods }.count }

    @Test func theSizeFollowsTheMetricWithinTheBoundsAndScalesDownOnlyAfterTheWindow() throws {
        let spec: JSONValue = ["minReplicas": 1, "maxReplicas": 4, "metric": "concurrency", "target": 10, "scaleDownStabilizationSeconds": 60]
        let first = plan(try service(spec), pods: [], reading: nil, at: Self.start)
        #expect(first.status.replicas == 1 && servingPods(first) == 1)
        #expect(first.status.autoscaling?.desiredReplicas == 1)
        #expect(first.requeueAfter.map { $0 <= .seconds(15.1) } == true)  // the next reading

        // 25 in flight on the one replica: ceil(2.5) = 3, at once; an Event, and status says why.
        var now = Self.start.addingTimeInterval(15)
        let up = plan(try service(spec, status: first.status), pods: readyPods(first, now: now), reading: .pods([25], missing: 0), at: now)
        #expect(up.status.replicas == 3 && servingPods(up) == 3)
        let scaled = try #require(up.status.autoscaling)
        #expect(scaled.desiredReplicas == 3 && scaled.reason == "ScaledUp" && scaled.currentValue == 25 && scaled.recommendation == 3)
        #expect(scaled.lastScale == .init(from: 1, to: 3, at: Timestamp.format(now)))
        #expect(up.events.contains { $0.reason == "ScaledUp" && $0.note.contains("1 → 3") })
        // The replicas of a scale-up still starting do not make the service Degraded.
        #expect(up.status.conditions?[type: "Degraded"]?.status == .false)

        // Far more load: capped at maxReplicas.
        now = now.addingTimeInterval(15)
        let capped = plan(try service(spec, status: up.status), pods: readyPods(up, now: now), reading: .pods([100, 100, 100], missing: 0), at: now)
        #expect(capped.status.replicas == 4 && capped.status.autoscaling?.message.contains("capped at maxReplicas") == true)

        // The load goes: the scale-down window (60 s) holds the size while it still has a high recommendation.
        now = now.addingTimeInterval(15)
        let held = plan(try service(spec, status: capped.status), pods: readyPods(capped, now: now), reading: .pods([1, 1, 1, 1], missing: 0), at: now)
        #expect(held.status.replicas == 4 && held.status.autoscaling?.reason == "ScaleDownStabilized")
        #expect(held.events.contains { $0.reason == "ScaleDownStabilized" })
        now = now.addingTimeInterval(15)
        let stillHeld = plan(try service(spec, status: held.status), pods: readyPods(capped, now: now), reading: .pods([1, 1, 1, 1], missing: 0), at: now)
        #expect(stillHeld.status.replicas == 4 && !stillHeld.events.contains { $0.reason == "ScaleDownStabilized" })  // one Event per hold
        // 61 s after the last high recommendation: down to what the window now holds (1), bounded by minReplicas.
        now = now.addingTimeInterval(46)
        let down = plan(try service(spec, status: stillHeld.status), pods: readyPods(capped, now: now), reading: .pods([1, 1, 1, 1], missing: 0), at: now)
        #expect(down.status.replicas == 1 && servingPods(down) == 1 && down.status.autoscaling?.reason == "ScaledDown")
        #expect(down.events.contains { $0.reason == "ScaledDown" && $0.note.contains("4 → 1") })
    }

    @Test func aCandidateStartsAtTheAutoscaledSize() throws {
        let spec: JSONValue = ["maxReplicas": 5, "metric": "rps", "target": 10]
        let first = plan(try service(spec), pods: [], reading: nil, at: Self.start)
        let now = Self.start.addingTimeInterval(15)
        let up = plan(try service(spec, status: first.status), pods: readyPods(first, now: now), reading: .pods([38], missing: 0), at: now)
        #expect(up.status.replicas == 4)
        let blue = readyPods(up, now: now)
        let rolling = plan(try service(spec, image: "m:2", status: up.status), pods: blue, reading: nil, at: now.addingTimeInterval(1))
        #expect(rolling.status.candidate?.desired == 4)
        #expect(rolling.children.desired.filter { $0.type == .pods && $0.object.labels[GantryLabels.color] == "green" }.count == 4)
        #expect(rolling.children.desired.filter { $0.type == .pods && $0.object.labels[GantryLabels.color] == "blue" }.count == 4)
        // The autoscaler is not part of the revision: changing it starts no rollout.
        var other = spec
        other["target"] = 20
        #expect(InferenceChildren.revisionHash(try service(other).spec) == InferenceChildren.revisionHash(try service(spec).spec))
    }

    @Test func minReplicasZeroScalesToZeroAndBackFromTheServiceValue() throws {
        let spec: JSONValue = ["minReplicas": 0, "maxReplicas": 3, "metric": "queueAge", "target": 30, "scaleDownStabilizationSeconds": 20,
                               "metricsFrom": ["service": "queue-exporter"]]
        let first = plan(try service(spec), pods: [], reading: .service(0), at: Self.start)
        #expect(first.status.replicas == 0 && servingPods(first) == 0)
        #expect(first.status.conditions?[type: "Ready"]?.reason == "ScaledToZero")
        var now = Self.start.addingTimeInterval(15)
        let woken = plan(try service(spec, status: first.status), pods: [], reading: .service(45), at: now)
        #expect(woken.status.replicas == 1 && servingPods(woken) == 1)
        now = now.addingTimeInterval(15)
        let more = plan(try service(spec, status: woken.status), pods: readyPods(woken, now: now), reading: .service(45), at: now)
        #expect(more.status.replicas == 2)
        now = now.addingTimeInterval(15)
        let empty = plan(try service(spec, status: more.status), pods: readyPods(more, now: now), reading: .service(0), at: now)
        #expect(empty.status.replicas == 2 && empty.status.autoscaling?.reason == "ScaleDownStabilized")
        now = now.addingTimeInterval(11)
        let zero = plan(try service(spec, status: empty.status), pods: readyPods(more, now: now), reading: .service(0), at: now)
        #expect(zero.status.replicas == 0 && servingPods(zero) == 0 && zero.status.autoscaling?.lastScale?.to == 0)
    }

    @Test func theBoundsApplyAtOnceAndAnUnreadableMetricKeepsTheSize() throws {
        var spec: JSONValue = ["minReplicas": 1, "maxReplicas": 6, "metric": "concurrency", "target": 10]
        let first = plan(try service(spec), pods: [], reading: nil, at: Self.start)
        let now = Self.start.addingTimeInterval(15)
        let up = plan(try service(spec, status: first.status), pods: readyPods(first, now: now), reading: .pods([55], missing: 0), at: now)
        #expect(up.status.replicas == 6)
        spec["maxReplicas"] = 2
        let lowered = plan(try service(spec, status: up.status), pods: readyPods(up, now: now), reading: nil, at: now.addingTimeInterval(1))
        #expect(lowered.status.replicas == 2 && lowered.events.contains { $0.reason == "ScaledDown" && $0.note.contains("6 → 2") })
        let unreadable = planner.plan(KindObservation(object: try service(spec, status: lowered.status), children: [.pods: readyPods(lowered, now: now)],
                                                      inputs: .init(platform: PlatformConfigSpec(), autoscaling: .failure(.init(message: "pod api-x /metrics answered 503"))),
                                                      now: now.addingTimeInterval(20)))
        #expect(unreadable.status.replicas == 2 && unreadable.status.autoscaling?.reason == "MetricsUnreadable")
        #expect(unreadable.events.contains { $0.reason == "AutoscalingMetricsUnreadable" && $0.type == .warning })
    }

    @Test func countersBecomeRatesAndAResetGivesNoRate() async {
        let rates = CounterRates()
        #expect(await rates.rate("p", value: 100, at: Self.start) == nil)
        #expect(await rates.rate("p", value: 130, at: Self.start.addingTimeInterval(2)) == 15)
        #expect(await rates.rate("p", value: 5, at: Self.start.addingTimeInterval(3)) == nil)  // restarted
        #expect(await rates.rate("p", value: 25, at: Self.start.addingTimeInterval(5)) == 10)
        #expect(AutoscalingMetrics.cores("500m") == 0.5 && AutoscalingMetrics.cores("2") == 2)
    }
}
