import Foundation
import KubeCore

/// The volume binder's pass and the scheduler's volume gate (VolumeBinder.swift, VolumeScheduling.swift).
extension SimulationDriver {
    func runVolumes() async {
        guard let claims = await read("persistentvolumeclaims"), let volumes = await read("persistentvolumes"),
              let classes = await read("storageclasses.storage.k8s.io") else { return }
        for write in VolumeBinder.plan(claims: claims, volumes: volumes, classes: classes) {
            switch write {
            case .createVolume(let v):
                await attempt("provision volume \(v.name ?? "")") { try await self.backend.create("persistentvolumes", v) }
            case .updateVolume(let v):
                await attempt("update volume \(v.name ?? "")") { try await self.backend.update("persistentvolumes", v) }
            case .deleteVolume(let name):
                await attempt("delete volume \(name)") {
                    try await self.backend.delete("persistentvolumes", namespace: nil, name: name, gracePeriodSeconds: 0)
                }
            case .updateClaim(let c):
                await attempt("bind claim \(c.objectKey)") { try await self.backend.update("persistentvolumeclaims", c) }
            }
        }
    }

    /// The pending pods the scheduler may place (pinned to their volumes' node), and for each the claims to
    /// provision on the node it gets; pods whose claims forbid scheduling are marked Unschedulable here.
    func gateOnVolumes(_ pending: [JSONValue], nodeCount: Int, stamp: String) async -> (pods: [JSONValue], provision: [ObjectKey: [JSONValue]]) {
        guard pending.contains(where: { !VolumeScheduling.claimNames($0).isEmpty }) else { return (pending, [:]) }
        guard let claimList = await read("persistentvolumeclaims"), let volumeList = await read("persistentvolumes"),
              let classList = await read("storageclasses.storage.k8s.io") else {
            return (pending.filter { VolumeScheduling.claimNames($0).isEmpty }, [:])
        }
        var claims: [String: JSONValue] = [:], volumes: [String: JSONValue] = [:], classes: [String: JSONValue] = [:]
        for c in claimList { claims["\(c.namespace ?? "")/\(c.name ?? "")"] = c }
        for v in volumeList { if let n = v.name { volumes[n] = v } }
        for c in classList { if let n = c.name { classes[n] = c } }
        var pods: [JSONValue] = []
        var provision: [ObjectKey: [JSONValue]] = [:]
        for pod in pending {
            switch VolumeScheduling.verdict(pod: pod, claims: claims, volumes: volumes, classes: classes) {
            case .ready(let node):
                var p = pod
                if let node { p[path: "spec", "nodeSelector", "kubernetes.io/hostname"] = .string(node) }
                pods.append(p)
            case .provision(let unbound):
                pods.append(pod)
                provision[pod.objectKey] = unbound
            case .wait:
                continue
            case .unschedulable(let why):
                let message = VolumeScheduling.message(why, nodeCount: nodeCount)
                let previous = pod[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "PodScheduled" }?["message"]?.stringValue
                await setScheduled(pod, Condition(type: "PodScheduled", status: .false, reason: "Unschedulable", message: message), stamp: stamp)
                if previous != message { await record([PodEvents.failedScheduling(message: message)], pod: pod, node: nil) }
            }
        }
        return (pods, provision)
    }

    /// The scheduler's choice for a pod's WaitForFirstConsumer claims, for the provisioner.
    func selectNode(_ node: String, for claims: [JSONValue]) async {
        for claim in claims {
            var c = claim
            c.annotations[VolumeBinder.selectedNode] = node
            let write = c
            await attempt("select node \(node) for claim \(claim.objectKey)") { try await self.backend.update("persistentvolumeclaims", write) }
        }
    }
}
