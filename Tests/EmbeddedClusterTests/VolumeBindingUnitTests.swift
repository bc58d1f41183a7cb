import KubeCore
import Testing
@testable import EmbeddedCluster

/// The pure parts of volume binding: the binder's plan and the scheduler's volume verdict.
struct VolumeBindingUnitTests {
    static let wffc: JSONValue = ["metadata": ["name": "standard"], "provisioner": .string(VolumeBinder.provisioner),
                                  "reclaimPolicy": "Delete", "volumeBindingMode": "WaitForFirstConsumer"]
    static func claim(_ name: String, annotations: [String: String] = [:], phase: String = "Pending") -> JSONValue {
        var c: JSONValue = ["metadata": ["name": .string(name), "namespace": "default", "uid": .string("u-" + name)],
                            "spec": ["storageClassName": "standard", "accessModes": ["ReadWriteOnce"],
                                     "resources": ["requests": ["storage": "1Gi"]]],
                            "status": ["phase": .string(phase)]]
        c.annotations = annotations
        return c
    }

    @Test func waitForFirstConsumerProvisionsOnlyOnceANodeIsSelected() {
        #expect(VolumeBinder.plan(claims: [Self.claim("a")], volumes: [], classes: [Self.wffc]).isEmpty)
        let writes = VolumeBinder.plan(claims: [Self.claim("a", annotations: [VolumeBinder.selectedNode: "n1"])], volumes: [], classes: [Self.wffc])
        guard writes.count == 2, case .createVolume(let pv) = writes[0], case .updateClaim(let pvc) = writes[1] else {
            Issue.record("\(writes)")
            return
        }
        #expect(pv.name == "pvc-u-a" && pv[path: "spec", "claimRef", "uid"] == "u-a" && pv[path: "spec", "capacity", "storage"] == "1Gi")
        #expect(pvc[path: "spec", "volumeName"] == "pvc-u-a" && pvc[path: "status", "phase"] == "Bound")
    }

    @Test func aVolumeWhoseClaimIsGoneIsReclaimed() {
        var pv = VolumeBinder.newVolume("pvc-u-a", for: Self.claim("a"), sc: Self.wffc, provisioner: VolumeBinder.provisioner)
        var released = pv
        released[path: "status", "phase"] = "Released"
        // Released first, so the pv-protection controller lets the deleted volume go.
        #expect(VolumeBinder.plan(claims: [], volumes: [pv], classes: [Self.wffc]) == [.updateVolume(released), .deleteVolume("pvc-u-a")])
        #expect(VolumeBinder.plan(claims: [], volumes: [released], classes: [Self.wffc]) == [.deleteVolume("pvc-u-a")])
        pv[path: "spec", "persistentVolumeReclaimPolicy"] = "Retain"
        guard case .updateVolume(let retained)? = VolumeBinder.plan(claims: [], volumes: [pv], classes: [Self.wffc]).first else {
            Issue.record("a retained volume is released")
            return
        }
        #expect(retained[path: "status", "phase"] == "Released")
    }

    @Test func theSchedulerWaitsOnClaims() {
        let pod: JSONValue = ["metadata": ["name": "p", "namespace": "default"],
                              "spec": ["volumes": [["name": "d", "persistentVolumeClaim": ["claimName": "a"]]]]]
        let classes = ["standard": Self.wffc]
        #expect(VolumeScheduling.verdict(pod: pod, claims: [:], volumes: [:], classes: classes) == .unschedulable(#"persistentvolumeclaim "a" not found"#))
        #expect(VolumeScheduling.verdict(pod: pod, claims: ["default/a": Self.claim("a")], volumes: [:], classes: classes) == .provision([Self.claim("a")]))
        #expect(VolumeScheduling.verdict(pod: pod, claims: ["default/a": Self.claim("a", annotations: [VolumeBinder.selectedNode: "n1"])],
                                         volumes: [:], classes: classes) == .wait)
        #expect(VolumeScheduling.verdict(pod: pod, claims: ["default/a": Self.claim("a")], volumes: [:], classes: [:])
                == .unschedulable("pod has unbound immediate PersistentVolumeClaims"))
        var bound = Self.claim("a", phase: "Bound")
        bound[path: "spec", "volumeName"] = "v"
        let local: JSONValue = ["metadata": ["name": "v"], "spec": ["nodeAffinity": ["required": ["nodeSelectorTerms": [["matchExpressions": [
            ["key": "kubernetes.io/hostname", "operator": "In", "values": ["n2"]]]]]]]]]
        #expect(VolumeScheduling.verdict(pod: pod, claims: ["default/a": bound], volumes: ["v": local], classes: classes) == .ready(pinnedTo: "n2"))
    }
}
