import EmbeddedCluster
import Foundation
import GantryAPI
import GantryControllers
import GantryTestSupport
import KubeClient
import KubeCore
import Synchronization
import Testing

/// The embedded cluster with Gantry's CRDs and one `gantry controller` process (no leader election: a killed
/// controller's successor starts at once) that a test SIGKILLs and starts again, as a crash and a restart would.
final class KillPointFixture: StoppableFixture {
    let cluster: TestCluster
    /// The test's own client; its user agent tells its requests from the controller's in the request log.
    let admin: KubeClient
    private let current = Mutex<ControllerProcess?>(nil)
    private let starts = Mutex(0)

    static let testUserAgent = "kill-point-test"

    /// `controllerArgs`: extra flags of the first controller process (its successors run with the defaults).
    static func start(nodes: String = "2x{gpu: 4}", controllerArgs: [String] = []) async throws -> KillPointFixture {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        let cluster = try await TestCluster(DevClusterOptions(nodes: nodes, tls: true))
        do {
            try await installCRDs(cluster, ["trainingjobs", "platformconfigs", "inferenceservices", "notebooks"])
            let admin = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]),
                                       options: ClientOptions(userAgent: testUserAgent))
            let fixture = KillPointFixture(cluster: cluster, admin: admin)
            try fixture.startController(controllerArgs)
            return fixture
        } catch {
            await cluster.stop()
            throw error
        }
    }

    private init(cluster: TestCluster, admin: KubeClient) {
        self.cluster = cluster
        self.admin = admin
    }

    /// Starts a new controller process (the previous one must be dead).
    func startController(_ extra: [String] = []) throws {
        let n = starts.withLock { $0 += 1; return $0 }
        let process = try ControllerProcess(kubeconfig: cluster.kubeconfig, logPath: cluster.dir + "/controller-\(n).log",
                                            ["--no-leader-elect", "--identity", "kill-point-\(n)", "--log-format", "json", "--workers", "2"] + extra)
        current.withLock { $0 = process }
    }

    /// SIGKILL now, from any thread (a watch handler calls it the instant it sees the kill point).
    func killNow() { current.withLock { $0?.signal(SIGKILL) } }

    /// SIGKILL and wait until the process is gone.
    func kill() async {
        killNow()
        let process = current.withLock { $0 }
        #expect(await process?.waitForExit(timeout: 30) != nil, "the controller died of SIGKILL")
    }

    /// Kills the controller and starts a new one.
    func restart() async throws {
        await kill()
        try startController()
    }

    func stop() async {
        current.withLock { $0?.killIfRunning() }
        await cluster.stop()
    }

    func apply(_ manifest: String) async throws {
        let r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifest)
        guard r.ok else { throw TestFailure("kubectl apply: \(r.stderr)\n\(manifest)") }
    }

    func get(_ type: ResourceType, _ namespace: String, _ name: String) async throws -> JSONValue? {
        try await admin.getIfFound(type, namespace, name)
    }

    /// Requests the controller made (the test's own carry `testUserAgent`; kubectl's and the CLI's are told apart by
    /// their user agents too, and by never touching the paths asked about).
    func controllerRequests() -> [RequestRecord] {
        cluster.cluster.requests().filter { $0.userAgent != Self.testUserAgent && !($0.userAgent ?? "").hasPrefix("kubectl") }
    }

    /// Events with `reason` about the object `name` in `namespace`.
    /// The API server's record of every write to pods whose name starts with `prefix`: who (user agent), what,
    /// the answer, and when (seconds from the first), for a failure message that says who made a pod twice.
    /// `includingStatus`: the status writes too (the kubelet's), for a failure that may come from a pod's phase.
    func podWrites(_ namespace: String, prefix: String, includingStatus: Bool = false) -> String {
        let writes = cluster.cluster.requests().filter {
            $0.method != "GET" && $0.path.hasPrefix("/api/v1/namespaces/\(namespace)/pods") && (includingStatus || !$0.path.hasSuffix("/status"))
                && ($0.path.contains("/pods/\(prefix)") || $0.path.hasSuffix("/pods"))
        }
        guard let start = writes.first?.received else { return "no pod writes" }
        return writes.map { "+\(($0.received - start).components.seconds)s \($0.method) \($0.path) \($0.code) by \($0.userAgent ?? "?")" }
            .joined(separator: "\n")
    }

    /// Every Event about `name` and its pods (objects named `name…`), oldest first, one line each, for a failure
    /// message that says what the controllers saw and decided.
    func eventStory(_ namespace: String, _ name: String) async -> String {
        let events = (try? await admin.list(.coreEvents, namespace: namespace).items) ?? []
        func time(_ e: JSONValue) -> String { e[path: "metadata", "creationTimestamp"]?.stringValue ?? "" }
        return events.filter { ($0[path: "involvedObject", "name"]?.stringValue ?? "").hasPrefix(name) }
            .sorted { time($0) < time($1) }
            .map { "\(time($0)) \($0["reason"]?.stringValue ?? "?") \($0[path: "involvedObject", "name"]?.stringValue ?? "?"): \($0["message"]?.stringValue ?? "")" }
            .joined(separator: "\n")
    }

    func events(_ namespace: String, _ name: String, reason: String) async throws -> [JSONValue] {
        try await admin.list(.coreEvents, namespace: namespace).items
            .filter { $0[path: "involvedObject", "name"]?.stringValue == name && $0["reason"]?.stringValue == reason }
    }
}

/// `kubectl apply -k crds/`, then waits until the named CRDs (plural names in gantry.dev) are Established.
func installCRDs(_ cluster: TestCluster, _ plurals: [String]) async throws {
    for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"],
                 ["wait", "--for=condition=Established", "--timeout=20s"] + plurals.map { "crd/\($0).gantry.dev" }] {
        let r = await cluster.kubectl(args: args)
        guard r.ok else { throw TestFailure("kubectl \(args.joined(separator: " ")): \(r.stderr)") }
    }
}

/// Every pod event of the whole run, from one watch started before the workload: which pods were ever live for
/// each slot (a job's replica, a service's colour/revision/replica, a notebook), and whether a slot ever had two
/// live pods at once. Exact (every event), unlike a sampler. `trigger` is called on each pod event with the pod
/// and the pods live now; the first time it answers true the controller is killed, from this task, at once.
final class PodLedger: Sendable {
    struct State {
        var live: [String: Set<String>] = [:]     // slot → uids live now
        var ever: [String: Set<String>] = [:]     // slot → uids ever seen
        var pods: [String: JSONValue] = [:]       // uid → latest
        var duplicates: [String] = []
        var fired = false
    }
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// The slot a Gantry pod fills; nil for pods that are not Gantry's serving, training or notebook pods.
    static func slot(_ pod: JSONValue) -> String? {
        let labels = pod.labels, ns = pod.namespace ?? ""
        guard let owner = pod.controllerReference else { return nil }
        switch owner.kind {
        case "TrainingJob": return "\(ns)/job/\(owner.name)/\(labels[GantryLabels.replicaIndex] ?? "?")"
        case "InferenceService" where labels[GantryLabels.role] == "server":
            return "\(ns)/svc/\(owner.name)/\(labels[GantryLabels.color] ?? "?")/\(labels[GantryLabels.revision] ?? "?")/\(labels[GantryLabels.replicaIndex] ?? "?")"
        case "DaemonSet" where labels[GantryLabels.role] == "server":
            // A perNode colour's replica: one per node of its DaemonSet.
            return "\(ns)/svc/\(labels[GantryLabels.instance] ?? "?")/\(labels[GantryLabels.color] ?? "?")/\(labels[GantryLabels.revision] ?? "?")/\(ServingPod(pod).targetNode ?? "?")"
        case "Notebook": return "\(ns)/notebook/\(owner.name)"
        default: return nil
        }
    }

    static func isLive(_ pod: JSONValue) -> Bool {
        pod.deletionTimestamp == nil && !["Succeeded", "Failed"].contains(pod[path: "status", "phase"]?.stringValue ?? "")
    }

    /// Starts watching every namespace from now on.
    func start(_ client: KubeClient, trigger: @escaping @Sendable (_ pod: JSONValue, _ live: [JSONValue]) -> Bool = { _, _ in false },
               kill: @escaping @Sendable () -> Void = {}) async throws {
        let from = try await client.list(.pods, namespace: nil).resourceVersion
        let watching = Task { [self] in
            do {
                for try await event in client.watch(.pods, namespace: nil, options: ListOptions(resourceVersion: from, allowWatchBookmarks: true)) {
                    guard let pod = event.object, let uid = pod.uid else { continue }
                    let deleted: Bool
                    if case .deleted = event { deleted = true } else { deleted = false }
                    let (live, fire) = observe(pod, uid: uid, deleted: deleted)
                    if fire && trigger(pod, live) {
                        kill()
                        state.withLock { $0.fired = true }
                    }
                }
            } catch {}
        }
        task.withLock { $0 = watching }
    }

    private func observe(_ pod: JSONValue, uid: String, deleted: Bool) -> (live: [JSONValue], unfired: Bool) {
        state.withLock { s in
            s.pods[uid] = pod
            if let slot = Self.slot(pod) {
                s.ever[slot, default: []].insert(uid)
                if !deleted && Self.isLive(pod) { s.live[slot, default: []].insert(uid) } else { s.live[slot]?.remove(uid) }
                if let n = s.live[slot]?.count, n > 1, s.duplicates.count < 20 { s.duplicates.append("\(n) live pods for \(slot)") }
            }
            if deleted { s.pods[uid] = nil }
            let live = s.live.values.flatMap { $0 }.compactMap { s.pods[$0] }
            return (live, !s.fired)
        }
    }

    var fired: Bool { state.withLock { $0.fired } }
    var duplicates: [String] { state.withLock { $0.duplicates } }
    /// Slots (with this prefix) that ever had more than one pod: a replica created twice.
    func recreated(prefix: String) -> [String] {
        state.withLock { $0.ever.filter { $0.key.hasPrefix(prefix) && $0.value.count > 1 }.map { "\($0.key): \($0.value.count) pods" }.sorted() }
    }
    func slots(prefix: String) -> [String] { state.withLock { $0.ever.keys.filter { $0.hasPrefix(prefix) }.sorted() } }

    func stop() { task.withLock { $0?.cancel() } }
}
