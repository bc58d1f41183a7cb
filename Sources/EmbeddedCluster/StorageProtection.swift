import KubeCore

/// Storage object in-use protection (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#storage-object-in-use-protection):
/// the StorageObjectInUseProtection admission plugin gives every created claim `kubernetes.io/pvc-protection` and
/// every created volume `kubernetes.io/pv-protection`; kube-controller-manager's pvc-protection controller removes
/// the first from a deleting claim once no pod uses it, the pv-protection controller the second from a deleting
/// volume once it is not Bound. So a claim a running pod mounts stays Terminating until that pod is gone. The
/// controllers run here with garbage collection (on the store, with or without simulated nodes).
extension ObjectStore {
    static let claimProtection = "kubernetes.io/pvc-protection"
    static let volumeProtection = "kubernetes.io/pv-protection"

    /// The admission plugin, on create.
    static func protectStorage(_ obj: inout JSONValue, finalizer: String) {
        if !obj.finalizers.contains(finalizer) { obj.finalizers = obj.finalizers + [finalizer] }
    }

    /// The two controllers' pass: true when a finalizer was removed.
    func releaseStorageProtection() -> Bool {
        var changed = false
        for claim in (objects["persistentvolumeclaims"] ?? [:]).values
        where claim.deletionTimestamp != nil && claim.finalizers.contains(Self.claimProtection) {
            let pods = objects["pods"]?.values.filter { $0.namespace == claim.namespace } ?? []
            guard !pods.contains(where: { Self.pod($0, uses: claim) }) else { continue }
            changed = dropFinalizer(Self.claimProtection, from: claim, resource: "persistentvolumeclaims") || changed
        }
        for volume in (objects["persistentvolumes"] ?? [:]).values
        where volume.deletionTimestamp != nil && volume.finalizers.contains(Self.volumeProtection) && volume[path: "status", "phase"] != "Bound" {
            changed = dropFinalizer(Self.volumeProtection, from: volume, resource: "persistentvolumes") || changed
        }
        return changed
    }

    /// Whether a deleting claim waits for pods: only then does a pod's change call for a protection pass.
    var storageAwaitsPods: Bool {
        objects["persistentvolumeclaims"]?.values.contains { $0.deletionTimestamp != nil && $0.finalizers.contains(Self.claimProtection) } ?? false
    }

    /// podUsesPVC (pkg/controller/volume/pvcprotection): a scheduled pod naming the claim in a volume, whatever its
    /// phase, or a generic ephemeral volume's claim (`<pod>-<volume>`, controlled by the pod) of a pod not shut down.
    static func pod(_ pod: JSONValue, uses claim: JSONValue) -> Bool {
        guard !(pod[path: "spec", "nodeName"]?.stringValue ?? "").isEmpty else { return false }
        let phase = pod[path: "status", "phase"]?.stringValue
        let forceDeleted = pod.deletionTimestamp != nil && pod[path: "metadata", "deletionGracePeriodSeconds"]?.intValue == 0
        let shutDown = forceDeleted || phase == "Succeeded" || phase == "Failed"
        for volume in pod[path: "spec", "volumes"]?.arrayValue ?? [] {
            if let name = volume["persistentVolumeClaim"]?["claimName"]?.stringValue, name == claim.name { return true }
            if !shutDown, volume["ephemeral"] != nil, "\(pod.name ?? "")-\(volume["name"]?.stringValue ?? "")" == claim.name,
               claim.ownerReferences.contains(where: { $0.uid == pod.uid && $0.controller == true }) { return true }
        }
        return false
    }

    private func dropFinalizer(_ finalizer: String, from obj: JSONValue, resource: String) -> Bool {
        guard let info = infoFor(resource) else { return false }
        var o = obj
        o.finalizers = obj.finalizers.filter { $0 != finalizer }
        return (try? update(info, o, scope: .all, dryRun: false)) != nil
    }
}
