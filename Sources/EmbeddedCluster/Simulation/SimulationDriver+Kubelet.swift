import Foundation
import KubeCore

/// The kubelets: one pass over every pod bound to a live node.
extension SimulationDriver {
    func runKubelets(nodes: [JSONValue], pods: [JSONValue], now: Date) async {
        var nodesByName: [String: JSONValue] = [:]
        for n in nodes { if let name = n.name { nodesByName[name] = n } }
        // Pods that disappeared first: free their IPs and drop their logs before a successor with the same name
        // (a restarted training worker) writes its own.
        let seen = Set(pods.map(Self.podKey))
        for key in runtimes.keys where !seen.contains(key) { await forget(key) }
        // A node that is gone takes its images with it (a node of the same name later starts empty).
        for name in nodeImages.keys where nodesByName[name] == nil { nodeImages[name] = nil }
        for pod in pods {
            guard let nodeName = pod[path: "spec", "nodeName"]?.stringValue, let node = nodesByName[nodeName],
                  lostNodes[nodeName] == nil
            else { continue }
            await runKubelet(pod: pod, key: Self.podKey(pod), node: node, nodeName: nodeName, now: now)
        }
    }

    func runKubelet(pod: JSONValue, key: String, node: JSONValue, nodeName: String, now: Date) async {
        let namespace = pod.namespace ?? "default", name = pod.name ?? ""
        var runtime = runtimes[key] ?? newRuntime(pod: pod, key: key, node: node, nodeName: nodeName, now: now)
        let wasTerminating = runtime.terminationStartedAt != nil
        let script = PodScript.from(pod: pod)
        if pod.deletionTimestamp != nil && runtime.terminationStartedAt == nil {
            runtime.terminationStartedAt = now
            await writeTerminationLines(pod: pod, script: script, now: now)
        }
        runtimes[key] = runtime
        podNames[key] = pod.objectKey
        if case .failure(let error) = script, !configErrorsLogged.contains(key) {
            configErrorsLogged.insert(key)
            for c in Self.allContainers(pod) {
                await backend.appendLog(namespace: namespace, pod: name, container: c["name"]?.stringValue ?? "", line: error.description, at: now)
            }
        }
        let decision = KubeletSimulator.decide(pod: pod, script: script, runtime: runtime, now: now)
        await writeLogs(pod: pod, key: key, script: script, runs: decision.runs, node: nodeName, now: now)
        if decision.remove {
            await removePod(pod, reason: "remove terminated pod")
            return
        }
        let old = pod["status"] ?? [:]
        if Self.differs(decision.status, old) {
            var updated = pod
            updated["status"] = decision.status
            let write = updated
            if await attempt("update status of pod \(namespace)/\(name)", { try await self.backend.update("pods", write) }) {
                let events = PodEvents.kubelet(pod: pod, old: old, new: decision.status, pulled: runtime.pulledImages,
                                               terminating: runtime.terminationStartedAt != nil, wasTerminating: wasTerminating)
                await record(events, pod: pod, node: nodeName)
            }
        }
    }

    /// A pod the kubelet sees for the first time (or again after a restart of the server: then its recorded
    /// start time and IP are kept).
    func newRuntime(pod: JSONValue, key: String, node: JSONValue, nodeName: String, now: Date) -> PodRuntime {
        let accepted = pod[path: "status", "startTime"]?.stringValue.flatMap(Timestamp.parse) ?? now
        let hostIP = node[path: "status", "addresses"]?.arrayValue?.first { $0["type"] == "InternalIP" }?["address"]?.stringValue ?? "10.0.0.1"
        var ip = pod[path: "status", "podIP"]?.stringValue ?? ""
        let index = nodeIndex[nodeName] ?? 0
        var slots = ipSlots[nodeName] ?? [:]
        if let last = ip.split(separator: ".").last.flatMap({ Int($0) }), ip.hasPrefix("10.244."), slots[last] == nil {
            slots[last] = key
        } else if let free = (2...254).first(where: { slots[$0] == nil }) {
            slots[free] = key
            ip = "10.244.\(index % 256).\(free)"
        } else {
            // More than 253 pods on one node: reuse the last address rather than fail (pods: 110 by default).
            ip = "10.244.\(index % 256).254"
        }
        ipSlots[nodeName] = slots
        var runtime = PodRuntime(acceptedAt: accepted, podIP: ip, hostIP: hostIP)
        pullImages(for: pod, into: &runtime, node: node, nodeName: nodeName, now: now)
        return runtime
    }

    /// The images of a newly accepted pod: those on the node (or being pulled for another pod) are ready when
    /// they are; the others are pulled now and take the node's `imagePull` seconds. `imagePullPolicy: Always`
    /// (the default for `:latest` or untagged images) pulls again, quickly when the layers are present. A pod
    /// that ran before a restart of the server (it has a start time) pulls nothing.
    func pullImages(for pod: JSONValue, into runtime: inout PodRuntime, node: JSONValue, nodeName: String, now: Date) {
        let seconds = Double(node.annotations[NodePoolSpec.imagePullAnnotation].flatMap { Int($0) } ?? 0)
        var store = nodeImages[nodeName] ?? [:]
        let restarted = pod[path: "status", "startTime"] != nil
        for c in Self.allContainers(pod) {
            guard let image = c["image"]?.stringValue, !ImageRules.pullFails(image) else { continue }
            if restarted {
                store[image] = store[image] ?? runtime.acceptedAt
                continue
            }
            let policy = c["imagePullPolicy"]?.stringValue ?? (ImageRules.fullName(image).hasSuffix(":latest") ? "Always" : "IfNotPresent")
            if let present = store[image] {
                runtime.imagesReadyAt[image] = present
                if policy == "Always" { runtime.pulledImages.insert(image) }
            } else {
                store[image] = now.addingTimeInterval(seconds)
                runtime.imagesReadyAt[image] = store[image]
                runtime.pulledImages.insert(image)
            }
        }
        nodeImages[nodeName] = store
    }

    func forget(_ key: String) async {
        runtimes[key] = nil
        servedRequests = servedRequests.filter { !$0.key.hasPrefix(key + "/") }
        // A pod recreated under the same name (a restarted training worker) must not show the old pod's logs.
        if let name = podNames.removeValue(forKey: key) {
            await backend.removeLogs(namespace: name.namespace ?? "default", pod: name.name)
        }
        for (node, slots) in ipSlots {
            ipSlots[node] = slots.filter { $0.value != key }
        }
        for k in logCursors.keys where k.hasPrefix(key + "/") { logCursors[k] = nil }
        endedLogs = endedLogs.filter { !$0.hasPrefix(key + "/") }
        configErrorsLogged.remove(key)
    }

    static func allContainers(_ pod: JSONValue) -> [JSONValue] {
        (pod[path: "spec", "initContainers"]?.arrayValue ?? []) + (pod[path: "spec", "containers"]?.arrayValue ?? [])
    }

    /// Appends the lines each run wrote since the last pass (times relative to the run's start).
    func writeLogs(pod: JSONValue, key: String, script: Result<PodScript, ScriptError>, runs: [ContainerRun], node: String, now: Date) async {
        guard case .success(let podScript) = script else { return }
        let namespace = pod.namespace ?? "default", name = pod.name ?? ""
        let containers = Self.allContainers(pod)
        for run in runs {
            let cursorKey = "\(key)/\(run.container)/\(run.isInit ? "init" : "main")"
            guard let container = containers.first(where: { $0["name"]?.stringValue == run.container }) else { continue }
            var cursor = logCursors[cursorKey] ?? (run: run.run, through: -1)
            if cursor.run != run.run { cursor = (run.run, -1) }
            let end = min(now, run.stoppedAt ?? now)
            let through = end.timeIntervalSince(run.startedAt)
            if through > cursor.through {
                var context = ScriptContext(pod: name, namespace: namespace, container: run.container, node: node, startTime: run.startedAt)
                context.env = Self.literalEnv(container)
                let lines = ScriptLogs.lines(podScript.script(for: container, isInit: run.isInit), after: cursor.through, through: through, context: context)
                for line in lines {
                    await backend.appendLog(namespace: namespace, pod: name, container: run.container, line: line.text,
                                            at: run.startedAt.addingTimeInterval(line.at))
                }
                // A capped window resumes after its last line next time.
                cursor.through = lines.count >= ScriptLogs.maxLinesPerWindow ? (lines.last?.at ?? through) : through
            }
            logCursors[cursorKey] = cursor
            if run.final && !endedLogs.contains(cursorKey) {
                endedLogs.insert(cursorKey)
                await backend.endLog(namespace: namespace, pod: name, container: run.container)
            }
        }
    }

    /// On SIGTERM each container's script may log (e.g. "saving checkpoint").
    func writeTerminationLines(pod: JSONValue, script: Result<PodScript, ScriptError>, now: Date) async {
        guard case .success(let podScript) = script else { return }
        for c in pod[path: "spec", "containers"]?.arrayValue ?? [] {
            for line in podScript.script(for: c).terminate.lines {
                await backend.appendLog(namespace: pod.namespace ?? "default", pod: pod.name ?? "", container: c["name"]?.stringValue ?? "",
                                        line: line, at: now)
            }
        }
    }

    /// Compares ignoring null members, so a store that drops `lastProbeTime: null` does not cause a write per tick.
    static func differs(_ a: JSONValue, _ b: JSONValue) -> Bool {
        withoutNulls(a) != withoutNulls(b)
    }

    static func withoutNulls(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let o): return .object(o.filter { !$0.value.isNull }.mapValues(withoutNulls))
        case .array(let a): return .array(a.map(withoutNulls))
        default: return v
        }
    }
}

extension SimulationDriver {
    /// A container's `env` entries with literal values (references are not resolved by the simulation).
    static func literalEnv(_ container: JSONValue) -> [String: String] {
        (container["env"]?.arrayValue ?? []).reduce(into: [:]) { env, e in
            if let name = e["name"]?.stringValue, let value = e["value"]?.stringValue { env[name] = value }
        }
    }
}
