import Foundation
import KubeCore

/// The ReplicaSet controller, pure (pkg/controller/replicaset): keeps `spec.replicas` active pods controlled by
/// the ReplicaSet, and its status counts.
///
/// Active pods are those not terminating and not Succeeded/Failed (`controller.FilterActivePods`): a failed pod
/// is replaced and left for PodGC. Excess pods are deleted in the order of `controller.ActivePods`: unscheduled
/// before scheduled, Pending before Running, not ready before ready, newest first. New pods come from the
/// template with `generateName: <replicaset>-` (the server adds five random characters, as upstream).
/// Simplified: orphan pods matching the selector are not adopted; no burst limit on creations.
enum ReplicaSetSimulator {
    struct Plan: Sendable, Hashable {
        var create: [JSONValue] = []
        var delete: [ObjectKey] = []
        var status: JSONValue = [:]
    }

    static func plan(replicaSet rs: JSONValue, pods allPods: [JSONValue], now: Date) -> Plan {
        let uid = rs.uid ?? ""
        let owned = allPods.filter { $0.controllerReference?.uid == uid && $0.namespace == rs.namespace }
        let active = owned.filter { $0.deletionTimestamp == nil && !NodeUsage.isTerminal($0) }
        let desired = Int(rs[path: "spec", "replicas"]?.intValue ?? 1)
        var plan = Plan()
        if active.count < desired {
            plan.create = (active.count..<desired).map { _ in newPod(rs) }
        } else if active.count > desired {
            plan.delete = active.sorted(by: deletesFirst).prefix(active.count - desired).map(\.objectKey)
        }
        let templateLabels = (rs[path: "spec", "template", "metadata", "labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        let minReady = TimeInterval(rs[path: "spec", "minReadySeconds"]?.intValue ?? 0)
        let ready = active.filter(DaemonSetSimulator.isPodReady)
        plan.status = [
            "replicas": .int(Int64(active.count)),
            "fullyLabeledReplicas": .int(Int64(active.filter { pod in templateLabels.allSatisfy { pod.labels[$0.key] == $0.value } }.count)),
            "readyReplicas": .int(Int64(ready.count)),
            "availableReplicas": .int(Int64(ready.filter { isAvailable($0, minReadySeconds: minReady, now: now) }.count)),
            "observedGeneration": .int(rs.generation ?? 1),
        ]
        return plan
    }

    /// Ready for at least `minReadySeconds` (`podutil.IsPodAvailable`).
    static func isAvailable(_ pod: JSONValue, minReadySeconds: TimeInterval, now: Date) -> Bool {
        guard minReadySeconds > 0 else { return true }
        let since = (pod[path: "status", "conditions"]?.arrayValue ?? []).first { $0["type"] == "Ready" }?["lastTransitionTime"]?.stringValue
        guard let since, let t = Timestamp.parse(since) else { return false }
        return t.addingTimeInterval(minReadySeconds) <= now
    }

    /// The ranking of `controller.ActivePods`, reduced to what the simulation distinguishes.
    static func deletesFirst(_ a: JSONValue, _ b: JSONValue) -> Bool {
        func rank(_ p: JSONValue) -> (Int, Int, Int) {
            let bound = (p[path: "spec", "nodeName"]?.stringValue ?? "").isEmpty ? 0 : 1
            let phase = ["Pending": 0, "Unknown": 1, "Running": 2][p[path: "status", "phase"]?.stringValue ?? "Pending"] ?? 0
            return (bound, phase, DaemonSetSimulator.isPodReady(p) ? 1 : 0)
        }
        let ra = rank(a), rb = rank(b)
        if ra != rb { return ra < rb }
        return (a.creationTimestamp ?? "", a.name ?? "") > (b.creationTimestamp ?? "", b.name ?? "")
    }

    static func newPod(_ rs: JSONValue) -> JSONValue {
        let template = rs[path: "spec", "template"] ?? [:]
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"] ?? [:], "spec": template["spec"] ?? [:]]
        pod[path: "metadata", "name"] = nil
        pod[path: "metadata", "generateName"] = .string((rs.name ?? "replicaset") + "-")
        pod.namespace = rs.namespace
        pod.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: rs.name ?? "", uid: rs.uid ?? "")]
        return pod
    }
}
