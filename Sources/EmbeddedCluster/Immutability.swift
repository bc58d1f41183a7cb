import KubeCore

/// What kube-apiserver refuses to change on built-in objects once created (pkg/apis/core/validation), with its
/// field paths and wording: the spec of a Pod, and the data of a ConfigMap or Secret marked `immutable`.
extension ObjectStore {
    static let podUpdateRule = "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

    /// ValidatePodUpdate for a client's update of a pod (not its status, and not the binding subresource, which
    /// sets `spec.nodeName`): the old spec with the allowed changes taken over must equal the new one.
    static func podSpecUpdateProblem(_ new: JSONValue, old: JSONValue) -> APIStatusError.Cause? {
        var proposed = new["spec"] ?? .emptyObject
        Self.defaultPodSpec(&proposed)
        let current = old["spec"] ?? .emptyObject
        var munged = proposed
        for list in ["containers", "initContainers"] {
            guard var items = proposed[list]?.arrayValue, let before = current[list]?.arrayValue, items.count == before.count else { continue }
            for i in items.indices { items[i]["image"] = before[i]["image"] }
            munged[list] = .array(items)
        }
        // activeDeadlineSeconds may be set, or lowered, but not raised or removed.
        if let value = proposed["activeDeadlineSeconds"]?.intValue, value > 0,
           current["activeDeadlineSeconds"]?.intValue.map({ value <= $0 }) ?? true {
            munged["activeDeadlineSeconds"] = current["activeDeadlineSeconds"]
        }
        // Tolerations may only be added to.
        let oldTolerations = current["tolerations"]?.arrayValue ?? []
        let newTolerations = proposed["tolerations"]?.arrayValue ?? []
        if oldTolerations.allSatisfy({ newTolerations.contains($0) }) { munged["tolerations"] = current["tolerations"] }
        if let grace = current["terminationGracePeriodSeconds"]?.intValue, grace < 0, proposed["terminationGracePeriodSeconds"]?.intValue == 1 {
            munged["terminationGracePeriodSeconds"] = current["terminationGracePeriodSeconds"]
        }
        // Scheduling gates may only be removed.
        let oldGates = current["schedulingGates"]?.arrayValue ?? []
        if (proposed["schedulingGates"]?.arrayValue ?? []).allSatisfy({ oldGates.contains($0) }) { munged["schedulingGates"] = current["schedulingGates"] }
        guard munged != current else { return nil }
        let changed = Set((munged.objectValue ?? [:]).keys).union((current.objectValue ?? [:]).keys)
            .filter { munged[$0] != current[$0] }.sorted().map { "spec.\($0)" }
        return .forbidden("spec", "\(podUpdateRule)\n  changed: \(changed.joined(separator: ", "))")
    }

    /// The defaults a pod's spec gets at creation (see `prepareForCreate`), so an update that leaves them out
    /// changes nothing, as upstream's defaulting of the request body does.
    static func defaultPodSpec(_ spec: inout JSONValue) {
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = "default" }
        if spec["restartPolicy"] == nil { spec["restartPolicy"] = "Always" }
        if spec["schedulerName"] == nil { spec["schedulerName"] = "default-scheduler" }
    }

    static func checkImmutableData(_ info: ResourceInfo, _ obj: JSONValue, old: JSONValue) throws(APIStatusError) {
        let causes = immutableDataProblems(info.kind, obj, old: old)
        if !causes.isEmpty { throw .invalid(kind: info.kind, group: "", name: obj.name ?? "", causes: causes) }
    }

    /// ValidateConfigMapUpdate / ValidateSecretUpdate: once `immutable` is true, neither it nor the data may change
    /// (and a Secret's type never may).
    static func immutableDataProblems(_ kind: String, _ new: JSONValue, old: JSONValue) -> [APIStatusError.Cause] {
        var causes: [APIStatusError.Cause] = []
        if kind == "Secret", let type = old["type"], new["type"] != type {
            causes.append(.invalid("type", GoFormat.quote(new["type"]?.stringValue ?? ""), "field is immutable"))
        }
        guard old["immutable"] == true else { return causes }
        if new["immutable"] != true { causes.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
        for field in ["data", "binaryData"] where (new[field] ?? .emptyObject) != (old[field] ?? .emptyObject) {
            causes.append(.forbidden(field, "field is immutable when `immutable` is set"))
        }
        return causes
    }
}
