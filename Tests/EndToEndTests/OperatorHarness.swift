import Foundation
import GantryControllers
import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
import KubeRuntime
import Testing

/// Runs `body` with a started `OperatorHarness`, then stops the operator and the cluster and waits until
/// they have stopped (whether `body` returned or threw), so the next test never starts beside them.
/// `kinds` and `manifests` (applied before the operator starts, e.g. their CRDs): kinds a test registers itself.
/// `rbac`: the cluster enforces RBAC (the harness's own kubeconfig is a cluster admin), for tests of other users.
/// `strictFields` (on unless a test turns it off): every write is decoded with `fieldValidation=Strict` (a field its
/// kind's schema does not declare fails the request; `DevCluster.unknownFieldReports()` names it), and once `body`
/// returned, no write of the operator may have carried one: the guard on Gantry's own writes (issue #12) runs in
/// every operator scenario, not in one. A real cluster would drop such a field silently.
func withOperator(nodes: String? = nil, workers: Int = 2, maxLogStreams: Int = 64, maxLogPollsPerSecond: Double = 20,
                  kinds: [KindRegistration] = [], manifests: String? = nil, rbac: Bool = false, strictFields: Bool = true,
                  _ body: (OperatorHarness) async throws -> Void) async throws {
    try await withCluster(OperatorHarness.start(nodes: nodes, workers: workers, maxLogStreams: maxLogStreams,
                                                maxLogPollsPerSecond: maxLogPollsPerSecond, kinds: kinds, manifests: manifests, rbac: rbac,
                                                strictFields: strictFields)) { h async throws in
        try await body(h)
        let reports = h.cluster.cluster.unknownFieldReports().filter { $0.userAgent == OperatorHarness.operatorUserAgent }
        #expect(reports.isEmpty, "operator writes with fields their schema does not declare:\n\(reports.map(\.description).joined(separator: "\n"))")
    }
}

/// An embedded cluster with Gantry's CRDs installed and the real operator watching it over libcurl.
final class OperatorHarness: StoppableFixture {
    let cluster: TestCluster
    let client: KubeClient
    let operatorTask: Task<Void, Never>
    let manager: OperatorManager

    /// The operator's own client carries this user agent, so the request log tells its requests from the test's.
    static let operatorUserAgent = "gantry-operator-under-test"

    /// Requests the operator made, oldest first (the API server's bounded request log).
    func operatorRequests() -> [RequestRecord] {
        cluster.cluster.requests().filter { $0.userAgent == Self.operatorUserAgent }
    }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `nodes`: the simulated node pool (`gantry dev --nodes`); "off" leaves the kubelet's part to the test.
    static func start(nodes: String? = nil, workers: Int = 2, maxLogStreams: Int = 64, maxLogPollsPerSecond: Double = 20,
                      kinds: [KindRegistration] = [], manifests: String? = nil, rbac: Bool = false,
                      strictFields: Bool = true) async throws -> OperatorHarness {
        // HTTPS with HTTP/2, as a real API server: the operator multiplexes its watches and log streams.
        var clusterOptions = DevClusterOptions(nodes: nodes, tls: true)
        if rbac { clusterOptions.authorization = .rbac }
        clusterOptions.strictFieldValidation = strictFields
        let cluster = try await TestCluster(clusterOptions)
        let client: KubeClient
        let operatorClient: KubeClient
        do {  // a failed start stops the cluster it started before throwing
            let applied = await cluster.kubectl("apply", "-k", repoRoot + "/crds")
            guard applied.ok else { throw TestFailure("kubectl apply -k crds failed: \(applied.stderr)") }
            let established = await cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s",
                                                    "crd/trainingjobs.gantry.dev", "crd/platformconfigs.gantry.dev",
                                                    "crd/inferenceservices.gantry.dev", "crd/notebooks.gantry.dev",
                                                    "crd/experiments.gantry.dev")
            guard established.ok else { throw TestFailure("CRDs not established: \(established.stderr)") }
            if let manifests {
                let extra = await cluster.kubectl("apply", "-f", "-", stdin: manifests)
                guard extra.ok else { throw TestFailure("kubectl apply of the test's manifests failed: \(extra.stderr)") }
                let all = await cluster.kubectl("wait", "--for=condition=Established", "--timeout=20s", "crd", "--all")
                guard all.ok else { throw TestFailure("CRDs not established: \(all.stderr)") }
            }
            client = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig))
            operatorClient = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig),
                                            options: ClientOptions(userAgent: operatorUserAgent))
        } catch {
            await cluster.stop()
            throw error
        }
        var options = OperatorManager.Options()
        options.workers = workers
        options.maxLogStreams = maxLogStreams
        options.maxLogPollsPerSecond = maxLogPollsPerSecond
        let manager: OperatorManager
        do {
            manager = try OperatorManager(client: operatorClient, options: options, kinds: kinds)
        } catch {
            await cluster.stop()
            throw error
        }
        let task = Task { await manager.run() }
        return OperatorHarness(cluster: cluster, client: client, manager: manager, task: task)
    }

    private init(cluster: TestCluster, client: KubeClient, manager: OperatorManager, task: Task<Void, Never>) {
        self.cluster = cluster
        self.client = client
        self.manager = manager
        self.operatorTask = task
    }

    func stop() async {
        operatorTask.cancel()
        await operatorTask.value
        await cluster.stop()
    }

    func kubectl(_ args: String..., stdin: String? = nil) async throws -> String {
        let r = await cluster.kubectl(args: args, stdin: stdin)
        guard r.ok else { throw TestFailure("kubectl \(args.joined(separator: " ")) failed (\(r.status)): \(r.stderr)") }
        return r.stdout
    }

    /// The object, or nil when the server answers that this object is not found (404 NotFound naming it).
    /// Any other failure is thrown — a 500, a transport error, or a 404 for a resource the server does not
    /// serve ("the server could not find the requested resource"): "it is gone" checks must not pass on a
    /// broken request.
    func get(_ type: ResourceType, _ namespace: String?, _ name: String) async throws -> JSONValue? {
        try await client.getIfFound(type, namespace, name)
    }

    /// A GPU node without a kubelet: pods bound to it change only when the test says so.
    func addGPUNode(_ name: String, gpus: Int, product: String) async throws {
        var node: JSONValue = ["apiVersion": "v1", "kind": "Node", "spec": .emptyObject]
        node.name = name
        node.labels = ["nvidia.com/gpu.product": product, "nvidia.com/gpu.memory": "81920", "kubernetes.io/hostname": name]
        _ = try await client.create(.nodes, node)
        let status: JSONValue = ["status": [
            "capacity": ["nvidia.com/gpu": .string(String(gpus)), "cpu": "64", "memory": "512Gi", "pods": "110"],
            "allocatable": ["nvidia.com/gpu": .string(String(gpus)), "cpu": "64", "memory": "512Gi", "pods": "110"],
            "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "test node"]],
        ]]
        _ = try await client.patch(.nodes, namespace: nil, name: name, patch: status, subresource: "status")
    }

    /// Plays the kubelet for a pod: phase, readiness and (when finished) the container's exit.
    func setPodPhase(_ namespace: String, _ name: String, _ phase: String, exitCode: Int? = nil, reason: String? = nil) async throws {
        var status: JSONValue = ["phase": .string(phase)]
        let ready = phase == "Running"
        status["conditions"] = [["type": "Ready", "status": ready ? "True" : "False"], ["type": "PodScheduled", "status": "True"]]
        if let exitCode {
            status["containerStatuses"] = [["name": "trainer", "ready": false, "restartCount": 0, "image": "trainer",
                                            "imageID": "docker-pullable://trainer@sha256:abc",
                                            "state": ["terminated": ["exitCode": .int(Int64(exitCode)), "reason": .string(exitCode == 0 ? "Completed" : "Error")]]]]
        } else if ready {
            status["containerStatuses"] = [["name": "trainer", "ready": true, "restartCount": 0, "image": "trainer",
                                            "imageID": "docker-pullable://trainer@sha256:abc", "state": ["running": ["startedAt": "2026-12-01T10:00:00Z"]]]]
        }
        if let reason { status["reason"] = .string(reason) }
        _ = try await client.patch(.pods, namespace: namespace, name: name, patch: ["status": status], subresource: "status")
    }
}

extension KubeClient {
    /// The object, or nil when the server answers that this object is not found (404 NotFound naming it);
    /// any other failure is thrown (see `OperatorHarness.get`).
    func getIfFound(_ type: ResourceType, _ namespace: String?, _ name: String) async throws -> JSONValue? {
        do {
            return try await get(type, namespace: namespace, name: name)
        } catch let error as APIError where error.isNotFound && error.reason == "NotFound" && error.message.hasSuffix("\"\(name)\" not found") {
            return nil
        }
    }
}
