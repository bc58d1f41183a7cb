import Foundation
import KubeCore

/// The Events a scheduler and kubelet record for a pod, derived from how its status changed, so
/// `kubectl describe pod` reads like a real cluster's. Reasons and messages follow kube-scheduler
/// (`Scheduled`, `FailedScheduling`) and the kubelet's event constants (pkg/kubelet/events: `Pulling`, `Pulled`,
/// `Created`, `Started`, `Killing`, `BackOff`, `Failed`).
struct PodEvent: Sendable, Hashable {
    var type: String  // Normal or Warning
    var reason: String
    var message: String
    var component: String  // kubelet or default-scheduler
    var container: String?
}

enum PodEvents {
    static func scheduled(pod: JSONValue, node: String) -> PodEvent {
        PodEvent(type: "Normal", reason: "Scheduled", message: "Successfully assigned \(pod.namespace ?? "default")/\(pod.name ?? "") to \(node)",
                 component: "default-scheduler")
    }

    static func failedScheduling(message: String) -> PodEvent {
        PodEvent(type: "Warning", reason: "FailedScheduling", message: message, component: "default-scheduler")
    }

    /// Kubelet events for the change from `old` to `new` pod status. `pulled`: the images the kubelet pulled for
    /// this pod (nil: all of them); a first start from an image already on the node says so, as the kubelet does.
    static func kubelet(pod: JSONValue, old: JSONValue, new: JSONValue, pulled: Set<String>? = nil, terminating: Bool, wasTerminating: Bool) -> [PodEvent] {
        var events: [PodEvent] = []
        let containers = KubeletContainers.all(pod)
        let oldStatuses = statusesByName(old)
        let newStatuses = statusesByName(new)
        for c in containers {
            let name = c["name"]?.stringValue ?? ""
            let image = c["image"]?.stringValue ?? ""
            guard let now = newStatuses[name] else { continue }
            let before = oldStatuses[name]
            func event(_ type: String, _ reason: String, _ message: String) {
                events.append(PodEvent(type: type, reason: reason, message: message, component: "kubelet", container: name))
            }
            let waitingBefore = before?[path: "state", "waiting", "reason"]?.stringValue
            let waitingNow = now[path: "state", "waiting", "reason"]?.stringValue
            let restartsBefore = before?["restartCount"]?.intValue ?? 0
            let restartsNow = now["restartCount"]?.intValue ?? 0
            let runningBefore = before?[path: "state", "running"] != nil
            if waitingNow != waitingBefore {
                switch waitingNow {
                case "ErrImagePull":
                    event("Normal", "Pulling", "Pulling image \"\(image)\"")
                    event("Warning", "Failed", "Failed to pull image \"\(image)\": \(now[path: "state", "waiting", "message"]?.stringValue ?? "not found")")
                    event("Warning", "Failed", "Error: ErrImagePull")
                case "ImagePullBackOff":
                    event("Normal", "BackOff", "Back-off pulling image \"\(image)\"")
                    event("Warning", "Failed", "Error: ImagePullBackOff")
                case "CreateContainerConfigError":
                    event("Warning", "Failed", "Error: \(now[path: "state", "waiting", "message"]?.stringValue ?? "invalid configuration")")
                case "CrashLoopBackOff":
                    event("Warning", "BackOff", "Back-off restarting failed container \(name) in pod \(pod.name ?? "")_\(pod.namespace ?? "")(\(pod.uid ?? ""))")
                default:
                    break
                }
            }
            // First start: the image shows as pulled (imageID set) for the first time.
            let pulledBefore = !(before?["imageID"]?.stringValue ?? "").isEmpty
            let started = !(now["imageID"]?.stringValue ?? "").isEmpty && !pulledBefore
            if started {
                if pulled?.contains(image) ?? true {
                    event("Normal", "Pulling", "Pulling image \"\(image)\"")
                    event("Normal", "Pulled", "Successfully pulled image \"\(image)\"")
                } else {
                    event("Normal", "Pulled", "Container image \"\(image)\" already present on machine")
                }
                event("Normal", "Created", "Created container: \(name)")
                event("Normal", "Started", "Started container \(name)")
            } else if restartsNow > restartsBefore {
                event("Normal", "Pulled", "Container image \"\(image)\" already present on machine")
                event("Normal", "Created", "Created container: \(name)")
                event("Normal", "Started", "Started container \(name)")
            }
            if terminating && !wasTerminating && runningBefore {
                event("Normal", "Killing", "Stopping container \(name)")
            }
        }
        return events
    }

    static func statusesByName(_ status: JSONValue) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        for s in (status["initContainerStatuses"]?.arrayValue ?? []) + (status["containerStatuses"]?.arrayValue ?? []) {
            if let n = s["name"]?.stringValue { out[n] = s }
        }
        return out
    }

    /// A core/v1 Event object (what `kubectl describe` lists).
    static func object(_ e: PodEvent, pod: JSONValue, node: String?, now: Date, sequence: Int) -> JSONValue {
        let stamp = JSONValue.string(Timestamp.format(now))
        var involved: JSONValue = ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name ?? ""),
                                   "namespace": .string(pod.namespace ?? "default"), "uid": .string(pod.uid ?? "")]
        if let c = e.container { involved["fieldPath"] = .string("spec.containers{\(c)}") }
        var source: JSONValue = ["component": .string(e.component)]
        if e.component == "kubelet", let node { source["host"] = .string(node) }
        let suffix = FakeDigest.hex("\(pod.uid ?? "")/\(sequence)/\(e.reason)/\(e.message)", length: 16)
        return [
            "apiVersion": "v1", "kind": "Event",
            "metadata": ["name": .string("\(pod.name ?? "pod").\(suffix)"), "namespace": .string(pod.namespace ?? "default")],
            "involvedObject": involved,
            "reason": .string(e.reason), "message": .string(e.message), "type": .string(e.type),
            "source": source, "reportingComponent": .string(e.component), "reportingInstance": .string(node ?? e.component),
            "firstTimestamp": stamp, "lastTimestamp": stamp, "count": 1,
        ]
    }
}

enum KubeletContainers {
    static func all(_ pod: JSONValue) -> [JSONValue] {
        (pod[path: "spec", "initContainers"]?.arrayValue ?? []) + (pod[path: "spec", "containers"]?.arrayValue ?? [])
    }
}
