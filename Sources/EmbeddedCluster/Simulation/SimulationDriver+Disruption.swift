import Foundation
import KubeCore

/// Node failures on demand (tests, demos, fault injection) and the controllers that clean up after them.
extension SimulationDriver {
    /// A spot instance is reclaimed: graceful node shutdown fails every pod on it, then the cloud removes the
    /// node and PodGC deletes the pods (see `NodeDisruption`).
    func preemptSpotNode(_ name: String) async {
        let now = clock.now
        guard let pods = await read("pods") else { return }
        for pod in pods where pod[path: "spec", "nodeName"]?.stringValue == name {
            let namespace = pod.namespace ?? "default", podName = pod.name ?? ""
            for c in Self.allContainers(pod) {
                await backend.endLog(namespace: namespace, pod: podName, container: c["name"]?.stringValue ?? "")
            }
            let status = NodeUsage.isTerminal(pod) ? nil : NodeDisruption.shutdownStatus(pod: pod, now: now)
            await removePod(pod, status: status, reason: "node \(name) preempted")
        }
        await attempt("delete preempted node \(name)") {
            try await self.backend.delete("nodes", namespace: nil, name: name, gracePeriodSeconds: 0)
        }
        lostNodes[name] = nil
    }

    /// A node stops heartbeating: it turns NotReady/Unknown with unreachable taints, its kubelet stops writing,
    /// and its pods are evicted once their toleration for `node.kubernetes.io/unreachable` runs out.
    func loseNode(_ name: String) async {
        let now = clock.now
        guard let node = await backend.get("nodes", namespace: nil, name: name) else { return }
        lostNodes[name] = now
        let lost = NodeDisruption.lostNode(node, now: now)
        await attempt("mark node \(name) lost") { try await self.backend.update("nodes", lost) }
    }

    /// The node heartbeats again: conditions back to healthy, unreachable taints removed, kubelet resumes.
    func recoverNode(_ name: String) async {
        lostNodes[name] = nil
        lostByAnnotation.remove(name)
        guard let node = await backend.get("nodes", namespace: nil, name: name) else { return }
        let recovered = NodeDisruption.recoveredNode(node, now: clock.now)
        await attempt("mark node \(name) recovered") { try await self.backend.update("nodes", recovered) }
    }

    func evictFromLostNodes(pods: [JSONValue], now: Date) async {
        guard !lostNodes.isEmpty else { return }
        for pod in pods {
            guard let node = pod[path: "spec", "nodeName"]?.stringValue, let since = lostNodes[node],
                  let delay = NodeDisruption.evictionDelay(pod: pod), now.timeIntervalSince(since) >= delay
            else { continue }
            await removePod(pod, status: NodeDisruption.taintEvictionStatus(pod: pod, now: now), reason: "evict from unreachable node \(node)")
        }
    }

    /// `kubectl annotate node <name> sim.gantry.dev/disrupt=preempt` (spot reclaim) or `=lose` (no heartbeat)
    /// triggers the failure from outside, e.g. in an end-to-end test or a demo.
    static let disruptAnnotation = "sim.gantry.dev/disrupt"

    /// Removing the annotation from a node lost through it brings the node back (Ready, taints lifted).
    func applyRequestedDisruptions(nodes: [JSONValue]) async -> Bool {
        var acted = false
        for node in nodes {
            guard let name = node.name else { continue }
            guard let request = node.annotations[Self.disruptAnnotation] else {
                if lostByAnnotation.contains(name) {
                    await recoverNode(name)
                    acted = true
                }
                continue
            }
            switch request {
            case "preempt", "spot":
                await preemptSpotNode(name)
                acted = true
            case "lose", "lost":
                if lostNodes[name] == nil {
                    await loseNode(name)
                    lostByAnnotation.insert(name)
                    acted = true
                }
            default:
                note("node \(name): unknown \(Self.disruptAnnotation) value \"\(request)\" (use preempt or lose)")
            }
        }
        return acted
    }

    /// PodGC: pods bound to a node that no longer exists are failed and deleted.
    func collectOrphans(nodes: [JSONValue], pods: [JSONValue], now: Date) async {
        let names = Set(nodes.compactMap(\.name))
        for pod in pods {
            guard let node = pod[path: "spec", "nodeName"]?.stringValue, !node.isEmpty, !names.contains(node) else { continue }
            let status = NodeUsage.isTerminal(pod) ? nil : NodeDisruption.podGCStatus(pod: pod, now: now)
            await removePod(pod, status: status, reason: "PodGC (node \(node) is gone)")
        }
    }
}
