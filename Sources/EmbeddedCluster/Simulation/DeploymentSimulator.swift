import Foundation
import KubeCore

/// The Deployment controller, pure (pkg/controller/deployment): one ReplicaSet per pod template, named
/// `<deployment>-<pod-template-hash>` and controlled by the Deployment, scaled by the strategy; the status
/// counts and the `Available`/`Progressing` conditions `kubectl rollout status` and kstatus read.
///
/// RollingUpdate follows `rolling.go`: the new ReplicaSet grows while all replicas stay within
/// `replicas + maxSurge`; old ones shrink while `replicas - maxUnavailable` stay available, unavailable old
/// replicas first; one of the two per pass, as upstream returns after scaling up. Recreate scales the old
/// ReplicaSets to zero and grows the new one once their pods are gone. Old ReplicaSets without replicas beyond
/// `revisionHistoryLimit` are deleted. Simplified: no proportional scaling of several ReplicaSets mid-rollout
/// (a scale during a rollout resizes the new one only), no adoption of orphans, no `collisionCount`.
enum DeploymentSimulator {
    struct Plan: Sendable, Hashable {
        var create: JSONValue? = nil
        /// ReplicaSets whose spec.replicas or annotations changed.
        var update: [JSONValue] = []
        var delete: [ObjectKey] = []
        /// `deployment.kubernetes.io/revision` of the Deployment (the new ReplicaSet's).
        var revision: String = "1"
        var status: JSONValue = [:]
    }

    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    static func plan(deployment d: JSONValue, replicaSets all: [JSONValue], now: Date) -> Plan {
        let uid = d.uid ?? ""
        let owned = all.filter { $0.controllerReference?.uid == uid && $0.namespace == d.namespace && $0.deletionTimestamp == nil }
        let replicas = Int(d[path: "spec", "replicas"]?.intValue ?? 1)
        let hash = podTemplateHash(d[path: "spec", "template"] ?? [:])
        let (surge, unavailable) = rollingBounds(d, replicas: replicas)
        let paused = d[path: "spec", "paused"]?.boolValue == true
        let recreate = d[path: "spec", "strategy", "type"]?.stringValue == "Recreate"

        var plan = Plan()
        var old = owned.filter { $0.labels["pod-template-hash"] != hash }
            .sorted { (revision($0), $0.creationTimestamp ?? "") < (revision($1), $1.creationTimestamp ?? "") }
        var new = owned.first { $0.labels["pod-template-hash"] == hash }
        let newRevision = new.flatMap { r -> Int? in revision(r) > (old.map(revision).max() ?? 0) ? revision(r) : nil }
            ?? (old.map(revision).max() ?? 0) + 1
        plan.revision = String(newRevision)
        func specReplicas(_ rs: JSONValue) -> Int { Int(rs[path: "spec", "replicas"]?.intValue ?? 0) }
        func status(_ rs: JSONValue, _ key: String) -> Int { Int(rs[path: "status", key]?.intValue ?? 0) }
        var created = false

        if !paused {
            let oldSpec = old.map(specReplicas).reduce(0, +)
            let target: Int
            if recreate {
                target = oldSpec == 0 && old.allSatisfy({ status($0, "replicas") == 0 }) ? replicas : 0
            } else {
                let current = oldSpec + (new.map(specReplicas) ?? 0)
                let room = max(0, replicas + surge - current)
                target = min(replicas, (new.map(specReplicas) ?? 0) + room)
            }
            var scaledUp = false
            if new == nil {
                new = newReplicaSet(d, hash: hash, replicas: target, revision: newRevision, surge: surge)
                plan.create = new
                created = true
                scaledUp = target > 0
            } else if let rs = new {
                let have = specReplicas(rs)
                // Grows towards the target; a scale-down of the Deployment shrinks it at once.
                let wanted = have > replicas ? replicas : recreate ? target : max(have, target)
                scaledUp = wanted > have
                var changed = rs
                changed[path: "spec", "replicas"] = .int(Int64(wanted))
                changed[path: "metadata", "annotations", revisionAnnotation] = .string(String(newRevision))
                changed[path: "metadata", "annotations", "deployment.kubernetes.io/desired-replicas"] = .string(String(replicas))
                changed[path: "metadata", "annotations", "deployment.kubernetes.io/max-replicas"] = .string(String(replicas + surge))
                if changed != rs { plan.update.append(changed); new = changed }
            }
            if recreate {
                for i in old.indices where specReplicas(old[i]) > 0 {
                    old[i][path: "spec", "replicas"] = 0
                    plan.update.append(old[i])
                }
            } else if !scaledUp {
                plan.update += scaleDownOld(&old, new: new, replicas: replicas, maxUnavailable: unavailable)
            }
        }

        // Old ReplicaSets without replicas beyond the history limit, oldest first.
        let limit = Int(d[path: "spec", "revisionHistoryLimit"]?.intValue ?? 10)
        let idle = old.filter { specReplicas($0) == 0 && status($0, "replicas") == 0 }
        plan.delete = idle.prefix(max(0, idle.count - limit)).map(\.objectKey)

        plan.status = deploymentStatus(d, replicaSets: owned, new: new, created: created, replicas: replicas,
                                       maxUnavailable: unavailable, now: now)
        return plan
    }

    /// Old ReplicaSets made smaller (`reconcileOldReplicaSets`): first their unavailable replicas, then available
    /// ones while at least `replicas - maxUnavailable` stay available. Returns the changed ReplicaSets.
    static func scaleDownOld(_ old: inout [JSONValue], new: JSONValue?, replicas: Int, maxUnavailable: Int) -> [JSONValue] {
        func spec(_ rs: JSONValue) -> Int { Int(rs[path: "spec", "replicas"]?.intValue ?? 0) }
        func available(_ rs: JSONValue) -> Int { Int(rs[path: "status", "availableReplicas"]?.intValue ?? 0) }
        let newSpec = new.map(spec) ?? 0, newAvailable = new.map(available) ?? 0
        let all = old.map(spec).reduce(0, +) + newSpec
        let minAvailable = replicas - maxUnavailable
        var budget = all - minAvailable - max(0, newSpec - newAvailable)
        guard budget > 0 else { return [] }
        var changed = Set<Int>()
        for i in old.indices where budget > 0 {  // unhealthy replicas first (`cleanupUnhealthyReplicas`)
            let cut = min(budget, max(0, spec(old[i]) - available(old[i])))
            if cut > 0 { old[i][path: "spec", "replicas"] = .int(Int64(spec(old[i]) - cut)); budget -= cut; changed.insert(i) }
        }
        let availableAll = old.map { min(available($0), spec($0)) }.reduce(0, +) + newAvailable
        var more = min(budget, availableAll - minAvailable)
        for i in old.indices where more > 0 && spec(old[i]) > 0 {
            let cut = min(more, spec(old[i]))
            old[i][path: "spec", "replicas"] = .int(Int64(spec(old[i]) - cut))
            more -= cut
            changed.insert(i)
        }
        return changed.sorted().map { old[$0] }
    }

    /// maxSurge rounds up, maxUnavailable down; both zero means one unavailable (`ResolveFenceposts`).
    static func rollingBounds(_ d: JSONValue, replicas: Int) -> (surge: Int, unavailable: Int) {
        guard d[path: "spec", "strategy", "type"]?.stringValue != "Recreate" else { return (0, replicas) }
        func value(_ key: String, roundUp: Bool) -> Int {
            switch d[path: "spec", "strategy", "rollingUpdate", key] {
            case .int(let n): return Int(n)
            case .string(let s) where s.hasSuffix("%"):
                let pct = Int(s.dropLast()) ?? 25
                return roundUp ? (replicas * pct + 99) / 100 : replicas * pct / 100
            case .string(let s): return Int(s) ?? 0
            default: return roundUp ? (replicas * 25 + 99) / 100 : replicas * 25 / 100
            }
        }
        let surge = value("maxSurge", roundUp: true), unavailable = value("maxUnavailable", roundUp: false)
        return (surge, surge == 0 && unavailable == 0 ? 1 : unavailable)
    }

    static func revision(_ rs: JSONValue) -> Int { Int(rs[path: "metadata", "annotations", revisionAnnotation]?.stringValue ?? "") ?? 0 }

    /// Upstream hashes the template with FNV-32a and encodes the decimal number with `rand.SafeEncodeString`;
    /// so do we, over our own serialization: stable and shaped like the real label (`5d59d67564`).
    /// Nulls are dropped first: typed clients write absent fields as null (`kubectl rollout undo` sends the old
    /// template with `creationTimestamp: null`), which upstream's typed comparison does not tell from absent.
    static func podTemplateHash(_ template: JSONValue) -> String {
        var t = withoutNulls(template)
        t[path: "metadata", "labels", "pod-template-hash"] = nil
        let value = UInt32(truncatingIfNeeded: FakeDigest.fnv1a(t.serialized(), seed: 0))
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String(String(value).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    static func withoutNulls(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o): return .object(o.filter { $0.value != .null }.mapValues(withoutNulls))
        case .array(let a): return .array(a.map(withoutNulls))
        default: return value
        }
    }

    static func newReplicaSet(_ d: JSONValue, hash: String, replicas: Int, revision: Int, surge: Int) -> JSONValue {
        let name = d.name ?? "deployment"
        var template = d[path: "spec", "template"] ?? [:]
        template[path: "metadata", "labels", "pod-template-hash"] = .string(hash)
        var selector = d[path: "spec", "selector"] ?? [:]
        selector[path: "matchLabels", "pod-template-hash"] = .string(hash)
        var rs: JSONValue = ["apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": [:],
                             "spec": ["replicas": .int(Int64(replicas)), "selector": selector, "template": template,
                                      "minReadySeconds": d[path: "spec", "minReadySeconds"] ?? 0]]
        rs.name = "\(name)-\(hash)"
        rs.namespace = d.namespace
        rs.labels = template.labels
        rs[path: "metadata", "annotations"] = [
            revisionAnnotation: .string(String(revision)),
            "deployment.kubernetes.io/desired-replicas": .string(String(Int(d[path: "spec", "replicas"]?.intValue ?? 1))),
            "deployment.kubernetes.io/max-replicas": .string(String(Int(d[path: "spec", "replicas"]?.intValue ?? 1) + surge)),
        ]
        rs.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: name, uid: d.uid ?? "")]
        return rs
    }
}
