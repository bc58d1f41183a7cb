import KubeCore

/// StorageClasses, PersistentVolumes and PersistentVolumeClaims as kube-apiserver treats them: defaults
/// (pkg/apis/core/v1 and storage/v1 `SetDefaults_*`), the DefaultStorageClass and PersistentVolumeClaimResize
/// admission plugins, and ValidatePersistentVolumeClaimUpdate. Binding is the simulation's (Simulation/VolumeBinder.swift).
extension ObjectStore {
    static let defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

    /// The class a claim without `storageClassName` gets: the newest default class (DefaultStorageClass admission).
    func defaultStorageClass() -> JSONValue? {
        let classes = objects["storageclasses.storage.k8s.io"]?.values.filter { $0.annotations[Self.defaultClassAnnotation] == "true" } ?? []
        return classes.max { ($0.creationTimestamp ?? "", $0.name ?? "") < ($1.creationTimestamp ?? "", $1.name ?? "") }
    }

    func prepareStorageForCreate(_ info: ResourceInfo, _ obj: inout JSONValue) {
        switch (info.group, info.kind) {
        case ("storage.k8s.io", "StorageClass"):
            Self.defaultStorageClassFields(&obj)
        case ("", "PersistentVolume"):
            if obj[path: "spec", "persistentVolumeReclaimPolicy"] == nil { obj[path: "spec", "persistentVolumeReclaimPolicy"] = "Retain" }
            if obj[path: "spec", "volumeMode"] == nil { obj[path: "spec", "volumeMode"] = "Filesystem" }
            if obj[path: "status", "phase"] == nil { obj[path: "status", "phase"] = "Pending" }
            Self.protectStorage(&obj, finalizer: Self.volumeProtection)
        case ("", "PersistentVolumeClaim"):
            Self.protectStorage(&obj, finalizer: Self.claimProtection)
            if obj[path: "spec", "volumeMode"] == nil { obj[path: "spec", "volumeMode"] = "Filesystem" }
            if obj[path: "spec", "storageClassName"] == nil, let name = defaultStorageClass()?.name {
                obj[path: "spec", "storageClassName"] = .string(name)
            }
            obj["status"] = ["phase": "Pending"]
        default:
            break
        }
    }

    /// A client's update of a claim (`.main`): ValidatePersistentVolumeClaimUpdate, then the resize admission plugin.
    func checkClaimUpdate(_ new: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        var spec = new["spec"] ?? .emptyObject
        if spec["volumeMode"] == nil { spec["volumeMode"] = old[path: "spec", "volumeMode"] }
        new["spec"] = spec
        let name = new.name ?? ""
        var proposed = spec, current = old["spec"] ?? .emptyObject
        // volumeName may be set once (the volume binder does); storageClassName may be set once from nil.
        if current["volumeName"] == nil || current["volumeName"] == "" { current["volumeName"] = proposed["volumeName"] }
        if current["storageClassName"] == nil { current["storageClassName"] = proposed["storageClassName"] }
        let bound = old[path: "status", "phase"] == "Bound"
        if bound { proposed[path: "resources", "requests", "storage"] = current[path: "resources", "requests", "storage"] }
        var causes: [APIStatusError.Cause] = []
        if proposed != current {
            let changed = Set((proposed.objectValue ?? [:]).keys).union((current.objectValue ?? [:]).keys)
                .filter { proposed[$0] != current[$0] }.sorted().map { "spec.\($0)" }
            causes.append(.forbidden("spec", "spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n  changed: \(changed.joined(separator: ", "))"))
        }
        let newSize = ResourceQuantity.from(spec[path: "resources", "requests", "storage"])
        let oldSize = ResourceQuantity.from(old[path: "spec", "resources", "requests", "storage"])
        // RecoverVolumeExpansionFailure (on by default since 1.32): a request may shrink, but not to the capacity.
        let capacity = ResourceQuantity.from(old[path: "status", "capacity", "storage"]) ?? ResourceQuantity(Int64(0))
        if let newSize, let oldSize, newSize < oldSize, newSize <= capacity {
            causes.append(.forbidden("spec.resources.requests.storage", "field can not be less than status.capacity"))
        }
        if !causes.isEmpty { throw .invalid(kind: "PersistentVolumeClaim", group: "", name: name, causes: causes) }
        // PersistentVolumeClaimResize: a bound claim grows only if its class allows expansion.
        if bound, let newSize, let oldSize, oldSize < newSize {
            let className = spec["storageClassName"]?.stringValue ?? ""
            let sc = get("storageclasses.storage.k8s.io", namespace: nil, name: className)
            if sc?["allowVolumeExpansion"] != true {
                throw .forbidden("persistentvolumeclaims", name, group: "", kind: "persistentvolumeclaims",
                                 why: "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize")
            }
        }
    }

    static func defaultStorageClassFields(_ obj: inout JSONValue) {
        if obj["reclaimPolicy"] == nil { obj["reclaimPolicy"] = "Delete" }
        if obj["volumeBindingMode"] == nil { obj["volumeBindingMode"] = "Immediate" }
    }

    /// ValidateStorageClassUpdate: what provisions a class is fixed.
    static func checkStorageClassUpdate(_ new: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        defaultStorageClassFields(&new)
        var causes: [APIStatusError.Cause] = []
        if (new["parameters"] ?? .emptyObject) != (old["parameters"] ?? .emptyObject) {
            causes.append(.forbidden("parameters", "updates to parameters are forbidden."))
        }
        if new["provisioner"] != old["provisioner"] {
            causes.append(.forbidden("provisioner", "updates to provisioner are forbidden."))
        }
        if new["reclaimPolicy"] != old["reclaimPolicy"] {
            causes.append(.forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
        }
        if new["volumeBindingMode"] != old["volumeBindingMode"] {
            causes.append(.forbidden("volumeBindingMode", "field is immutable"))
        }
        if !causes.isEmpty { throw .invalid(kind: "StorageClass", group: "storage.k8s.io", name: new.name ?? "", causes: causes) }
    }

    /// The class a fresh `gantry dev` cluster has, as kind's `standard`: claims bind when a pod using them is scheduled.
    func seedStorage() {
        guard let info = anyInfo(forStorageKey: "storageclasses.storage.k8s.io") else { return }
        _ = try? create(info, ["metadata": ["name": "standard", "annotations": [Self.defaultClassAnnotation: "true"]],
                               "provisioner": .string(VolumeBinder.provisioner), "reclaimPolicy": "Delete",
                               "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true],
                        scope: .main, dryRun: false)
    }

    /// ValidateServiceUpdate: a Service's primary IP family is fixed once set; an update that leaves the families
    /// out keeps them (clients unaware of dual-stack).
    static func checkIPFamilies(_ obj: inout JSONValue, old: JSONValue) throws(APIStatusError) {
        guard let before = old[path: "spec", "ipFamilies"]?.arrayValue, let primary = before.first else { return }
        guard let after = obj[path: "spec", "ipFamilies"]?.arrayValue, let first = after.first else {
            obj[path: "spec", "ipFamilies"] = .array(before)
            return
        }
        if first != primary {
            throw .invalid(kind: "Service", group: "", name: obj.name ?? "",
                           causes: [.invalid("spec.ipFamilies[0]", GoFormat.quote(first.stringValue ?? ""), "may not change once set")])
        }
    }
}
