import Foundation
import GantryAPI
import KubeCore

/// The facts the InferenceService planner reads of one of its pods.
public struct ServingPod: Sendable, Hashable {
    public var name: String
    public var color: InferenceServiceStatus.Color?
    public var revision: String?
    public var index: Int?
    public var phase: String?
    public var deleting: Bool
    /// When it last became Ready (nil when not ready).
    public var readySince: Date?
    /// Why it does not become ready, when the pod says (image pull, crash loop, unschedulable).
    public var problem: String?
    /// The reason alone of a container waiting on something other than its start (`CrashLoopBackOff`).
    public var waitingReason: String?
    /// The node it is bound to (nil while unscheduled).
    public var node: String?
    /// The node it is for before it is bound: a daemon pod's `metadata.name` node affinity (the DaemonSet
    /// controller writes one per pod), else its binding.
    public var targetNode: String?
    /// Extended resources its containers ask for (`nvidia.com/gpu: 1`).
    public var extendedResources: [String: Int]
    /// The scheduler's message while it cannot be placed (`PodScheduled` False, reason `Unschedulable`).
    public var unschedulable: String?
    /// When the kubelet started it, and how its first container ended (a validation job's pod).
    public var startTime: String?
    public var exitCode: Int?
    public var finishedAt: String?
    public var terminatedReason: String?

    public init(_ object: JSONValue) {
        let pod = Pod(json: object)
        name = pod.name ?? ""
        color = pod.labels[GantryLabels.color].flatMap(InferenceServiceStatus.Color.init)
        revision = pod.labels[GantryLabels.revision]
        index = pod.labels[GantryLabels.replicaIndex].flatMap { Int($0) }
        phase = pod.status.phase
        deleting = pod.deletionTimestamp != nil
        let conditions = pod.status.conditions
        if let ready = conditions.first(where: { $0.type == "Ready" }), ready.status == .true {
            readySince = Timestamp.parse(ready.lastTransitionTime) ?? .distantPast
        }
        node = pod.spec.nodeName
        targetNode = node ?? Self.affinityNode(object)
        startTime = pod.status.startTime
        if let terminated = pod.status.containerStatuses.first?.state.terminated {
            exitCode = terminated.exitCode.map { Int($0) }
            finishedAt = terminated.finishedAt
            terminatedReason = terminated.reason
        }
        extendedResources = SchedulingRules.extendedRequests(of: pod)
        if let scheduled = conditions.first(where: { $0.type == "PodScheduled" }), scheduled.status == .false {
            if scheduled.reason == "Unschedulable" { unschedulable = scheduled.message }
            problem = "\(scheduled.reason.isEmpty ? "Unschedulable" : scheduled.reason): \(scheduled.message)"
        } else if let waiting = (pod.status.initContainerStatuses + pod.status.containerStatuses).compactMap({ $0.state.waiting }).first,
                  let reason = waiting.reason, reason != "ContainerCreating", reason != "PodInitializing" {
            problem = "\(reason): \(waiting.message ?? "")"
            waitingReason = reason
        } else if phase == "Failed" {
            problem = "\(pod.status.reason ?? "Failed"): \(pod.status.message ?? "the pod failed")"
        }
    }

    public var failed: Bool { phase == "Failed" || phase == "Succeeded" }

    /// Its problem as a status message names it: `pod NAME on node NODE: REASON: message` (the node once known).
    public var problemReport: String? {
        problem.map { "pod \(name)\(targetNode.map { " on node \($0)" } ?? ""): \($0)" }
    }

    /// The single node a required node affinity term pins the pod to by `metadata.name`, as the DaemonSet
    /// controller writes it (pkg/controller/daemon/util.ReplaceDaemonSetPodNodeNameNodeAffinity).
    static func affinityNode(_ pod: JSONValue) -> String? {
        let terms = pod[path: "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]?.arrayValue ?? []
        let names = terms.flatMap { $0["matchFields"]?.arrayValue ?? [] }
            .filter { $0["key"]?.stringValue == "metadata.name" && $0["operator"]?.stringValue == "In" }
            .compactMap { $0["values"]?.arrayValue }
        guard names.count == 1, let values = names.first, values.count == 1 else { return nil }
        return values.first?.stringValue
    }

    /// Ready for at least `seconds` at `now`.
    public func ready(for seconds: Int, at now: Date) -> Bool {
        guard let since = readySince, !deleting else { return false }
        return now.timeIntervalSince(since) >= Double(seconds)
    }
}
