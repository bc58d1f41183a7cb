import Foundation
import GantryAPI
import KubeCore

/// Kubernetes' HorizontalPodAutoscaler arithmetic as pure functions (pkg/controller/podautoscaler: the replica
/// calculator, then stabilization, then the bounds), applied to one InferenceService's serving size.
public enum Autoscaler {
    /// What a reading asks for before stabilization and bounds: the replicas, and the value compared with the
    /// target (per replica for AverageValue, the value for Value). Nil when the reading holds no value.
    public static func recommend(_ reading: AutoscalingReading, current: Int, target: Double, tolerance: Double,
                                 type: Autoscaling.TargetType) -> (replicas: Int, value: Double)? {
        switch reading {
        case .warmingUp:
            return nil
        case .service(let total):
            switch type {
            case .averageValue:
                // HPA's external metric with an AverageValue target: ceil(total / target) outside the tolerance.
                guard current > 0 else { return (ceiling(total / target), total) }
                let perReplica = total / Double(current)
                if abs(perReplica / target - 1) <= tolerance { return (current, perReplica) }
                return (ceiling(total / target), perReplica)
            case .value:
                // From zero the ratio has nothing to multiply: anything above zero (a message waits) asks for one
                // replica, as KEDA's activation does; then HPA's rule takes over.
                guard current > 0 else { return (total > 0 ? 1 : 0, total) }
                return (ratioReplicas(total / target, count: current, current: current, tolerance: tolerance), total)
            }
        case .pods(let values, let missing):
            guard !values.isEmpty else { return nil }
            if type == .value {
                let highest = values.max() ?? 0
                return (ratioReplicas(highest / target, count: current, current: current, tolerance: tolerance), highest)
            }
            let average = values.reduce(0, +) / Double(values.count)
            let ratio = average / target
            guard missing > 0 else {
                return (ratioReplicas(ratio, count: values.count, current: current, tolerance: tolerance), average)
            }
            // Pods without a value: assumed at the target when scaling down and idle when scaling up, so that
            // starting pods neither trigger a scale-down nor make a scale-up overshoot. A direction that the
            // assumption reverses, or a ratio it brings into the tolerance, changes nothing.
            if abs(ratio - 1) <= tolerance { return (current, average) }
            let filled = ratio < 1 ? Double(missing) * target : 0
            let newRatio = (values.reduce(0, +) + filled) / Double(values.count + missing) / target
            if abs(newRatio - 1) <= tolerance || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1) { return (current, average) }
            let replicas = ceiling(newRatio * Double(values.count + missing))
            if (newRatio < 1 && replicas > current) || (newRatio > 1 && replicas < current) { return (current, average) }
            return (replicas, average)
        }
    }

    /// ceil(ratio × count), or `current` when the ratio is within the tolerance of 1.
    static func ratioReplicas(_ ratio: Double, count: Int, current: Int, tolerance: Double) -> Int {
        abs(ratio - 1) <= tolerance ? current : ceiling(ratio * Double(count))
    }

    static func ceiling(_ x: Double) -> Int {
        guard x.isFinite else { return x > 0 ? Int(Int32.max) : 0 }
        return Int(min(max(x.rounded(.up), 0), Double(Int32.max)))
    }

    /// HPA's stabilization: the size moves only when the envelope of the windows forces it: up to the lowest
    /// recommendation of the scale-up window, down to the highest of the scale-down window (the new
    /// recommendation counts in both).
    public static func stabilize(_ recommendation: Int, current: Int, history: [AutoscalingStatus.Recommendation], now: Date,
                                 upWindow: Int, downWindow: Int) -> Int {
        var up = recommendation
        var down = recommendation
        for past in history {
            guard let at = Timestamp.parse(past.at) else { continue }
            if at > now.addingTimeInterval(-Double(upWindow)) { up = min(up, past.replicas) }
            if at > now.addingTimeInterval(-Double(downWindow)) { down = max(down, past.replicas) }
        }
        var size = current
        if size < up { size = up }
        if size > down { size = down }
        return size
    }

    /// The history with `latest` added: recommendations older than both windows go, and so does any that a later
    /// one makes irrelevant (a later one at least as high for the scale-down maximum and one at most as low for
    /// the scale-up minimum), so the list stays short (two monotone runs) whatever the windows and interval.
    public static func record(_ latest: AutoscalingStatus.Recommendation, into history: [AutoscalingStatus.Recommendation],
                              now: Date, upWindow: Int, downWindow: Int) -> [AutoscalingStatus.Recommendation] {
        var kept: [AutoscalingStatus.Recommendation] = []
        var later = [latest]
        for past in history.reversed() {
            guard let at = Timestamp.parse(past.at) else { continue }
            let decidesDown = at > now.addingTimeInterval(-Double(downWindow)) && !later.contains { $0.replicas >= past.replicas }
            let decidesUp = at > now.addingTimeInterval(-Double(upWindow)) && !later.contains { $0.replicas <= past.replicas }
            guard decidesDown || decidesUp else { continue }
            kept.append(past)
            later.append(past)
        }
        return kept.reversed() + [latest]
    }
}
