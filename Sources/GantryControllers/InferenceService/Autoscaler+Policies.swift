import Foundation
import GantryAPI
import KubeCore

/// HPA's scaling policies (autoscaling/v2 `behavior.scaleUp/scaleDown.policies`, applied after stabilization as
/// pkg/controller/podautoscaler's convertDesiredReplicasWithBehaviorRate does): each policy allows a change
/// counted from the size at the start of its period (the current size less what was added within it, plus what
/// was removed); `Max` takes the policy allowing the biggest change, `Min` the smallest, `Disabled` none.
extension Autoscaler {
    /// The highest size a scale-up may reach now (never below `current`), or nil when the rules set no limit.
    public static func scaleUpLimit(current: Int, scales: [AutoscalingStatus.Scale], now: Date, rules: Autoscaling.ScalingRules?) -> Int? {
        limit(growing: true, current: current, scales: scales, now: now, rules: rules)
    }

    /// The lowest size a scale-down may reach now (never above `current`), or nil when the rules set no limit.
    public static func scaleDownLimit(current: Int, scales: [AutoscalingStatus.Scale], now: Date, rules: Autoscaling.ScalingRules?) -> Int? {
        limit(growing: false, current: current, scales: scales, now: now, rules: rules)
    }

    static func limit(growing: Bool, current: Int, scales: [AutoscalingStatus.Scale], now: Date, rules: Autoscaling.ScalingRules?) -> Int? {
        guard let rules else { return nil }
        if rules.effectiveSelectPolicy == .disabled { return current }
        guard let policies = rules.policies, !policies.isEmpty else { return nil }
        let proposals = policies.map { policy -> Int in
            let start = periodStart(current: current, scales: scales, now: now, periodSeconds: policy.periodSeconds)
            let fraction = Double(policy.value) / 100
            switch (policy.type, growing) {
            case (.pods, true): return start + policy.value
            case (.pods, false): return start - policy.value
            // Rounded up when growing, or a small size could never grow by a percentage; truncated when shrinking
            // (upstream's int32 conversion). Computed as upstream does, float quirks included.
            case (.percent, true): return Int((Double(start) * (1 + fraction)).rounded(.up))
            case (.percent, false): return Int(Double(start) * (1 - fraction))
            }
        }
        // Max: the biggest change (the highest size up, the lowest down); Min: the smallest.
        let limit = (growing == (rules.effectiveSelectPolicy == .max) ? proposals.max() : proposals.min()) ?? current
        // Past the limit already (changes earlier in the period): no further change until the period moves on.
        return growing ? max(limit, current) : min(limit, current)
    }

    /// The size at the start of a period: the current size less the replicas added within it, plus those removed.
    static func periodStart(current: Int, scales: [AutoscalingStatus.Scale], now: Date, periodSeconds: Int) -> Int {
        let cutoff = now.addingTimeInterval(-Double(periodSeconds))
        return scales.reduce(current) { size, scale in
            guard let at = Timestamp.parse(scale.at), at > cutoff else { return size }
            return size - (scale.to - scale.from)
        }
    }

    /// The recent changes with `latest` added, those older than the longest policy period of either direction dropped.
    public static func recentScales(_ scales: [AutoscalingStatus.Scale], adding latest: AutoscalingStatus.Scale?, now: Date,
                                    _ autoscaling: Autoscaling) -> [AutoscalingStatus.Scale] {
        let keep = max(autoscaling.scaleUp?.longestPeriodSeconds ?? 0, autoscaling.scaleDown?.longestPeriodSeconds ?? 0)
        guard keep > 0 else { return [] }
        let cutoff = now.addingTimeInterval(-Double(keep))
        return (scales + [latest].compactMap { $0 }).filter { Timestamp.parse($0.at).map { $0 > cutoff } ?? false }
    }
}
