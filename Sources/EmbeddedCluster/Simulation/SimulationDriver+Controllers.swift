import Foundation
import KubeCore

/// Scheduler, DaemonSet and Endpoints passes.
extension SimulationDriver {
    /// Binds what fits and marks the rest Unschedulable; true when something was bound (pods must be re-read).
    func schedule(nodes: [JSONValue], pods: [JSONValue], now: Date) async -> Bool {
        let stamp = Timestamp.format(now)
        var pending: [JSONValue] = []
        var bound: [JSONValue] = []
        for pod in pods {
            if let node = pod[path: "spec", "nodeName"]?.stringValue, !node.isEmpty { bound.append(pod); continue }
            guard pod.deletionTimestamp == nil, !NodeUsage.isTerminal(pod) else { continue }
            // Pods for another scheduler are not ours, as with kube-scheduler's `schedulerName` filter.
            let scheduler = pod[path: "spec", "schedulerName"]?.stringValue ?? "default-scheduler"
            guard scheduler == "default-scheduler" else { continue }
            if !(pod[path: "spec", "schedulingGates"]?.arrayValue ?? []).isEmpty {
                await setScheduled(pod, Condition(type: "PodScheduled", status: .false, reason: "SchedulingGated",
                                                  message: "Scheduling is blocked due to non-empty scheduling gates"), stamp: stamp)
                continue
            }
            pending.append(pod)
        }
        guard !pending.isEmpty else { return false }
        let gate = await gateOnVolumes(pending, nodeCount: nodes.count, stamp: stamp)
        let requests = requestsByUID(pods)
        let result = Scheduler.schedule(pending: gate.pods, nodes: nodes, bound: bound) { pod in
            pod.uid.flatMap { requests[$0] } ?? PodRequests.of(pod)
        }
        var byKey: [ObjectKey: JSONValue] = [:]
        for p in pending { byKey[p.objectKey] = p }
        for binding in result.bindings {
            guard var pod = byKey[binding.pod] else { continue }
            if let claims = gate.provision[binding.pod] { await selectNode(binding.node, for: claims); continue }
            pod[path: "spec", "nodeName"] = .string(binding.node)
            var conditions = (pod[path: "status", "conditions"]?.arrayValue ?? []).compactMap(KubeletSimulator.condition)
            conditions.set(Condition(type: "PodScheduled", status: .true, reason: "", message: ""), now: stamp)
            pod[path: "status", "conditions"] = .array(conditions.map(KubeletSimulator.json))
            if pod[path: "status", "phase"] == nil { pod[path: "status", "phase"] = "Pending" }
            let bind = pod
            if await attempt("bind pod \(binding.pod) to \(binding.node)", { try await self.backend.update("pods", bind) }) {
                await record([PodEvents.scheduled(pod: pod, node: binding.node)], pod: pod, node: nil)
            }
        }
        for failure in result.unschedulable {
            guard let pod = byKey[failure.pod] else { continue }
            let previous = pod[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "PodScheduled" }?["message"]?.stringValue
            await setScheduled(pod, Condition(type: "PodScheduled", status: .false, reason: "Unschedulable", message: failure.message), stamp: stamp)
            // One FailedScheduling per distinct reason, not one per tick.
            if previous != failure.message { await record([PodEvents.failedScheduling(message: failure.message)], pod: pod, node: nil) }
        }
        return !result.bindings.isEmpty
    }

    /// Every pod's requests, parsed once per pod: the embedded cluster serves no in-place resize, so a pod's
    /// requests never change, and parsing every bound pod's quantities on every pass cost more than scheduling.
    func requestsByUID(_ pods: [JSONValue]) -> [String: ResourceList] {
        var fresh: [String: ResourceList] = [:]
        for pod in pods {
            guard let uid = pod.uid else { continue }
            fresh[uid] = podRequests[uid] ?? PodRequests.of(pod)
        }
        podRequests = fresh
        return fresh
    }

    func setScheduled(_ pod: JSONValue, _ condition: Condition, stamp: String) async {
        var conditions = (pod[path: "status", "conditions"]?.arrayValue ?? []).compactMap(KubeletSimulator.condition)
        conditions.set(condition, now: stamp)
        var updated = pod
        updated[path: "status", "conditions"] = .array(conditions.map(KubeletSimulator.json))
        if updated[path: "status", "phase"] == nil { updated[path: "status", "phase"] = "Pending" }
        guard updated != pod else { return }
        let write = updated
        await attempt("mark pod \(pod.objectKey) \(condition.reason)") { try await self.backend.update("pods", write) }
    }

    func runDaemonSets(nodes: [JSONValue], pods: [JSONValue], now: Date) async {
        guard let daemonSets = await read("daemonsets.apps") else { return }
        for ds in daemonSets where ds.deletionTimestamp == nil {
            let plan = DaemonSetSimulator.plan(daemonSet: ds, nodes: nodes, pods: pods, now: now)
            for pod in plan.create {
                await attempt("create daemon pod \(pod.objectKey)") { try await self.backend.create("pods", pod) }
            }
            for key in plan.delete {
                await attempt("delete daemon pod \(key)") {
                    try await self.backend.delete("pods", namespace: key.namespace, name: key.name, gracePeriodSeconds: nil)
                }
            }
            var status = ds["status"] ?? [:]
            for (k, v) in plan.status.objectValue ?? [:] { status[k] = v }
            if status != (ds["status"] ?? [:]) {
                var updated = ds
                updated["status"] = status
                let write = updated
                await attempt("update status of daemonset \(ds.objectKey)") { try await self.backend.update("daemonsets.apps", write) }
            }
        }
    }

    func runEndpoints(pods: [JSONValue]) async {
        guard let services = await read("services"), let existing = await read("endpoints") else { return }
        var current: [ObjectKey: JSONValue] = [:]
        for e in existing { current[e.objectKey] = e }
        var live: Set<ObjectKey> = []
        let index = PodLabelIndex(pods)
        for service in services where service.deletionTimestamp == nil {
            guard let desired = EndpointsSimulator.endpoints(service: service, pods: index) else { continue }
            let key = desired.objectKey
            live.insert(key)
            managedEndpoints.insert(key)
            if var have = current[key] {
                guard have["subsets"] != desired["subsets"] || have.labels != desired.labels else { continue }
                have["subsets"] = desired["subsets"]
                have.labels = desired.labels
                let write = have
                await attempt("update endpoints \(key)") { try await self.backend.update("endpoints", write) }
            } else {
                await attempt("create endpoints \(key)") { try await self.backend.create("endpoints", desired) }
            }
        }
        // The real controller deletes the Endpoints of a deleted Service.
        for key in managedEndpoints.subtracting(live) {
            managedEndpoints.remove(key)
            guard current[key] != nil else { continue }
            await attempt("delete endpoints \(key)") {
                try await self.backend.delete("endpoints", namespace: key.namespace, name: key.name, gracePeriodSeconds: nil)
            }
        }
    }

    /// The disruption controller: each PodDisruptionBudget's status from its pods.
    func runDisruptionBudgets(pods: [JSONValue]) async {
        guard let budgets = await read("poddisruptionbudgets.policy"), !budgets.isEmpty else { return }
        let now = Timestamp.format(clock.now)
        for budget in budgets where budget.deletionTimestamp == nil {
            let status = DisruptionBudgetSimulator.status(budget: budget, pods: pods, now: now)
            guard status != budget["status"] else { continue }
            var updated = budget
            updated["status"] = status
            let write = updated, key = budget.objectKey
            await attempt("update poddisruptionbudget \(key) status") { try await self.backend.update("poddisruptionbudgets.policy", write) }
        }
    }

    func runEndpointSlices(pods: [JSONValue]) async {
        guard let services = await read("services"), let slices = await read("endpointslices.discovery.k8s.io") else { return }
        // Slices by their Service, grouped once: a filter of every slice per Service was quadratic.
        var managed: [ObjectKey: [JSONValue]] = [:]
        for slice in slices where slice.deletionTimestamp == nil {
            let labels = slice.labels
            guard labels[EndpointSliceSimulator.managedByLabel] == EndpointSliceSimulator.managedBy,
                  let service = labels[EndpointSliceSimulator.serviceNameLabel] else { continue }
            managed[ObjectKey(namespace: slice.namespace, name: service), default: []].append(slice)
        }
        let index = PodLabelIndex(pods)
        for service in services where service.deletionTimestamp == nil {
            guard let desired = EndpointSliceSimulator.desired(service: service, pods: index) else { continue }
            let existing = managed[service.objectKey] ?? []
            let plan = EndpointSliceSimulator.reconcile(service: service, desired: desired, existing: existing)
            for slice in plan.create {
                await attempt("create endpointslice for \(service.objectKey)") { try await self.backend.create("endpointslices.discovery.k8s.io", slice) }
            }
            for slice in plan.update {
                await attempt("update endpointslice \(slice.objectKey)") { try await self.backend.update("endpointslices.discovery.k8s.io", slice) }
            }
            for key in plan.delete {
                await attempt("delete endpointslice \(key)") {
                    try await self.backend.delete("endpointslices.discovery.k8s.io", namespace: key.namespace, name: key.name, gracePeriodSeconds: nil)
                }
            }
        }
        // A deleted Service's slices go through garbage collection (they are owned by it).
    }
}
