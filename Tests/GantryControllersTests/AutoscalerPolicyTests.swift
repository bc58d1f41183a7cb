import Foundation
import Testing
import GantryAPI
import KubeCore
import KubeRuntime
@testable import GantryControllers

/// HPA's scaling policies (behavior.scaleUp/scaleDown, pkg/controller/podautoscaler/horizontal.go:
/// calculateScaleUpLimitWithScalingRules, calculateScaleDownLimitWithBehaviors) as pure rules, and the planner
/// applying them after stabilization.
@Suite struct AutoscalerPolicyTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    typealias Rules = Autoscaling.ScalingRules
    typealias Policy = Autoscaling.ScalingPolicy

    static func scale(_ from: Int, _ to: Int, secondsAgo: Double) -> AutoscalingStatus.Scale {
        .init(from: from, to: to, at: Timestamp.formatMicro(start.addingTimeInterval(-secondsAgo)))
    }

    static let upRules = [Policy(type: .percent, value: 100, periodSeconds: 60), Policy(type: .pods, value: 4, periodSeconds: 60)]

    @Test func aScaleUpGoesAsFarAsTheSelectedPolicyAllowsFromTheSizeAtThePeriodsStart() {
        // From 2: doubling allows 4, four pods allow 6; Max takes the bigger change, Min the smaller.
        #expect(Autoscaler.scaleUpLimit(current: 2, scales: [], now: Self.start, rules: Rules(policies: Self.upRules)) == 6)
        #expect(Autoscaler.scaleUpLimit(current: 2, scales: [], now: Self.start, rules: Rules(policies: Self.upRules, selectPolicy: .min)) == 4)
        // 2 → 6 thirty seconds ago: the period starts at 2 again, so nothing more until it moves on.
        let recent = [Self.scale(2, 6, secondsAgo: 30)]
        #expect(Autoscaler.scaleUpLimit(current: 6, scales: recent, now: Self.start, rules: Rules(policies: Self.upRules)) == 6)
        #expect(Autoscaler.scaleUpLimit(current: 6, scales: recent, now: Self.start.addingTimeInterval(31), rules: Rules(policies: Self.upRules)) == 12)
        // A scale-down inside the period gives its replicas back to the start: 4 → 2 then up again from 4.
        let down = [Self.scale(4, 2, secondsAgo: 10)]
        #expect(Autoscaler.scaleUpLimit(current: 2, scales: down, now: Self.start, rules: Rules(policies: [Policy(type: .pods, value: 1, periodSeconds: 60)])) == 5)
        // A percentage is rounded up, or one replica could never grow by 10 %.
        #expect(Autoscaler.scaleUpLimit(current: 1, scales: [], now: Self.start, rules: Rules(policies: [Policy(type: .percent, value: 10, periodSeconds: 15)])) == 2)
        // Disabled: never up. No rules, or rules without policies: no limit.
        #expect(Autoscaler.scaleUpLimit(current: 3, scales: [], now: Self.start, rules: Rules(selectPolicy: .disabled)) == 3)
        #expect(Autoscaler.scaleUpLimit(current: 3, scales: [], now: Self.start, rules: nil) == nil)
        #expect(Autoscaler.scaleUpLimit(current: 3, scales: [], now: Self.start, rules: Rules()) == nil)
    }

    @Test func aScaleDownGoesAsFarAsTheSelectedPolicyAllows() {
        let rules = [Policy(type: .percent, value: 50, periodSeconds: 60), Policy(type: .pods, value: 2, periodSeconds: 60)]
        // From 10: half allows 5, two pods allow 8; Max is the biggest change (5), Min the smallest (8).
        #expect(Autoscaler.scaleDownLimit(current: 10, scales: [], now: Self.start, rules: Rules(policies: rules)) == 5)
        #expect(Autoscaler.scaleDownLimit(current: 10, scales: [], now: Self.start, rules: Rules(policies: rules, selectPolicy: .min)) == 8)
        // 10 → 8 inside the period: two pods are spent.
        let recent = [Self.scale(10, 8, secondsAgo: 20)]
        #expect(Autoscaler.scaleDownLimit(current: 8, scales: recent, now: Self.start, rules: Rules(policies: [rules[1]])) == 8)
        // A percentage down is truncated: half of 3 leaves 1.
        #expect(Autoscaler.scaleDownLimit(current: 3, scales: [], now: Self.start, rules: Rules(policies: [rules[0]])) == 1)
        #expect(Autoscaler.scaleDownLimit(current: 3, scales: [], now: Self.start, rules: Rules(selectPolicy: .disabled)) == 3)
    }

    @Test func onlyChangesInsideTheLongestPeriodAreKept() throws {
        var autoscaling = Autoscaling(maxReplicas: 5, metric: .concurrency, target: 10)
        #expect(Autoscaler.recentScales([], adding: Self.scale(1, 2, secondsAgo: 0), now: Self.start, autoscaling).isEmpty, "no policy: nothing to remember")
        autoscaling.scaleUp = Rules(policies: [Policy(type: .pods, value: 1, periodSeconds: 30)])
        autoscaling.scaleDown = Rules(policies: [Policy(type: .pods, value: 1, periodSeconds: 90)])
        let kept = Autoscaler.recentScales([Self.scale(3, 2, secondsAgo: 100), Self.scale(2, 1, secondsAgo: 60)], adding: Self.scale(1, 2, secondsAgo: 0),
                                           now: Self.start, autoscaling)
        #expect(kept.map(\.to) == [1, 2])
    }

    /// The planner: 40 in flight against 10 per replica asks for 4, but one pod per minute may be added.
    @Test func thePlannerScalesUpOnlyAsFastAsTheScaleUpPolicy() throws {
        let planning = InferenceServicePlannerTests()
        let autoscaling: JSONValue = ["maxReplicas": 5, "metric": "concurrency", "target": 10, "query": "sum(q)",
                                      "scaleUp": ["policies": [["type": "Pods", "value": 1, "periodSeconds": 60]]]]
        func service(_ status: InferenceServiceStatus?) throws -> InferenceService {
            try planning.service(image: "m:1", status: status, spec: ["autoscaling": autoscaling])
        }
        func read(_ status: InferenceServiceStatus?, at seconds: Double) throws -> KindPlan<InferenceServiceStatus> {
            planning.plan(try service(status), pods: [], inputs: .init(platform: PlatformConfigSpec(), autoscaling: .success(.service(40))),
                          at: Self.start.addingTimeInterval(seconds))
        }
        let first = planning.plan(try service(nil), pods: [], at: Self.start)
        #expect(first.status.autoscaling?.desiredReplicas == 1)
        let up = try read(first.status, at: 1)
        #expect(up.status.autoscaling?.desiredReplicas == 2 && up.status.autoscaling?.reason == "ScaledUp")
        #expect(up.status.autoscaling?.message == "concurrency 40 per replica against target 10 asks for 4: 1 → 2 replicas (limited by spec.autoscaling.scaleUp.policies)")
        #expect(up.status.autoscaling?.recentScales?.map(\.to) == [2])
        // Still inside the minute: kept at 2 (an Event when the hold starts).
        let held = try read(up.status, at: 20)
        #expect(held.status.autoscaling?.desiredReplicas == 2 && held.status.autoscaling?.reason == "ScaleUpLimit")
        #expect(held.events.contains { $0.reason == "ScaleUpLimit" })
        // The minute passed: one more.
        let later = try read(held.status, at: 62)
        #expect(later.status.autoscaling?.desiredReplicas == 3 && later.status.autoscaling?.lastScale?.from == 2)
    }
}
