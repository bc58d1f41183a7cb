import KubeCore

/// kube-scheduler's VolumeBinding plugin, simplified: what a pod's PersistentVolumeClaims allow. A missing or
/// deleting claim, or an unbound claim of an `Immediate` class (or of none), keeps the pod unschedulable with
/// upstream's PreFilter wording; unbound `WaitForFirstConsumer` claims are provisioned on the node the pod is
/// placed on, and the pod is bound only once they are (PreBind waits); a bound volume pinned to a node by its
/// node affinity (`kubernetes.io/hostname`) pins the pod there.
enum VolumeScheduling {
    enum Verdict: Equatable {
        case ready(pinnedTo: String?)
        /// Schedulable; these claims must be provisioned on the chosen node before the pod is bound.
        case provision([JSONValue])
        /// Claims are being provisioned for an earlier choice of node.
        case wait
        case unschedulable(String)
    }

    static func claimNames(_ pod: JSONValue) -> [String] {
        (pod[path: "spec", "volumes"]?.arrayValue ?? []).compactMap { $0[path: "persistentVolumeClaim", "claimName"]?.stringValue }
    }

    /// `claims` by `namespace/name`, `volumes` and `classes` by name.
    static func verdict(pod: JSONValue, claims: [String: JSONValue], volumes: [String: JSONValue], classes: [String: JSONValue]) -> Verdict {
        var pinned: String? = nil
        var unbound: [JSONValue] = []
        for name in claimNames(pod) {
            guard let claim = claims["\(pod.namespace ?? "")/\(name)"] else { return .unschedulable("persistentvolumeclaim \"\(name)\" not found") }
            if claim.deletionTimestamp != nil { return .unschedulable("persistentvolumeclaim \"\(name)\" is being deleted") }
            if claim[path: "status", "phase"] == "Bound" {
                let volume = volumes[claim[path: "spec", "volumeName"]?.stringValue ?? ""]
                pinned = pinned ?? volume.flatMap(hostname)
                continue
            }
            let sc = classes[claim[path: "spec", "storageClassName"]?.stringValue ?? ""]
            guard sc?["volumeBindingMode"] == "WaitForFirstConsumer" else { return .unschedulable("pod has unbound immediate PersistentVolumeClaims") }
            if claim.annotations[VolumeBinder.selectedNode] != nil { return .wait }
            unbound.append(claim)
        }
        return unbound.isEmpty ? .ready(pinnedTo: pinned) : .provision(unbound)
    }

    /// The node a volume's required node affinity names by `kubernetes.io/hostname`, if exactly one.
    static func hostname(_ volume: JSONValue) -> String? {
        let terms = volume[path: "spec", "nodeAffinity", "required", "nodeSelectorTerms"]?.arrayValue ?? []
        for term in terms {
            for e in term["matchExpressions"]?.arrayValue ?? [] where e["key"] == "kubernetes.io/hostname" && e["operator"] == "In" {
                if let values = e["values"]?.arrayValue, values.count == 1 { return values[0].stringValue }
            }
        }
        return nil
    }

    /// kube-scheduler's FitError for a PreFilter rejection no preemption can help.
    static func message(_ why: String, nodeCount: Int) -> String {
        "0/\(nodeCount) nodes are available: \(why). preemption: 0/\(nodeCount) nodes are available: \(nodeCount) Preemption is not helpful for scheduling."
    }
}
