import Foundation
import GantryAPI
import KubeCore

/// Which GPU pods are idle: every GPU of the pod below the threshold at every check for the window. The state
/// is the PlatformConfig's `status.idleGPUs` (since when each pod has been below), so a restart does not start
/// the windows again. Pure.
public enum IdleGPUTracking {
    public struct Result: Sendable, Hashable {
        public var idleGPUs: [IdleGPUPod]
        /// Pods whose window passed at this check: an Event on the owner and a notification, once.
        public var newlyIdle: [IdleGPUPod]
        public var utilization: [UtilizationLevel]
    }

    /// `readings`: the per-GPU utilisation (percent) read from each pod at this check; a pod that could not be
    /// read keeps its previous entry (neither idle nor busy is known).
    public static func check(previous: [IdleGPUPod], pods: [GPUPod], readings: [String: [Double]], settings: IdleGPUSettings,
                             now: Date) -> Result {
        let before = Dictionary((previous).map { ("\($0.namespace)/\($0.pod)", $0) }, uniquingKeysWith: { a, _ in a })
        var idle: [IdleGPUPod] = []
        var newly: [IdleGPUPod] = []
        var byNode: [String: [Double]] = [:], byNamespace: [String: [Double]] = [:]
        for pod in pods {
            let key = "\(pod.namespace)/\(pod.name)"
            guard let values = readings[key], let highest = values.max() else {
                if let kept = before[key] { idle.append(kept) }
                continue
            }
            byNode[pod.node, default: []] += values
            byNamespace[pod.namespace, default: []] += values
            guard highest < settings.effectiveThreshold else { continue }
            var entry = before[key] ?? IdleGPUPod(namespace: pod.namespace, pod: pod.name, gpus: pod.gpus, idleSince: Timestamp.format(now), idle: false)
            entry.node = pod.node
            entry.ownerKind = pod.owner?.kind
            entry.ownerName = pod.owner?.name
            entry.gpus = pod.gpus
            entry.utilizationPercent = highest
            let since = Timestamp.parse(entry.idleSince) ?? now
            if !entry.idle, now.timeIntervalSince(since) >= Double(settings.effectiveWindowSeconds) {
                entry.idle = true
                newly.append(entry)
            }
            idle.append(entry)
        }
        func levels(_ scope: UtilizationLevel.Scope, _ values: [String: [Double]]) -> [UtilizationLevel] {
            values.keys.sorted().compactMap { name in
                guard let list = values[name], !list.isEmpty else { return nil }
                return UtilizationLevel(scope: scope, name: name, gpus: list.count, meanPercent: (list.reduce(0, +) / Double(list.count) * 10).rounded() / 10)
            }
        }
        let order: (IdleGPUPod, IdleGPUPod) -> Bool = { ($0.namespace, $0.pod) < ($1.namespace, $1.pod) }
        return Result(idleGPUs: idle.sorted(by: order), newlyIdle: newly.sorted(by: order),
                      utilization: levels(.node, byNode) + levels(.namespace, byNamespace))
    }

    /// The note of the Event on the owner (and of the notification).
    public static func note(_ pod: IdleGPUPod, settings: IdleGPUSettings) -> String {
        let utilization = pod.utilizationPercent.map { String(format: "%.1f", $0) } ?? "?"
        return "pod \(pod.pod) on \(pod.node ?? "?") holds \(pod.gpus) GPU(s) at \(utilization)% utilisation, below \(String(format: "%g", settings.effectiveThreshold))% since \(pod.idleSince) (window \(settings.effectiveWindowSeconds)s): free the GPUs if the work is done"
    }

    public static let reason = "IdleGPU"
}
