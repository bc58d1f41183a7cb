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
        let value = obj["value"]?.intValue ?? 0
        var causes: [APIStatusError.Cause] = []
        if name.hasPrefix("system-") {
            let known = Self.systemPriorityClasses.first { $0.name == name }
            if known == nil || known?.value != value || obj["globalDefault"] == true {
                let why = known == nil ? "\(name) is not a known system priority class" : "value of \(name) PriorityClass must be \(known?.value ?? 0)"
                causes.append(.forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for system use only. error: \(why)"))
            }
        } else if value > Self.highestUserDefinablePriority {
            causes.append(.forbidden("value", "maximum allowed value of a user defined priority is \(Self.highestUserDefinablePriority)"))
        }
        if let policy = obj["preemptionPolicy"]?.stringValue, !["PreemptLowerPriority", "Never"].contains(policy) {
            causes.append(.init(field: "preemptionPolicy", reason: "FieldValueNotSupported",
                                message: "Unsupported value: \(GoFormat.quote(policy)): supported values: \"Never\", \"PreemptLowerPriority\""))
        }
        if !causes.isEmpty { throw .invalid(kind: "PriorityClass", group: "scheduling.k8s.io", name: name, causes: causes) }
        try checkSingleGlobalDefault(obj)
    }

    func checkPriorityClassUpdate(_ new: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        if new["preemptionPolicy"] == nil { new["preemptionPolicy"] = "PreemptLowerPriority" }
        var causes: [APIStatusError.Cause] = []
        if (new["value"]?.intValue ?? 0) != (old["value"]?.intValue ?? 0) { causes.append(.forbidden("value", "may not be changed in an update.")) }
        if new["preemptionPolicy"] != old["preemptionPolicy"] {
            causes.append(.invalid("preemptionPolicy", GoFormat.quote(new["preemptionPolicy"]?.stringValue ?? ""), "field is immutable"))
        }
        if !causes.isEmpty { throw .invalid(kind: "PriorityClass", group: "scheduling.k8s.io", name: new.name ?? "", causes: causes) }
        if old["globalDefault"] != true { try checkSingleGlobalDefault(new) }
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
