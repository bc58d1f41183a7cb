import Foundation
import KubeCore

/// Node failures as real clusters report them.
///
/// - Spot preemption / graceful node shutdown: the kubelet's shutdown manager (pkg/kubelet/nodeshutdown) fails
///   every pod with reason `Terminated`, message "Pod was terminated in response to imminent node shutdown."
///   and condition `DisruptionTarget` reason `TerminationByKubelet`; the cloud then removes the Node and PodGC
///   deletes the pods (GKE does so for spot nodes since 1.25.7).
/// - Node lost (no heartbeat): the node lifecycle controller sets Ready to Unknown (`NodeStatusUnknown`, "Kubelet
///   stopped posting node status.") and taints `node.kubernetes.io/unreachable` (NoSchedule, NoExecute); the taint
///   eviction controller deletes pods once their toleration (300 s, as the DefaultTolerationSeconds admission
///   plugin adds) runs out, with `DisruptionTarget` reason `DeletionByTaintManager`.
/// - Node object deleted: PodGC marks the pods Failed with `DisruptionTarget` reason `DeletionByPodGC`
///   ("PodGC: node no longer exists") and deletes them.
enum NodeDisruption {
    static let shutdownMessage = "Pod was terminated in response to imminent node shutdown."

    /// The status a pod gets from a graceful node shutdown (spot preemption): Failed, containers terminated.
    static func shutdownStatus(pod: JSONValue, now: Date) -> JSONValue {
        var status = failedStatus(pod: pod, now: now, exitCode: 143)
        status["reason"] = "Terminated"
        status["message"] = .string(shutdownMessage)
        return withDisruption(status, reason: "TerminationByKubelet", message: shutdownMessage, now: now)
    }

    /// The status PodGC writes before deleting a pod whose node is gone.
    static func podGCStatus(pod: JSONValue, now: Date) -> JSONValue {
        withDisruption(failedStatus(pod: pod, now: now, exitCode: 137), reason: "DeletionByPodGC", message: "PodGC: node no longer exists", now: now)
    }

    /// The status the taint eviction controller writes before deleting a pod on an unreachable node.
    /// The phase is left alone: only the kubelet (which is gone) would change it.
    static func taintEvictionStatus(pod: JSONValue, now: Date) -> JSONValue {
        withDisruption(pod["status"] ?? [:], reason: "DeletionByTaintManager", message: "Taint manager: deleting due to NoExecute taint", now: now)
    }

    /// A node that stopped posting status: Ready (and the pressure conditions) Unknown, unreachable taints.
    static func lostNode(_ node: JSONValue, now: Date) -> JSONValue {
        var n = node
        let ts = JSONValue.string(Timestamp.format(now))
        n[path: "status", "conditions"] = .array((node[path: "status", "conditions"]?.arrayValue ?? []).map { c in
            var c = c
            c["status"] = "Unknown"
            c["reason"] = "NodeStatusUnknown"
            c["message"] = "Kubelet stopped posting node status."
            c["lastTransitionTime"] = ts
            return c
        })
        var taints = (node[path: "spec", "taints"]?.arrayValue ?? []).filter { $0["key"]?.stringValue != "node.kubernetes.io/unreachable" }
        taints.append(["key": "node.kubernetes.io/unreachable", "effect": "NoSchedule", "timeAdded": ts])
        taints.append(["key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": ts])
        n[path: "spec", "taints"] = .array(taints)
        return n
    }

    /// A lost node that heartbeats again: the kubelet's healthy conditions, unreachable taints removed.
    static func recoveredNode(_ node: JSONValue, now: Date) -> JSONValue {
        var n = node
        let ts = JSONValue.string(Timestamp.format(now))
        let healthy: [String: (String, String, String)] = [
            "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
            "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ]
        n[path: "status", "conditions"] = .array((node[path: "status", "conditions"]?.arrayValue ?? []).map { c in
            guard let type = c["type"]?.stringValue, let (status, reason, message) = healthy[type] else { return c }
            var c = c
            c["status"] = .string(status)
            c["reason"] = .string(reason)
            c["message"] = .string(message)
            c["lastTransitionTime"] = ts
            c["lastHeartbeatTime"] = ts
            return c
        })
        let taints = (node[path: "spec", "taints"]?.arrayValue ?? []).filter { $0["key"]?.stringValue != "node.kubernetes.io/unreachable" }
        n[path: "spec", "taints"] = taints.isEmpty ? nil : .array(taints)
        return n
    }

    /// Seconds a pod stays on an unreachable node before eviction: its toleration's `tolerationSeconds`,
    /// 300 when it has no such toleration (the admission default), nil when it tolerates forever.
    static func evictionDelay(pod: JSONValue) -> TimeInterval? {
        let taint = Taint(key: "node.kubernetes.io/unreachable", effect: "NoExecute")
        let tolerations = (pod[path: "spec", "tolerations"]?.arrayValue ?? []).filter { NodeMatching.tolerates($0, taint) }
        if tolerations.isEmpty { return 300 }
        let seconds = tolerations.compactMap { $0["tolerationSeconds"]?.intValue }
        if seconds.count < tolerations.count { return nil }
        return Double(max(0, seconds.min() ?? 0))
    }

    static func failedStatus(pod: JSONValue, now: Date, exitCode: Int64) -> JSONValue {
        var status = pod["status"] ?? [:]
        let ts = JSONValue.string(Timestamp.format(now))
        status["phase"] = "Failed"
        for key in ["containerStatuses", "initContainerStatuses"] {
            guard let list = status[key]?.arrayValue else { continue }
            status[key] = .array(list.map { s in
                var s = s
                if let running = s[path: "state", "running"] {
                    s["state"] = ["terminated": ["exitCode": .int(exitCode), "reason": "Error", "startedAt": running["startedAt"] ?? ts,
                                                 "finishedAt": ts, "containerID": s["containerID"] ?? ""]]
                } else if s[path: "state", "waiting"] != nil {
                    s["state"] = ["terminated": ["exitCode": 137, "reason": "ContainerStatusUnknown", "finishedAt": ts,
                                                 "message": "The container could not be located when the pod was terminated"]]
                }
                s["ready"] = false
                return s
            })
        }
        var conditions = (status["conditions"]?.arrayValue ?? []).compactMap(KubeletSimulator.condition)
        for type in ["Ready", "ContainersReady"] where conditions[type: type] != nil {
            conditions.set(Condition(type: type, status: .false, reason: "PodFailed", message: ""), now: Timestamp.format(now))
        }
        status["conditions"] = .array(conditions.map(KubeletSimulator.json))
        return status
    }

    static func withDisruption(_ status: JSONValue, reason: String, message: String, now: Date) -> JSONValue {
        var s = status
        var conditions = (s["conditions"]?.arrayValue ?? []).compactMap(KubeletSimulator.condition)
        conditions.set(Condition(type: "DisruptionTarget", status: .true, reason: reason, message: message), now: Timestamp.format(now))
        s["conditions"] = .array(conditions.map(KubeletSimulator.json))
        return s
    }
}
