import Foundation
import KubeCore

/// pods/eviction (pkg/registry/core/pod/storage/eviction.go): a delete that honours the PodDisruptionBudget
/// covering the pod. The budget's status is what the disruption controller last wrote; an allowed eviction
/// spends one of its disruptions at once (recorded in `disruptedPods`), so two evictions racing for the last one
/// cannot both pass. The check and the delete happen in one step of the store.
extension ObjectStore {
    func evict(_ info: ResourceInfo, namespace: String, name: String, dryRun: Bool) throws(APIStatusError) {
        guard let pod = get(info.resourceKey, namespace: namespace, name: name) else {
            throw .notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        let phase = pod[path: "status", "phase"]?.stringValue ?? ""
        // A pod that is not running, or already going, disrupts nothing.
        let ignoresBudgets = ["Succeeded", "Failed", "Pending"].contains(phase) || pod.deletionTimestamp != nil
        if !ignoresBudgets, let pdbInfo = anyInfo(forStorageKey: "poddisruptionbudgets.policy") {
            let budgets = select(pdbInfo.resourceKey, namespace: namespace, labels: LabelQuery(), fields: FieldQuery())
                .filter { !DisruptionBudgetSimulator.selected(by: $0, pods: [pod]).isEmpty }
            if budgets.count > 1 {
                throw APIStatusError(code: 500, reason: "InternalError",
                                     message: "Internal error occurred: This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.")
            }
            if var budget = budgets.first {
                try Self.checkBudget(budget, pod: pod)
                if !dryRun, DaemonSetSimulator.isPodReady(pod) {
                    budget[path: "status", "disruptionsAllowed"] = .int((budget[path: "status", "disruptionsAllowed"]?.intValue ?? 1) - 1)
                    budget[path: "status", "disruptedPods", name] = .string(Timestamp.format(Date()))
                    _ = try update(pdbInfo, budget, scope: .status, dryRun: false)
                }
            }
        }
        _ = try delete(info, namespace: namespace, name: name, options: DeleteOptions(dryRun: dryRun))
    }

    /// 429 with the budget named, worded as upstream, when the eviction would leave too few healthy pods.
    static func checkBudget(_ budget: JSONValue, pod: JSONValue) throws(APIStatusError) {
        let refused = "Cannot evict pod as it would violate the pod's disruption budget."
        let pdb = budget.name ?? ""
        let status = budget["status"] ?? .emptyObject
        guard (status["observedGeneration"]?.intValue ?? 0) >= (budget.generation ?? 1) else {
            throw APIStatusError(code: 429, reason: "TooManyRequests", message: refused,
                                 causes: [.init(field: "", reason: "DisruptionBudget", message: "The disruption budget \(pdb) is still being processed by the server.")])
        }
        let healthy = status["currentHealthy"]?.intValue ?? 0, desired = status["desiredHealthy"]?.intValue ?? 0
        if !DaemonSetSimulator.isPodReady(pod) {
            // IfHealthyBudget (the default): an unready pod may go while the budget is met.
            let policy = budget[path: "spec", "unhealthyPodEvictionPolicy"]?.stringValue ?? "IfHealthyBudget"
            if policy == "AlwaysAllow" || healthy >= desired { return }
        } else if (status["disruptionsAllowed"]?.intValue ?? 0) > 0 {
            return
        }
        throw APIStatusError(code: 429, reason: "TooManyRequests", message: refused,
                             causes: [.init(field: "", reason: "DisruptionBudget", message: "The disruption budget \(pdb) needs \(desired) healthy pods and has \(healthy) currently")])
    }
}
