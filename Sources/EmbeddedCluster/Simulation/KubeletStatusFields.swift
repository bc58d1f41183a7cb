import Foundation
import KubeCore

/// The status fields the kubelet writes, as `kubectl get -o yaml` shows them on a real node: container statuses
/// (state, lastState, IDs), QoS class, and pod conditions in the kubelet's shape.
extension KubeletSimulator {
    static func containerStatus(pod: JSONValue, container c: JSONValue, timeline t: ContainerTimeline, ready: Bool) -> JSONValue {
        let name = c["name"]?.stringValue ?? ""
        let image = c["image"]?.stringValue ?? ""
        var s: JSONValue = [
            "name": .string(name), "image": .string(image), "ready": .bool(ready),
            "restartCount": .int(Int64(t.restartCount)), "started": false, "lastState": [:], "imageID": "",
        ]
        if t.hasStarted {
            s["imageID"] = .string(ImageRules.imageID(image))
            s["containerID"] = .string(containerID(pod: pod, container: name, run: t.run))
        }
        func exitJSON(_ e: ContainerTimeline.Exit, run: Int) -> JSONValue {
            var v: JSONValue = ["exitCode": .int(Int64(e.code)), "reason": .string(e.reason),
                                "startedAt": .string(Timestamp.format(e.startedAt)), "finishedAt": .string(Timestamp.format(e.finishedAt)),
                                "containerID": .string(containerID(pod: pod, container: name, run: run))]
            if let m = e.message { v["message"] = .string(m) }
            return v
        }
        switch t.state {
        case .waiting(let reason, let message):
            var w: JSONValue = ["reason": .string(reason)]
            if let message { w["message"] = .string(message) }
            s["state"] = ["waiting": w]
        case .running(let since):
            s["state"] = ["running": ["startedAt": .string(Timestamp.format(since))]]
            s["started"] = true
        case .backOff(let seconds, _):
            let podName = pod.name ?? "", ns = pod.namespace ?? "", uid = pod.uid ?? ""
            s["state"] = ["waiting": ["reason": "CrashLoopBackOff",
                                      "message": .string("back-off \(SimDuration.format(seconds)) restarting failed container=\(name) pod=\(podName)_\(ns)(\(uid))")]]
        case .terminated(let e):
            s["state"] = ["terminated": exitJSON(e, run: t.run)]
        }
        if let last = t.lastTermination {
            let lastRun: Int
            if case .backOff = t.state { lastRun = t.run } else { lastRun = max(0, t.run - 1) }
            s["lastState"] = ["terminated": exitJSON(last, run: lastRun)]
        }
        return s
    }

    static func waitingStatus(_ c: JSONValue, reason: String, message: String?) -> JSONValue {
        var w: JSONValue = ["reason": .string(reason)]
        if let message { w["message"] = .string(message) }
        return ["name": c["name"] ?? "", "image": c["image"] ?? "", "imageID": "", "ready": false, "restartCount": 0,
                "started": false, "lastState": [:], "state": ["waiting": w]]
    }

    static func containerID(pod: JSONValue, container: String, run: Int) -> String {
        "containerd://" + FakeDigest.hex("\(pod.uid ?? pod.objectKey.description)/\(container)/\(run)")
    }

    /// Guaranteed when every container sets equal cpu and memory requests and limits; BestEffort when none sets
    /// any; Burstable otherwise (pkg/apis/core/v1/helper/qos).
    static func qosClass(_ pod: JSONValue) -> String {
        let all = (pod[path: "spec", "containers"]?.arrayValue ?? []) + (pod[path: "spec", "initContainers"]?.arrayValue ?? [])
        var any = false
        var guaranteed = true
        for c in all {
            let requests = ResourceList(json: c[path: "resources", "requests"]).filter { $0.key == "cpu" || $0.key == "memory" }
            let limits = ResourceList(json: c[path: "resources", "limits"]).filter { $0.key == "cpu" || $0.key == "memory" }
            if !requests.isEmpty || !limits.isEmpty { any = true }
            if limits.count < 2 { guaranteed = false }
            for (k, v) in requests where limits[k] != v { guaranteed = false }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    static func condition(_ v: JSONValue) -> Condition? {
        guard let type = v["type"]?.stringValue, let s = v["status"]?.stringValue.flatMap(Condition.Status.init(rawValue:)) else { return nil }
        return Condition(type: type, status: s, reason: v["reason"]?.stringValue ?? "", message: v["message"]?.stringValue ?? "",
                         lastTransitionTime: v["lastTransitionTime"]?.stringValue ?? "")
    }

    /// Pod conditions carry `lastProbeTime: null` and omit empty reason/message, as the kubelet writes them.
    static func json(_ c: Condition) -> JSONValue {
        var v: JSONValue = ["type": .string(c.type), "status": .string(c.status.rawValue),
                            "lastTransitionTime": .string(c.lastTransitionTime), "lastProbeTime": .null]
        if !c.reason.isEmpty { v["reason"] = .string(c.reason) }
        if !c.message.isEmpty { v["message"] = .string(c.message) }
        return v
    }
}
