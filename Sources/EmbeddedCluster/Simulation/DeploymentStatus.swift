import Foundation
import KubeCore

/// A Deployment's status (pkg/controller/deployment/sync.go `calculateStatus`, progress.go): counts summed over
/// its ReplicaSets, and the conditions `kubectl rollout status` and kstatus read (Progressing turns False with
/// `ProgressDeadlineExceeded` after `progressDeadlineSeconds` without progress).
extension DeploymentSimulator {
    static func deploymentStatus(_ d: JSONValue, replicaSets: [JSONValue], new: JSONValue?, created: Bool, replicas: Int,
                                 maxUnavailable: Int, now: Date) -> JSONValue {
        func sum(_ key: String) -> Int { replicaSets.map { Int($0[path: "status", key]?.intValue ?? 0) }.reduce(0, +) }
        let available = sum("availableReplicas")
        let updated = created ? 0 : Int(new?[path: "status", "replicas"]?.intValue ?? 0)
        let total = sum("replicas")
        let stamp = Timestamp.format(now)
        var conditions = d[path: "status", "conditions"]?.arrayValue ?? []

        let availableOK = available >= replicas - maxUnavailable
        set(&conditions, type: "Available", status: availableOK,
            reason: availableOK ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
            message: availableOK ? "Deployment has minimum availability." : "Deployment does not have minimum availability.", now: stamp)

        let newName = new?.name ?? ""
        let newRS = replicaSets.first { $0.name == newName }
        let complete = newRS != nil && updated == replicas && total == replicas && available == replicas
            && newRS?[path: "status", "observedGeneration"]?.intValue ?? 0 >= newRS?.generation ?? 1
        // `DeploymentProgressing`: more updated, ready or available replicas, or fewer old ones, than last time.
        func was(_ key: String) -> Int { Int(d[path: "status", key]?.intValue ?? 0) }
        let progressed = updated > was("updatedReplicas") || total < was("replicas") || sum("readyReplicas") > was("readyReplicas")
            || available > was("availableReplicas")
        let progressing = conditions.first { $0["type"] == "Progressing" }
        let deadline = d[path: "spec", "progressDeadlineSeconds"]?.intValue
        let since = progressing?["lastUpdateTime"]?.stringValue.flatMap(Timestamp.parse)
        if created {
            set(&conditions, type: "Progressing", status: true, reason: "NewReplicaSetCreated",
                message: "Created new replica set \"\(newName)\"", now: stamp)
        } else if complete {
            set(&conditions, type: "Progressing", status: true, reason: "NewReplicaSetAvailable",
                message: "ReplicaSet \"\(newName)\" has successfully progressed.", now: stamp)
        } else if !newName.isEmpty && (progressed || progressing == nil) {
            set(&conditions, type: "Progressing", status: true, reason: "ReplicaSetUpdated",
                message: "ReplicaSet \"\(newName)\" is progressing.", now: stamp, touch: true)
        } else if !newName.isEmpty, d[path: "spec", "paused"]?.boolValue != true, let deadline, let since,
                  progressing?["reason"]?.stringValue != "ProgressDeadlineExceeded",
                  since.addingTimeInterval(TimeInterval(deadline)) < now {
            // `DeploymentTimedOut`: no progress for progressDeadlineSeconds; `kubectl rollout status` then fails.
            set(&conditions, type: "Progressing", status: false, reason: "ProgressDeadlineExceeded",
                message: "ReplicaSet \"\(newName)\" has timed out progressing.", now: stamp)
        }
        var status: JSONValue = [
            "observedGeneration": .int(d.generation ?? 1),
            "replicas": .int(Int64(total)),
            "updatedReplicas": .int(Int64(updated)),
            "readyReplicas": .int(Int64(sum("readyReplicas"))),
            "availableReplicas": .int(Int64(available)),
            "conditions": .array(conditions),
        ]
        let unavailable = max(0, replicas - available)
        if unavailable > 0 { status["unavailableReplicas"] = .int(Int64(unavailable)) }
        // Zero counts are omitted on the wire (`omitempty`), as a real Deployment's status shows them.
        for key in ["replicas", "updatedReplicas", "readyReplicas", "availableReplicas"] where status[key] == 0 { status[key] = nil }
        return status
    }

    /// A DeploymentCondition: `lastUpdateTime` moves when reason or message change, `lastTransitionTime` only when
    /// the status flips (`deploymentutil.SetDeploymentCondition`).
    /// `touch`: progress was made, so `lastUpdateTime` moves even when nothing else changes (the deadline restarts).
    static func set(_ conditions: inout [JSONValue], type: String, status: Bool, reason: String, message: String, now: String,
                    touch: Bool = false) {
        let statusText: JSONValue = status ? "True" : "False"
        let index = conditions.firstIndex { $0["type"]?.stringValue == type }
        var c: JSONValue = index.map { conditions[$0] } ?? ["type": .string(type), "lastTransitionTime": .string(now)]
        if let index, conditions[index]["status"] != statusText { c["lastTransitionTime"] = .string(now) }
        if touch || c["status"] != statusText || c["reason"]?.stringValue != reason || c["message"]?.stringValue != message {
            c["lastUpdateTime"] = .string(now)
        }
        c["status"] = statusText
        c["reason"] = .string(reason)
        c["message"] = .string(message)
        if let index { conditions[index] = c } else { conditions.append(c) }
    }
}
