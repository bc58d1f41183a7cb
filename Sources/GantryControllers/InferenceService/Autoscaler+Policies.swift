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
        guard let rules else { return nil }
        if rules.effectiveSelectPolicy == .disabled { return current }
        guard let policies = rules.policies, !policies.isEmpty else { return nil }
        let proposals = policies.map { policy -> Int in
            let start = periodStart(current: current, scales: scales, now: now, periodSeconds: policy.periodSeconds)
            switch policy.type {
            case .pods: return start + policy.value
            // Rounded up, or a small size could never grow by a percentage.
            case .percent: return Int((Double(start) * (1 + Double(policy.value) / 100)).rounded(.up))
            }
        }
        let limit = rules.effectiveSelectPolicy == .min ? proposals.min() ?? current : proposals.max() ?? current
        return max(limit, current)  // past the limit already: no further growth until the period moves on
    }

    /// The lowest size a scale-down may reach now (never above `current`), or nil when the rules set no limit.
    public static func scaleDownLimit(current: Int, scales: [AutoscalingStatus.Scale], now: Date, rules: Autoscaling.ScalingRules?) -> Int? {
        guard let rules else { return nil }
        if rules.effectiveSelectPolicy == .disabled { return current }
        guard let policies = rules.policies, !policies.isEmpty else { return nil }
        let proposals = policies.map { policy -> Int in
            let start = periodStart(current: current, scales: scales, now: now, periodSeconds: policy.periodSeconds)
            switch policy.type {
            case .pods: return start - policy.value
            // Truncated toward zero as upstream's int32 conversion does.
            case .percent: return Int(Double(start) * (1 - Double(policy.value) / 100))
            }
        }
        let limit = rules.effectiveSelectPolicy == .min ? proposals.max() ?? current : proposals.min() ?? current
        return min(limit, current)
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
