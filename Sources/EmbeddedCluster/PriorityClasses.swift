import KubeCore

/// `scheduling.k8s.io/v1` PriorityClasses as kube-apiserver serves them: the two system classes it creates at
/// start, ValidatePriorityClass(Update) (pkg/apis/scheduling/validation) and the Priority admission plugin
/// (plugin/pkg/admission/priority), which resolves a pod's `priorityClassName` into `spec.priority` at create.
extension ObjectStore {
    static let systemPriorityClasses: [(name: String, value: Int64, description: String)] = [
        ("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
        ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
    ]
    static let highestUserDefinablePriority: Int64 = 1_000_000_000

    /// Creates the system classes when missing (every start, as the apiserver's post-start hook).
    func seedPriorityClasses() {
        guard let info = anyInfo(forStorageKey: "priorityclasses.scheduling.k8s.io") else { return }
        for pc in Self.systemPriorityClasses where get(info.resourceKey, namespace: nil, name: pc.name) == nil {
            _ = try? create(info, ["metadata": ["name": .string(pc.name)], "value": .int(pc.value), "description": .string(pc.description)],
                            scope: .main, dryRun: false)
        }
    }

    func preparePriorityClassForCreate(_ obj: inout JSONValue) throws(APIStatusError) {
        if obj["preemptionPolicy"] == nil { obj["preemptionPolicy"] = "PreemptLowerPriority" }
        let name = obj.name ?? ""
        var causes = Self.reservedNameProblems(obj)
        if let policy = obj["preemptionPolicy"]?.stringValue, !["PreemptLowerPriority", "Never"].contains(policy) {
            causes.append(.unsupported("preemptionPolicy", policy, ["Never", "PreemptLowerPriority"]))
        }
        if !causes.isEmpty { throw .invalid(kind: "PriorityClass", group: "scheduling.k8s.io", name: name, causes: causes) }
        try checkSingleGlobalDefault(obj)
    }

    func checkPriorityClassUpdate(_ new: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        if new["preemptionPolicy"] == nil { new["preemptionPolicy"] = "PreemptLowerPriority" }
        // The strategy's ValidateUpdate runs ValidatePriorityClass too: a system class keeps its value and stays
        // out of the global default.
        var causes = Self.reservedNameProblems(new)
        if (new["value"]?.intValue ?? 0) != (old["value"]?.intValue ?? 0) { causes.append(.forbidden("value", "may not be changed in an update.")) }
        if new["preemptionPolicy"] != old["preemptionPolicy"] {
            causes.append(.invalid("preemptionPolicy", GoFormat.quote(new["preemptionPolicy"]?.stringValue ?? ""), "field is immutable"))
        }
        if !causes.isEmpty { throw .invalid(kind: "PriorityClass", group: "scheduling.k8s.io", name: new.name ?? "", causes: causes) }
        if old["globalDefault"] != true { try checkSingleGlobalDefault(new) }
    }

    /// ValidatePriorityClass: `system-` names are the system classes with their value and `globalDefault: false`
    /// (IsKnownSystemPriorityClass's wording); other classes stay at or below the highest user-definable value.
    static func reservedNameProblems(_ obj: JSONValue) -> [APIStatusError.Cause] {
        let name = obj.name ?? ""
        let value = obj["value"]?.intValue ?? 0
        guard name.hasPrefix("system-") else {
            guard value > highestUserDefinablePriority else { return [] }
            return [.forbidden("value", "maximum allowed value of a user defined priority is \(highestUserDefinablePriority)")]
        }
        let why: String
        if let known = systemPriorityClasses.first(where: { $0.name == name }) {
            if known.value != value {
                why = "value of \(name) PriorityClass must be \(known.value)"
            } else if obj["globalDefault"] == true {
                why = "globalDefault of \(name) PriorityClass must be false"
            } else {
                return []
            }
        } else {
            why = "\(name) is not a known system priority class"
        }
        return [.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for system use only. error: \(why)")]
    }

    /// The PriorityClass REST's Delete (pkg/registry/scheduling/priorityclass/storage): the system classes cannot
    /// be deleted one by one. Upstream's DeleteCollection goes around it (the generic store's), and so does ours.
    static func refuseSystemPriorityClassDeletion(_ info: ResourceInfo, name: String) throws(APIStatusError) {
        guard info.group == "scheduling.k8s.io", info.kind == "PriorityClass", systemPriorityClasses.contains(where: { $0.name == name }) else { return }
        throw .forbidden("priorityclasses.scheduling.k8s.io", name, group: "scheduling.k8s.io", kind: "priorityclasses",
                         why: "this is a system priority class and cannot be deleted")
    }

    /// The Priority admission plugin: only one class may be the global default.
    func checkSingleGlobalDefault(_ obj: JSONValue) throws(APIStatusError) {
        guard obj["globalDefault"] == true, let other = globalDefaultPriorityClass(), other.name != obj.name else { return }
        throw .forbidden("priorityclasses.scheduling.k8s.io", obj.name ?? "", group: "scheduling.k8s.io", kind: "priorityclasses",
                         why: "PriorityClass \(other.name ?? "") is already marked as default. Only one default can exist")
    }

    func globalDefaultPriorityClass() -> JSONValue? {
        (objects["priorityclasses.scheduling.k8s.io"]?.values.filter { $0["globalDefault"] == true } ?? []).min { ($0.name ?? "") < ($1.name ?? "") }
    }

    /// The Priority admission plugin on a pod's create: its class (or the global default) gives `spec.priority`
    /// and `spec.preemptionPolicy`; an unknown class, or a priority that disagrees, is refused.
    func admitPodPriority(_ pod: inout JSONValue) throws(APIStatusError) {
        let name = pod.name ?? ""
        func forbidden(_ why: String) -> APIStatusError { .forbidden("pods", name, group: "", kind: "pods", why: why) }
        var priority: Int64 = 0
        var policy: JSONValue? = nil
        if let className = pod[path: "spec", "priorityClassName"]?.stringValue, !className.isEmpty {
            guard let pc = get("priorityclasses.scheduling.k8s.io", namespace: nil, name: className) else {
                throw forbidden("no PriorityClass with name \(className) was found")
            }
            priority = pc["value"]?.intValue ?? 0
            policy = pc["preemptionPolicy"]
        } else if let pc = globalDefaultPriorityClass() {
            pod[path: "spec", "priorityClassName"] = pc["metadata"]?["name"]
            priority = pc["value"]?.intValue ?? 0
            policy = pc["preemptionPolicy"]
        }
        if let given = pod[path: "spec", "priority"]?.intValue, given != priority {
            throw forbidden("the integer value of priority (\(given)) must not be provided in pod spec; priority admission controller computed \(priority) from the given PriorityClass name")
        }
        pod[path: "spec", "priority"] = .int(priority)
        if let policy {
            if let given = pod[path: "spec", "preemptionPolicy"], given != policy {
                throw forbidden("the string value of PreemptionPolicy (\(given.stringValue ?? "")) must not be provided in pod spec; priority admission controller computed \(policy.stringValue ?? "") from the given PriorityClass name")
            }
            pod[path: "spec", "preemptionPolicy"] = policy
        }
    }
}
