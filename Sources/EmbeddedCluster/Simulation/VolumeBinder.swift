import KubeCore

/// kube-controller-manager's PersistentVolume controller with a dynamic provisioner, simulated
/// (https://kubernetes.io/docs/concepts/storage/persistent-volumes/#lifecycle-of-a-volume-and-claim): a pending
/// claim of a class with a provisioner gets a volume `pvc-<claim uid>` of its requested size and both are bound,
/// at once for `Immediate` classes and once the scheduler picked a node (the claim's `selected-node` annotation)
/// for `WaitForFirstConsumer` ones; a claim naming an existing volume binds to it; a volume whose claim is gone
/// is Released, and deleted if its reclaim policy is Delete; a bound claim of an expandable class that asks for
/// more gets it. Pure: objects in, writes out.
enum VolumeBinder {
    static let provisioner = "sim.gantry.dev/disk"
    static let selectedNode = "volume.kubernetes.io/selected-node"

    enum Write: Equatable {
        case createVolume(JSONValue)
        case updateVolume(JSONValue)
        case deleteVolume(String)
        case updateClaim(JSONValue)
    }

    static func plan(claims: [JSONValue], volumes: [JSONValue], classes: [JSONValue]) -> [Write] {
        var writes: [Write] = []
        var volumesByName: [String: JSONValue] = [:]
        for v in volumes { if let n = v.name { volumesByName[n] = v } }
        var classesByName: [String: JSONValue] = [:]
        for c in classes { if let n = c.name { classesByName[n] = c } }
        var claimsByKey: [String: JSONValue] = [:]
        for c in claims { claimsByKey["\(c.namespace ?? "")/\(c.name ?? "")"] = c }

        for claim in claims where claim.deletionTimestamp == nil {
            let className = claim[path: "spec", "storageClassName"]?.stringValue ?? ""
            let sc = classesByName[className]
            if claim[path: "status", "phase"] == "Bound" {
                if let grown = expand(claim, volume: volumesByName[claim[path: "spec", "volumeName"]?.stringValue ?? ""], sc: sc) {
                    writes += grown
                }
                continue
            }
            if let wanted = claim[path: "spec", "volumeName"]?.stringValue, !wanted.isEmpty {
                // Pre-bound (or provisioned before): bind to the named volume if it is free or already ours.
                guard let volume = volumesByName[wanted] else { continue }
                let ref = volume[path: "spec", "claimRef"]
                guard ref == nil || ref?["uid"]?.stringValue == claim.uid else { continue }
                if ref == nil || volume[path: "status", "phase"] != "Bound" { writes.append(.updateVolume(boundVolume(volume, to: claim))) }
                writes.append(.updateClaim(boundClaim(claim, to: volume, provisioner: nil)))
                continue
            }
            guard let sc, let provisioner = sc["provisioner"]?.stringValue, provisioner != "kubernetes.io/no-provisioner" else { continue }
            if sc["volumeBindingMode"] == "WaitForFirstConsumer" && claim.annotations[selectedNode] == nil { continue }
            let name = "pvc-" + (claim.uid ?? "")
            let volume = volumesByName[name] ?? newVolume(name, for: claim, sc: sc, provisioner: provisioner)
            if volumesByName[name] == nil { writes.append(.createVolume(volume)) }
            writes.append(.updateClaim(boundClaim(claim, to: volume, provisioner: provisioner)))
        }

        // Deleting volumes too: one deleted while bound is Released once its claim is gone, so pv-protection frees it.
        for volume in volumes {
            guard let ref = volume[path: "spec", "claimRef"], let name = volume.name else { continue }
            let claim = claimsByKey["\(ref["namespace"]?.stringValue ?? "")/\(ref["name"]?.stringValue ?? "")"]
            if let claim, ref["uid"] == nil || claim.uid == ref["uid"]?.stringValue { continue }
            // The claim is gone: Released, then deleted under the Delete policy (so pv-protection lets it go).
            if volume[path: "status", "phase"] != "Released" {
                var released = volume
                released[path: "status", "phase"] = "Released"
                writes.append(.updateVolume(released))
            }
            if volume[path: "spec", "persistentVolumeReclaimPolicy"] == "Delete", volume.deletionTimestamp == nil { writes.append(.deleteVolume(name)) }
        }
        return writes
    }

    static func newVolume(_ name: String, for claim: JSONValue, sc: JSONValue, provisioner: String) -> JSONValue {
        let spec: JSONValue = [
            "capacity": ["storage": claim[path: "spec", "resources", "requests", "storage"] ?? "1Gi"],
            "accessModes": claim[path: "spec", "accessModes"] ?? ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": sc["reclaimPolicy"] ?? "Delete",
            "storageClassName": sc["metadata"]?["name"] ?? "",
            "volumeMode": claim[path: "spec", "volumeMode"] ?? "Filesystem",
            // Network-attached, as a cloud disk: any node can mount it, so a pod replaced after losing its node
            // finds its volume elsewhere.
            "csi": ["driver": .string(provisioner), "volumeHandle": .string(name), "fsType": "ext4"],
        ]
        let volume: JSONValue = ["apiVersion": "v1", "kind": "PersistentVolume",
                                 "metadata": ["name": .string(name), "annotations": ["pv.kubernetes.io/provisioned-by": .string(provisioner)]],
                                 "spec": spec, "status": ["phase": "Pending"]]
        return boundVolume(volume, to: claim)
    }

    static func boundVolume(_ volume: JSONValue, to claim: JSONValue) -> JSONValue {
        var v = volume
        v[path: "spec", "claimRef"] = ["apiVersion": "v1", "kind": "PersistentVolumeClaim", "namespace": .string(claim.namespace ?? ""),
                                       "name": .string(claim.name ?? ""), "uid": .string(claim.uid ?? ""),
                                       "resourceVersion": .string(claim.resourceVersion ?? "")]
        v[path: "status", "phase"] = "Bound"
        return v
    }

    static func boundClaim(_ claim: JSONValue, to volume: JSONValue, provisioner: String?) -> JSONValue {
        var c = claim
        c[path: "spec", "volumeName"] = volume["metadata"]?["name"]
        var annotations = c.annotations
        annotations["pv.kubernetes.io/bind-completed"] = "yes"
        annotations["pv.kubernetes.io/bound-by-controller"] = "yes"
        if let provisioner {
            annotations["volume.kubernetes.io/storage-provisioner"] = provisioner
            annotations["volume.beta.kubernetes.io/storage-provisioner"] = provisioner
        }
        c.annotations = annotations
        c["status"] = ["phase": "Bound", "accessModes": volume[path: "spec", "accessModes"] ?? [],
                       "capacity": volume[path: "spec", "capacity"] ?? .emptyObject]
        return c
    }

    /// A bound claim asking for more than its volume holds, in a class that allows expansion: both grow.
    static func expand(_ claim: JSONValue, volume: JSONValue?, sc: JSONValue?) -> [Write]? {
        guard let volume, sc?["allowVolumeExpansion"] == true,
              let request = claim[path: "spec", "resources", "requests", "storage"],
              let wanted = ResourceQuantity.from(request),
              let held = ResourceQuantity.from(volume[path: "spec", "capacity", "storage"]), held < wanted else { return nil }
        var v = volume, c = claim
        v[path: "spec", "capacity", "storage"] = request
        c[path: "status", "capacity", "storage"] = request
        return [.updateVolume(v), .updateClaim(c)]
    }
}
