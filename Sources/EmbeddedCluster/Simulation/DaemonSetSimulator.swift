import Foundation
import KubeCore

/// The DaemonSet controller, pure: one pod per eligible node, and the status counts.
///
/// As the real controller does since 1.12 (pkg/controller/daemon), new pods are not bound directly: they carry a
/// required node affinity on `metadata.name` for their node and the scheduler binds them; the controller adds
/// the tolerations of `util.AddOrUpdateDaemonPodTolerations` so daemons survive not-ready, unreachable,
/// pressure and cordoned nodes. A node is eligible when the template's nodeSelector/affinity match and every
/// NoSchedule/NoExecute taint is tolerated. Rolling updates delete outdated pods that are not available at once
/// and replace at most `maxUnavailable` (default 1) available ones at a time; `OnDelete` never replaces.
/// Status as `updateDaemonSetStatus` counts it, per node that should run the daemon: current (a pod targets the
/// node, bound or not yet), ready, available (ready for `minReadySeconds`) and updated (of the oldest pod there);
/// misscheduled counts nodes that should not run it but have one.
enum DaemonSetSimulator {
    struct Plan: Sendable, Hashable {
        var create: [JSONValue] = []
        /// Pods to delete (namespace/name).
        var delete: [ObjectKey] = []
        var status: JSONValue = [:]
    }

    static let autoTolerations: [JSONValue] = [
        ["key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"],
        ["key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"],
        ["key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"],
    ]

    /// `pods` may be all pods; only those controlled by this DaemonSet (by uid) are considered.
    static func plan(daemonSet ds: JSONValue, nodes: [JSONValue], pods allPods: [JSONValue], now: Date = Date()) -> Plan {
        let uid = ds.uid ?? ""
        let pods = allPods.filter { $0.controllerReference?.uid == uid && $0.namespace == ds.namespace }
        let template = ds[path: "spec", "template"] ?? [:]
        let hash = templateHash(template)
        let generation = ds.generation ?? 1
        var probe = template
        probe[path: "spec", "tolerations"] = .array((template[path: "spec", "tolerations"]?.arrayValue ?? []) + autoTolerations)

        var plan = Plan()
        var byNode: [String: [JSONValue]] = [:]
        for p in pods where p.deletionTimestamp == nil && !NodeUsage.isTerminal(p) {
            byNode[targetNode(p) ?? "", default: []].append(p)
        }
        // Failed pods are replaced, like the real controller does (it deletes them and creates anew).
        for p in pods where p.deletionTimestamp == nil && p[path: "status", "phase"]?.stringValue == "Failed" {
            plan.delete.append(p.objectKey)
        }

        var desired = 0, current = 0, ready = 0, available = 0, updated = 0, misscheduled = 0
        let minReadySeconds = Double(ds[path: "spec", "minReadySeconds"]?.intValue ?? 0)
        var outdatedAvailable: [JSONValue] = []
        var unavailable = 0
        for node in nodes.sorted(by: { ($0.name ?? "") < ($1.name ?? "") }) {
            guard let name = node.name else { continue }
            let eligible = NodeMatching.matchesNodeSelectorAndAffinity(pod: probe, node: node)
                && NodeMatching.untoleratedTaint(pod: probe, taints: (node[path: "spec", "taints"]?.arrayValue ?? []).compactMap(Taint.init(json:))) == nil
            let existing = (byNode.removeValue(forKey: name) ?? []).sorted { ($0.creationTimestamp ?? "", $0.name ?? "") < ($1.creationTimestamp ?? "", $1.name ?? "") }
            guard eligible else {
                if !existing.isEmpty { misscheduled += 1 }
                plan.delete += existing.map(\.objectKey)
                continue
            }
            desired += 1
            guard let pod = existing.first else {
                plan.create.append(newPod(ds: ds, template: template, node: name, hash: hash, generation: generation))
                unavailable += 1
                continue
            }
            plan.delete += existing.dropFirst().map(\.objectKey)
            current += 1
            let isReady = isPodReady(pod)
            let isAvailable = isReady && readySince(pod).map { now.timeIntervalSince($0) >= minReadySeconds } ?? (minReadySeconds == 0)
            if isReady { ready += 1 }
            if isAvailable { available += 1 } else { unavailable += 1 }
            if pod.labels["controller-revision-hash"] == hash {
                updated += 1
            } else if isAvailable {
                outdatedAvailable.append(pod)
            } else if ds[path: "spec", "updateStrategy", "type"]?.stringValue != "OnDelete" {
                plan.delete.append(pod.objectKey)  // an outdated pod that serves nothing goes without using the budget
            }
        }
        // Pods for nodes that no longer exist.
        for (_, orphans) in byNode.sorted(by: { $0.key < $1.key }) { plan.delete += orphans.map(\.objectKey) }

        if ds[path: "spec", "updateStrategy", "type"]?.stringValue != "OnDelete" {
            let maxUnavailable = maxUnavailable(ds, desired: desired)
            let budget = max(0, maxUnavailable - unavailable)
            plan.delete += outdatedAvailable.prefix(budget).map(\.objectKey)
        }

        plan.status = [
            "desiredNumberScheduled": .int(Int64(desired)),
            "currentNumberScheduled": .int(Int64(current)),
            "numberMisscheduled": .int(Int64(misscheduled)),
            "numberReady": .int(Int64(ready)),
            "numberAvailable": .int(Int64(available)),
            "numberUnavailable": .int(Int64(max(0, desired - available))),
            "updatedNumberScheduled": .int(Int64(updated)),
            "observedGeneration": .int(generation),
        ]
        return plan
    }

    /// When the pod's Ready condition last became True.
    static func readySince(_ pod: JSONValue) -> Date? {
        (pod[path: "status", "conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Ready" }?["lastTransitionTime"]?.stringValue
            .flatMap(Timestamp.parse)
    }

    static func isPodReady(_ pod: JSONValue) -> Bool {
        (pod[path: "status", "conditions"]?.arrayValue ?? []).contains {
            $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True"
        }
    }

    /// The node a daemon pod is for: its binding, or the `metadata.name` affinity the controller wrote.
    static func targetNode(_ pod: JSONValue) -> String? {
        if let n = pod[path: "spec", "nodeName"]?.stringValue, !n.isEmpty { return n }
        let terms = pod[path: "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]?.arrayValue ?? []
        for t in terms {
            for f in t["matchFields"]?.arrayValue ?? [] where f["key"]?.stringValue == "metadata.name" {
                if let v = f["values"]?.arrayValue?.first?.stringValue { return v }
            }
        }
        return nil
    }

    static func maxUnavailable(_ ds: JSONValue, desired: Int) -> Int {
        switch ds[path: "spec", "updateStrategy", "rollingUpdate", "maxUnavailable"] {
        case .int(let n): return max(1, Int(n))
        case .string(let s) where s.hasSuffix("%"):
            let pct = Int(s.dropLast()) ?? 0
            return max(1, desired * pct / 100)
        default: return 1
        }
    }

    /// Stands in for `controller-revision-hash`: a short stable hash of the template.
    static func templateHash(_ template: JSONValue) -> String {
        String(FakeDigest.hex(template.serialized(), length: 10).prefix(10))
    }

    static func newPod(ds: JSONValue, template: JSONValue, node: String, hash: String, generation: Int64) -> JSONValue {
        let dsName = ds.name ?? "daemonset"
        var pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": template["metadata"] ?? [:], "spec": template["spec"] ?? [:]]
        pod.name = "\(dsName)-\(FakeDigest.hex(node + "/" + dsName + "/" + hash, length: 5))"
        pod.namespace = ds.namespace
        var labels = pod.labels
        labels["controller-revision-hash"] = hash
        labels["pod-template-generation"] = String(generation)
        pod.labels = labels
        pod.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "DaemonSet", name: dsName, uid: ds.uid ?? "")]
        let term: JSONValue = ["matchFields": [["key": "metadata.name", "operator": "In", "values": [.string(node)]]]]
        pod[path: "spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"] = ["nodeSelectorTerms": [term]]
        var tolerations = pod[path: "spec", "tolerations"]?.arrayValue ?? []
        for t in autoTolerations where !tolerations.contains(t) { tolerations.append(t) }
        pod[path: "spec", "tolerations"] = .array(tolerations)
        return pod
    }
}
