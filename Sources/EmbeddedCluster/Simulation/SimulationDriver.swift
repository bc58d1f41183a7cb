import Foundation
import KubeCore

/// Runs the simulation against the API server's storage: creates the nodes, then on every tick schedules pending
/// pods, plays each node's kubelet, runs the DaemonSet, Deployment, ReplicaSet and Endpoints controllers and
/// garbage-collects pods of vanished nodes. All decisions come from the pure parts (Scheduler, KubeletSimulator,
/// DaemonSetSimulator, DeploymentSimulator, ReplicaSetSimulator, EndpointsSimulator, NodeDisruption); this actor
/// only reads, writes and remembers what must survive a tick (when a pod was accepted, its IP, how far its logs
/// were written).
///
/// Each pass lists what it needs afresh and writes only what differs, so a conflict or a failed write is simply
/// retried on the next tick; errors never stop the loop (the last ones are kept in `recentErrors`).
actor SimulationDriver {
    let backend: any SimulationBackend
    let clock: any SimulationClock
    let nodeSpec: String?
    /// Simulated seconds between passes.
    let tick: TimeInterval

    var loop: Task<Void, Never>?
    /// Node name → index in the pool plan (pod CIDR 10.244.<index>.0/24).
    var nodeIndex: [String: Int] = [:]
    /// Pod key (uid) → what the kubelet remembers.
    var runtimes: [String: PodRuntime] = [:]
    /// Node → image → when it is (or will be, a pull under way) on the node: the kubelet's image store.
    var nodeImages: [String: [String: Date]] = [:]
    /// Pod key → namespace and name, to drop the logs of a pod that is gone.
    var podNames: [String: ObjectKey] = [:]
    /// Node → pod IP slots in use (2…254) → pod key.
    var ipSlots: [String: [Int: String]] = [:]
    /// `podKey/container/init?` → (run, seconds of that run already written to the log).
    var logCursors: [String: (run: Int, through: TimeInterval)] = [:]
    var endedLogs: Set<String> = []
    var configErrorsLogged: Set<String> = []
    /// Nodes that stopped heartbeating, and since when.
    var lostNodes: [String: Date] = [:]
    /// Lost through the `sim.gantry.dev/disrupt` annotation (recovered when it is removed).
    var lostByAnnotation: Set<String> = []
    /// Endpoints this driver wrote, removed when their Service goes.
    var managedEndpoints: Set<ObjectKey> = []
    /// Pods' requests by uid (`requestsByUID`).
    var podRequests: [String: ResourceList] = [:]
    var proxyRoundRobin = 0
    /// `podKey/container/run start` → requests it answered through the proxy (`{requests}` in its script).
    var servedRequests: [String: Int] = [:]
    var eventSequence = 0
    /// Whether to write Events (on by default).
    var recordEvents = true
    private(set) var recentErrors: [String] = []

    init(backend: any SimulationBackend, clock: any SimulationClock = SystemSimulationClock(), nodeSpec: String?, tick: TimeInterval = 0.2) {
        self.backend = backend
        self.clock = clock
        self.nodeSpec = nodeSpec
        self.tick = tick > 0 ? tick : 0.2
    }

    /// Parses the node spec (throwing its error before anything is written), creates the Node objects that do
    /// not exist yet, and starts the loop.
    func start() async throws(NodeSpecError) {
        let planned = NodeFactory.plan(try NodePoolSpec.parseList(nodeSpec ?? ""))
        await createNodes(planned)
        guard loop == nil else { return }
        loop = Task { await self.run() }
    }

    /// For the server's start: validates the spec, creates the nodes and returns the driver with its loop as a
    /// task the server cancels on stop; nil when the spec is `off` (no simulation at all; `none` means a
    /// simulation without nodes).
    static func launch(backend: any SimulationBackend, clock: any SimulationClock, nodeSpec: String?, tick: TimeInterval = 0.2)
        async throws(NodeSpecError) -> (driver: SimulationDriver, loop: Task<Void, Never>)?
    {
        if nodeSpec?.simTrimmed == "off" { return nil }
        let driver = SimulationDriver(backend: backend, clock: clock, nodeSpec: nodeSpec, tick: tick)
        let planned = NodeFactory.plan(try NodePoolSpec.parseList(nodeSpec ?? ""))
        await driver.createNodes(planned)
        return (driver, Task { await driver.run() })
    }

    func createNodes(_ planned: [NodeFactory.PlannedNode]) async {
        let now = clock.now
        for node in planned {
            nodeIndex[node.name] = node.index
            if await backend.get("nodes", namespace: nil, name: node.name) != nil { continue }
            await attempt("create node \(node.name)") { try await self.backend.create("nodes", NodeFactory.node(node, now: now)) }
        }
    }

    /// Cancels the loop and waits for the pass in flight to finish.
    func stop() async {
        loop?.cancel()
        await loop?.value
        loop = nil
    }

    func run() async {
        while !Task.isCancelled {
            await step()
            do { try await clock.sleep(seconds: tick) } catch { return }
        }
    }

    /// One pass of every controller. Tests call this directly with a manual clock.
    func step() async {
        let now = clock.now
        guard var nodes = await read("nodes") else { return }
        if await applyRequestedDisruptions(nodes: nodes) {
            guard let fresh = await read("nodes") else { return }
            nodes = fresh
        }
        guard var pods = await read("pods") else { return }
        await collectOrphans(nodes: nodes, pods: pods, now: now)
        await evictFromLostNodes(pods: pods, now: now)
        if await schedule(nodes: nodes, pods: pods, now: now) {
            guard let fresh = await read("pods") else { return }
            pods = fresh
        }
        await runVolumes()
        await runKubelets(nodes: nodes, pods: pods, now: now)
        await runDaemonSets(nodes: nodes, pods: pods, now: now)
        await runDeployments()
        await runReplicaSets(pods: pods)
        await runEndpoints(pods: pods)
        await runEndpointSlices(pods: pods)
        await runDisruptionBudgets(pods: pods)
    }

    // MARK: - Helpers

    func read(_ resource: String) async -> [JSONValue]? {
        do { return try await backend.list(resource) } catch {
            note("list \(resource): \(error)")
            return nil
        }
    }

    /// Runs a write; a failure is noted and retried by the next pass.
    @discardableResult
    func attempt(_ what: String, _ body: @Sendable () async throws -> Void) async -> Bool {
        do {
            try await body()
            return true
        } catch {
            note("\(what): \(error)")
            return false
        }
    }

    /// Records Events about a pod (core/v1, as `kubectl describe` reads them).
    func record(_ events: [PodEvent], pod: JSONValue, node: String?) async {
        guard recordEvents else { return }
        let now = clock.now
        for e in events {
            eventSequence += 1
            let object = PodEvents.object(e, pod: pod, node: node, now: now, sequence: eventSequence)
            await attempt("record event \(e.reason) for \(pod.objectKey)") { try await self.backend.create("events", object) }
        }
    }

    func note(_ message: String) {
        recentErrors.append(message)
        if recentErrors.count > 50 { recentErrors.removeFirst(recentErrors.count - 50) }
    }

    static func podKey(_ pod: JSONValue) -> String { pod.uid ?? pod.objectKey.description }

    /// Removes a pod now, after writing its final status if given: a delete with grace period 0, as the kubelet
    /// (after its containers stopped), the taint manager and PodGC do.
    func removePod(_ pod: JSONValue, status: JSONValue? = nil, reason: String) async {
        let namespace = pod.namespace ?? "default", name = pod.name ?? ""
        if let status {
            var updated = pod
            updated["status"] = status
            let write = updated
            await attempt("\(reason): update pod \(namespace)/\(name)") { try await self.backend.update("pods", write) }
        }
        await attempt("\(reason): delete pod \(namespace)/\(name)") {
            try await self.backend.delete("pods", namespace: namespace, name: name, gracePeriodSeconds: 0)
        }
    }
}
