import KubeCore

/// The facts the TrainingJob planner needs from one observed Pod, read once.
public struct ObservedPod: Sendable, Hashable {
    public enum State: Sendable, Hashable { case pending, running, succeeded, failed }

    public var name: String
    public var index: Int?
    public var attempt: Int
    public var state: State
    public var ready: Bool
    public var deleting: Bool
    public var node: String?
    public var exitCode: Int?
    public var reason: String?
    public var message: String?
    /// Removed by the platform (eviction, preemption, node loss), not by its own failure: restarts are free.
    public var disrupted: Bool
    /// Why it cannot start, when it cannot (Unschedulable message, ImagePullBackOff, ...).
    public var startupProblem: String?
    public var imageID: String?

    public init(_ pod: JSONValue, attemptAnnotation: String) {
        name = pod.name ?? ""
        index = pod.labels["gantry.dev/replica-index"].flatMap { Int($0) }
        attempt = pod.annotations[attemptAnnotation].flatMap { Int($0) } ?? 0
        deleting = pod.deletionTimestamp != nil
        node = pod[path: "spec", "nodeName"]?.stringValue
        let status = pod["status"] ?? .emptyObject
        switch status["phase"]?.stringValue {
        case "Running": state = .running
        case "Succeeded": state = .succeeded
        case "Failed": state = .failed
        default: state = .pending
        }
        let conditions = status["conditions"]?.arrayValue ?? []
        func condition(_ type: String) -> JSONValue? { conditions.first { $0["type"]?.stringValue == type } }
        ready = condition("Ready")?["status"]?.stringValue == "True"

        let containerStatus = status["containerStatuses"]?.arrayValue?.first
        let terminated = containerStatus?[path: "state", "terminated"]
        exitCode = terminated?["exitCode"]?.intValue.map { Int($0) }
        reason = terminated?["reason"]?.stringValue ?? status["reason"]?.stringValue
        message = terminated?["message"]?.stringValue ?? status["message"]?.stringValue
        imageID = containerStatus?["imageID"]?.stringValue

        // Kubernetes marks pods removed by the platform with the DisruptionTarget condition (1.26+); older
        // clusters and node-pressure evictions leave reason Evicted / NodeLost / Preempting on the status.
        let disruptionReasons: Set<String> = ["Evicted", "NodeLost", "Preempting", "Terminated", "DeletionByTaintManager", "PreemptionByScheduler", "TerminationByKubelet", "EvictionByEvictionAPI", "NodeShutdown"]
        disrupted = condition("DisruptionTarget")?["status"]?.stringValue == "True"
            || disruptionReasons.contains(status["reason"]?.stringValue ?? "")

        if state == .pending {
            if let scheduled = condition("PodScheduled"), scheduled["status"]?.stringValue == "False" {
                startupProblem = "\(scheduled["reason"]?.stringValue ?? "Unschedulable"): \(scheduled["message"]?.stringValue ?? "")"
            } else if let waiting = containerStatus?[path: "state", "waiting"],
                      let reason = waiting["reason"]?.stringValue, reason != "ContainerCreating" {
                startupProblem = "\(reason): \(waiting["message"]?.stringValue ?? "")"
            }
        }
    }

    public var finished: Bool { state == .succeeded || state == .failed }
}
