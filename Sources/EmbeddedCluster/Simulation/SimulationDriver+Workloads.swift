import Foundation
import KubeCore

/// Deployment and ReplicaSet passes: the decisions are DeploymentSimulator's and ReplicaSetSimulator's.
extension SimulationDriver {
    func runDeployments() async {
        guard let deployments = await read("deployments.apps"), !deployments.isEmpty,
              let replicaSets = await read("replicasets.apps") else { return }
        let now = clock.now
        for d in deployments where d.deletionTimestamp == nil {
            let plan = DeploymentSimulator.plan(deployment: d, replicaSets: replicaSets, now: now)
            if let rs = plan.create {
                await attempt("create replicaset for deployment \(d.objectKey)") { try await self.backend.create("replicasets.apps", rs) }
            }
            for rs in plan.update {
                await attempt("scale replicaset \(rs.objectKey)") { try await self.backend.update("replicasets.apps", rs) }
            }
            for key in plan.delete {
                await attempt("delete old replicaset \(key)") {
                    try await self.backend.delete("replicasets.apps", namespace: key.namespace, name: key.name, gracePeriodSeconds: nil)
                }
            }
            var updated = d
            updated["status"] = plan.status
            updated[path: "metadata", "annotations", DeploymentSimulator.revisionAnnotation] = .string(plan.revision)
            if updated != d {
                let write = updated
                await attempt("update status of deployment \(d.objectKey)") { try await self.backend.update("deployments.apps", write) }
            }
        }
    }

    func runReplicaSets(pods: [JSONValue]) async {
        guard let replicaSets = await read("replicasets.apps"), !replicaSets.isEmpty else { return }
        let now = clock.now
        for rs in replicaSets where rs.deletionTimestamp == nil {
            let plan = ReplicaSetSimulator.plan(replicaSet: rs, pods: pods, now: now)
            for pod in plan.create {
                await attempt("create pod for replicaset \(rs.objectKey)") { try await self.backend.create("pods", pod) }
            }
            for key in plan.delete {
                await attempt("delete pod \(key) of replicaset \(rs.objectKey)") {
                    try await self.backend.delete("pods", namespace: key.namespace, name: key.name, gracePeriodSeconds: nil)
                }
            }
            var status = rs["status"] ?? [:]
            for (k, v) in plan.status.objectValue ?? [:] { status[k] = v }
            if status != (rs["status"] ?? [:]) {
                var updated = rs
                updated["status"] = status
                let write = updated
                await attempt("update status of replicaset \(rs.objectKey)") { try await self.backend.update("replicasets.apps", write) }
            }
        }
    }
}
