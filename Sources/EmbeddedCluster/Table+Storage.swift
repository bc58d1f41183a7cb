import KubeCore

/// Printer columns of the storage and scheduling kinds, as kube-apiserver's (pkg/printers/internalversion/printers.go:
/// `persistentVolumeClaimColumnDefinitions`, `persistentVolumeColumnDefinitions`, `storageClassColumnDefinitions`,
/// `priorityClassColumnDefinitions`).
extension Table {
    static func storageColumns(_ info: ResourceInfo) -> [Column]? {
        let volumeAttributesClass = Column(name: "VolumeAttributesClass") { o in
            .string(o[path: "spec", "volumeAttributesClassName"]?.stringValue ?? "<unset>")
        }
        let volumeMode = Column(name: "VolumeMode", priority: 1, cell: str("spec", "volumeMode"))
        switch (info.group, info.kind) {
        case ("", "PersistentVolumeClaim"):
            // Capacity and access modes are the bound volume's, shown once the claim names one.
            @Sendable func ifBound(_ f: @escaping @Sendable (JSONValue) -> String) -> @Sendable (JSONValue) -> JSONValue {
                { o in .string((o[path: "spec", "volumeName"]?.stringValue ?? "").isEmpty ? "" : f(o)) }
            }
            return [name, Column(name: "Status", cell: phaseOrTerminating), Column(name: "Volume", cell: str("spec", "volumeName")),
                    Column(name: "Capacity", cell: ifBound { $0[path: "status", "capacity", "storage"]?.stringValue ?? "" }),
                    Column(name: "Access Modes", cell: ifBound { accessModes($0[path: "status", "accessModes"]) }),
                    Column(name: "StorageClass", cell: str("spec", "storageClassName")), volumeAttributesClass, age, volumeMode]
        case ("", "PersistentVolume"):
            return [name, Column(name: "Capacity") { .string($0[path: "spec", "capacity", "storage"]?.stringValue ?? "") },
                    Column(name: "Access Modes") { .string(accessModes($0[path: "spec", "accessModes"])) },
                    Column(name: "Reclaim Policy", cell: str("spec", "persistentVolumeReclaimPolicy")),
                    Column(name: "Status", cell: phaseOrTerminating),
                    Column(name: "Claim") { o in
                        guard let ref = o[path: "spec", "claimRef"] else { return "" }
                        return .string("\(ref["namespace"]?.stringValue ?? "")/\(ref["name"]?.stringValue ?? "")")
                    },
                    Column(name: "StorageClass", cell: str("spec", "storageClassName")), volumeAttributesClass,
                    Column(name: "Reason", cell: str("status", "reason")), age, volumeMode]
        case ("storage.k8s.io", "StorageClass"):
            return [Column(name: "Name", format: "name") { o in
                        let n = o.name ?? ""
                        return .string(o.annotations[ObjectStore.defaultClassAnnotation] == "true" ? n + " (default)" : n)
                    },
                    Column(name: "Provisioner", cell: str("provisioner")),
                    Column(name: "ReclaimPolicy") { .string($0["reclaimPolicy"]?.stringValue ?? "Delete") },
                    Column(name: "VolumeBindingMode") { .string($0["volumeBindingMode"]?.stringValue ?? "Immediate") },
                    Column(name: "AllowVolumeExpansion") { .string($0["allowVolumeExpansion"]?.boolValue == true ? "true" : "false") }, age]
        case ("scheduling.k8s.io", "PriorityClass"):
            return [name, Column(name: "Value", type: "integer") { .int($0["value"]?.intValue ?? 0) },
                    Column(name: "Global-Default", type: "boolean") { .bool($0["globalDefault"]?.boolValue ?? false) }, age,
                    Column(name: "PreemptionPolicy") { .string($0["preemptionPolicy"]?.stringValue ?? "") }]
        default:
            return nil
        }
    }

    /// A claim's or volume's phase, `Terminating` once deleted (printPersistentVolume(Claim)).
    static let phaseOrTerminating: @Sendable (JSONValue) -> JSONValue = { o in
        o.deletionTimestamp != nil ? "Terminating" : .string(o[path: "status", "phase"]?.stringValue ?? "")
    }

    /// storageutil.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order.
    static func accessModes(_ modes: JSONValue?) -> String {
        let given = Set((modes?.arrayValue ?? []).compactMap(\.stringValue))
        return [("ReadWriteOnce", "RWO"), ("ReadOnlyMany", "ROX"), ("ReadWriteMany", "RWX"), ("ReadWriteOncePod", "RWOP")]
            .filter { given.contains($0.0) }.map(\.1).joined(separator: ",")
    }
}
