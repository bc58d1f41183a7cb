import Foundation
import KubeCore

/// The disruption controller, pure (pkg/controller/disruption): a PodDisruptionBudget's status from the pods its
/// selector matches. Expected pods are the matching unfinished pods (upstream reads the scale of their controller
/// for percentages and maxUnavailable; here every matching pod counts); healthy ones are Ready and not being
/// deleted nor recently evicted (`disruptedPods`).
enum DisruptionBudgetSimulator {
    static func status(budget: JSONValue, pods: [JSONValue], now: String) -> JSONValue {
        let matching = selected(by: budget, pods: pods).filter { !isFinished($0) }
        let disrupted = (budget[path: "status", "disruptedPods"]?.objectValue ?? [:]).filter { name, _ in
            matching.contains { $0.name == name && $0.deletionTimestamp == nil }
        }
        let healthy = matching.filter { $0.deletionTimestamp == nil && disrupted[$0.name ?? ""] == nil && DaemonSetSimulator.isPodReady($0) }.count
        let expected = matching.count
        let desired = desiredHealthy(budget["spec"] ?? .emptyObject, expected: expected)
        let allowed = max(0, healthy - desired)
        var status: JSONValue = [
            "observedGeneration": .int(budget.generation ?? 1),
            "expectedPods": .int(Int64(expected)), "currentHealthy": .int(Int64(healthy)),
            "desiredHealthy": .int(Int64(desired)), "disruptionsAllowed": .int(Int64(allowed)),
        ]
        if !disrupted.isEmpty { status["disruptedPods"] = .object(disrupted) }
        let previous = budget[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "DisruptionAllowed" }
        let (value, reason) = allowed > 0 ? ("True", "SufficientPods") : ("False", "InsufficientPods")
        let since = previous?["status"]?.stringValue == value ? previous?["lastTransitionTime"] ?? .string(now) : .string(now)
        status["conditions"] = [["type": "DisruptionAllowed", "status": .string(value), "reason": .string(reason), "message": "",
                                 "observedGeneration": .int(budget.generation ?? 1), "lastTransitionTime": since]]
        return status
    }

    /// policy/v1: a null selector matches no pod, an empty one every pod of the namespace.
    static func selected(by budget: JSONValue, pods: [JSONValue]) -> [JSONValue] {
        guard let selector = budget[path: "spec", "selector"], selector != .null else { return [] }
        let query = LabelQuery(selector: selector)
        return pods.filter { $0.namespace == budget.namespace && (query?.matches($0.labels) ?? false) }
    }

    static func isFinished(_ pod: JSONValue) -> Bool {
        ["Succeeded", "Failed"].contains(pod[path: "status", "phase"]?.stringValue ?? "")
    }

    /// minAvailable (count, or a percentage rounded up), else expected less maxUnavailable (a percentage rounded
    /// up), as `GetScaledValueFromIntOrPercent(…, true)`; neither: every expected pod.
    static func desiredHealthy(_ spec: JSONValue, expected: Int) -> Int {
        func scaled(_ value: JSONValue) -> Int {
            if let n = value.intValue { return Int(n) }
            if let text = value.stringValue, text.hasSuffix("%"), let pct = Double(text.dropLast()) {
                return Int((pct * Double(expected) / 100).rounded(.up))
            }
            return Int(value.stringValue ?? "") ?? 0
        }
        if let min = spec["minAvailable"] { return scaled(min) }
        if let max = spec["maxUnavailable"] { return Swift.max(0, expected - scaled(max)) }
        return expected
    }
}
