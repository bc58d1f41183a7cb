import Foundation
import KubeCore
import Testing

@testable import EmbeddedCluster

/// An in-memory API server for the driver with the embedded server's deletion rules: graceful deletion of bound
/// pods (deletionTimestamp + deletionGracePeriodSeconds until a delete with grace 0), and finalizers.
actor FakeSimulationBackend: SimulationBackend {
    struct Failure: Error {}
    var objects: [String: [String: JSONValue]] = [:]
    var logs: [String: [String]] = [:]
    var ended: Set<String> = []
    var counter = 0
    let clock: ManualSimulationClock

    init(clock: ManualSimulationClock) { self.clock = clock }

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    func list(_ resource: String) async throws -> [JSONValue] {
        (objects[resource] ?? [:]).sorted { $0.key < $1.key }.map(\.value)
    }
    func get(_ resource: String, namespace: String?, name: String) async -> JSONValue? {
        objects[resource]?[Self.key(namespace, name)]
    }
    func create(_ resource: String, _ object: JSONValue) async throws {
        let key = Self.key(object.namespace, object.name ?? "")
        guard objects[resource]?[key] == nil else { throw Failure() }
        counter += 1
        var o = object
        o[path: "metadata", "uid"] = .string("uid-\(counter)")
        o[path: "metadata", "creationTimestamp"] = .string(Timestamp.format(clock.now))
        objects[resource, default: [:]][key] = o
    }
    func update(_ resource: String, _ object: JSONValue) async throws {
        let key = Self.key(object.namespace, object.name ?? "")
        guard let current = objects[resource]?[key] else { throw Failure() }
        var o = object
        o[path: "metadata", "deletionTimestamp"] = current[path: "metadata", "deletionTimestamp"]
        o[path: "metadata", "deletionGracePeriodSeconds"] = current[path: "metadata", "deletionGracePeriodSeconds"]
        let graceful = resource == "pods" && (o[path: "metadata", "deletionGracePeriodSeconds"]?.intValue ?? 0) > 0
        objects[resource]?[key] = o.deletionTimestamp != nil && o.finalizers.isEmpty && !graceful ? nil : o
    }
    func delete(_ resource: String, namespace: String?, name: String, gracePeriodSeconds: Int64?) async throws {
        let key = Self.key(namespace, name)
        guard var o = objects[resource]?[key] else { throw Failure() }
        let grace = gracePeriodSeconds ?? o[path: "spec", "terminationGracePeriodSeconds"]?.intValue ?? 30
        if resource == "pods", grace > 0, o[path: "spec", "nodeName"] != nil {
            if o.deletionTimestamp == nil {
                o[path: "metadata", "deletionTimestamp"] = .string(Timestamp.format(clock.now.addingTimeInterval(Double(grace))))
                o[path: "metadata", "deletionGracePeriodSeconds"] = .int(grace)
                objects[resource]?[key] = o
            }
            return
        }
        if !o.finalizers.isEmpty {
            if o.deletionTimestamp == nil {
                o[path: "metadata", "deletionTimestamp"] = .string(Timestamp.format(clock.now))
                o[path: "metadata", "deletionGracePeriodSeconds"] = .int(gracePeriodSeconds ?? 0)
                objects[resource]?[key] = o
            }
            return
        }
        objects[resource]?[key] = nil
    }
    func appendLog(namespace: String, pod: String, container: String, line: String, at: Date) async {
        logs["\(namespace)/\(pod)/\(container)", default: []].append(line)
    }
    func endLog(namespace: String, pod: String, container: String) async { ended.insert("\(namespace)/\(pod)/\(container)") }
    var removedLogs: [String] = []
    func removeLogs(namespace: String, pod: String) async {
        removedLogs.append("\(namespace)/\(pod)")
        for key in logs.keys where key.hasPrefix("\(namespace)/\(pod)/") { logs[key] = nil }
    }
    func removeObject(_ resource: String, namespace: String?, name: String) { objects[resource]?[Self.key(namespace, name)] = nil }

    func put(_ resource: String, _ object: JSONValue) { objects[resource, default: [:]][Self.key(object.namespace, object.name ?? "")] = object }
}

@Suite struct SimulationDriverTests {
    let clock = ManualSimulationClock(SimFixtures.now)

    func setUp(_ spec: String = "1x{gpu: 8}, 1x{cpu: 8}") async throws -> (SimulationDriver, FakeSimulationBackend) {
        let backend = FakeSimulationBackend(clock: clock)
        let driver = SimulationDriver(backend: backend, clock: clock, nodeSpec: spec)
        try await driver.createNodes(NodeFactory.plan(NodePoolSpec.parseList(spec)))
        return (driver, backend)
    }

    /// Steps the driver through `seconds` of simulated time in `tick`s.
    func run(_ driver: SimulationDriver, for seconds: TimeInterval, tick: TimeInterval = 0.25) async {
        var elapsed: TimeInterval = 0
        while elapsed < seconds {
            await driver.step()
            clock.advance(by: tick)
            elapsed += tick
        }
        await driver.step()
    }

    @Test func trainingPodRunsLogsAndSucceeds() async throws {
        let (driver, backend) = try await setUp()
        var pod = SimFixtures.pod("train", requests: ["nvidia.com/gpu": 4], tolerations: [SimFixtures.gpuToleration],
                                  annotations: [PodScript.annotation: """
                                    {logs: [{series: {every: 1s, count: 3, template: "step={step} loss={loss:.2}", loss: {from: 1, to: 0.5, curve: linear}}}],
                                     exit: {code: 0, after: 5s}}
                                    """])
        pod[path: "spec", "restartPolicy"] = "Never"
        await backend.put("pods", pod)
        await run(driver, for: 3)
        let running = try #require(await backend.get("pods", namespace: "default", name: "train"))
        #expect(running[path: "spec", "nodeName"] == "gpu-a100-0")
        #expect(running[path: "status", "phase"] == "Running")
        #expect(running[path: "status", "podIP"] == "10.244.0.2")
        await run(driver, for: 5)
        let done = try #require(await backend.get("pods", namespace: "default", name: "train"))
        #expect(done[path: "status", "phase"] == "Succeeded")
        #expect(await backend.logs["default/train/main"] == ["step=0 loss=1.00", "step=1 loss=0.75", "step=2 loss=0.50"])
        #expect(await backend.ended.contains("default/train/main"))
        let reasons = try await backend.list("events").filter { $0[path: "involvedObject", "name"] == "train" }
            .sorted { ($0["firstTimestamp"]?.stringValue ?? "") < ($1["firstTimestamp"]?.stringValue ?? "") }.compactMap { $0["reason"]?.stringValue }
        #expect(Set(reasons) == ["Scheduled", "Pulling", "Pulled", "Created", "Started"])
        #expect(reasons.first == "Scheduled" && reasons.count == 5)
    }

    @Test func unschedulablePodGetsTheSchedulersMessage() async throws {
        let (driver, backend) = try await setUp()
        await backend.put("pods", SimFixtures.pod("big", requests: ["nvidia.com/gpu": 16], tolerations: [SimFixtures.gpuToleration]))
        await driver.step()
        let pod = try #require(await backend.get("pods", namespace: "default", name: "big"))
        let cond = pod[path: "status", "conditions"]?.arrayValue?.first { $0["type"] == "PodScheduled" }
        #expect(cond?["status"] == "False" && cond?["reason"] == "Unschedulable")
        #expect(cond?["message"]?.stringValue?.hasPrefix("0/2 nodes are available: 2 Insufficient nvidia.com/gpu.") == true)
        await driver.step()
        await driver.step()
        let events = try await backend.list("events")
        #expect(events.count == 1)
        #expect(events.first?["reason"] == "FailedScheduling" && events.first?["type"] == "Warning")
        #expect(events.first?["message"] == cond?["message"])
    }

    @Test func gracefulDeletionRemovesThePodAfterTheCheckpoint() async throws {
        let (driver, backend) = try await setUp()
        await backend.put("pods", SimFixtures.pod("job", annotations: [PodScript.annotation: "{terminate: {after: 3s, lines: [saving checkpoint]}}"]))
        await run(driver, for: 2)
        try await backend.delete("pods", namespace: "default", name: "job", gracePeriodSeconds: nil)
        await run(driver, for: 1)
        #expect(await backend.get("pods", namespace: "default", name: "job") != nil)
        #expect(await backend.logs["default/job/main"] == ["saving checkpoint"])
        let terminating = try #require(await backend.get("pods", namespace: "default", name: "job"))
        #expect(terminating.deletionTimestamp != nil && terminating[path: "metadata", "deletionGracePeriodSeconds"] == 30)
        await run(driver, for: 3)
        #expect(await backend.get("pods", namespace: "default", name: "job") == nil)
    }

    @Test func daemonSetEndpointsAndProxy() async throws {
        let (driver, backend) = try await setUp("2x{cpu: 8}")
        await backend.put("daemonsets.apps", [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "agent", "namespace": "default", "uid": "ds-1", "generation": 1],
            "spec": ["template": ["metadata": ["labels": ["app": "agent"]],
                                  "spec": ["containers": [["name": "a", "image": "vllm/vllm-openai", "ports": [["name": "http", "containerPort": 8000]]]]]]],
        ])
        await backend.put("services", [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "agent", "namespace": "default"],
            "spec": ["selector": ["app": "agent"], "ports": [["name": "web", "port": 80, "targetPort": "http"]]],
        ])
        await run(driver, for: 5)
        let ds = try #require(await backend.get("daemonsets.apps", namespace: "default", name: "agent"))
        #expect(ds[path: "status", "desiredNumberScheduled"] == 2 && ds[path: "status", "numberReady"] == 2)
        let ep = try #require(await backend.get("endpoints", namespace: "default", name: "agent"))
        #expect(ep["subsets"]?.arrayValue?.first?["addresses"]?.arrayValue?.count == 2)
        let r = await driver.proxy(kind: "Service", namespace: "default", name: "agent", port: "web", path: "/v1/models/llama")
        #expect(r.status == 200)
        #expect((try? JSONValue.parse(r.body))?["name"] == "llama")
        let none = await driver.proxy(kind: "Service", namespace: "default", name: "missing", port: nil, path: "/")
        #expect(none.status == 404)
    }

    @Test func requestsThroughAServiceAreCountedByThePodsThatAnsweredThem() async throws {
        let (driver, backend) = try await setUp("1x{cpu: 8}")
        let script = #"{http: {"/predict": {body: ok}}, metrics: "http_requests_total {requests}\n"}"#
        for name in ["a", "b"] {
            await backend.put("pods", SimFixtures.pod(name, annotations: [PodScript.annotation: script], labels: ["app": "web"]))
        }
        await backend.put("services", [
            "apiVersion": "v1", "kind": "Service", "metadata": ["name": "web", "namespace": "default"],
            "spec": ["selector": ["app": "web"], "ports": [["name": "http", "port": 80]]],
        ])
        await run(driver, for: 3)
        for _ in 0..<10 { #expect(await driver.proxy(kind: "Service", namespace: "default", name: "web", port: "http", path: "/predict").status == 200) }
        // Round robin: five each; reading /metrics is not a request counted.
        for name in ["a", "b"] {
            let pod = try #require(await backend.get("pods", namespace: "default", name: name))
            #expect(await driver.proxyToPod(pod, port: nil, path: "/metrics").text == "http_requests_total 5\n")
            #expect(await driver.proxyToPod(pod, port: nil, path: "/metrics").text == "http_requests_total 5\n")
        }
    }

    @Test func spotPreemptionAndNodeLoss() async throws {
        let (driver, backend) = try await setUp("2x{cpu: 8, spot: true}")
        await backend.put("pods", SimFixtures.pod("a", nodeName: "cpu-0"))
        await backend.put("pods", SimFixtures.pod("b", nodeName: "cpu-1"))
        await run(driver, for: 2)
        await driver.preemptSpotNode("cpu-0")
        #expect(await backend.get("pods", namespace: "default", name: "a") == nil)
        #expect(await backend.get("nodes", namespace: nil, name: "cpu-0") == nil)
        await driver.loseNode("cpu-1")
        await run(driver, for: 299)
        #expect(await backend.get("pods", namespace: "default", name: "b") != nil)
        await run(driver, for: 2)
        #expect(await backend.get("pods", namespace: "default", name: "b") == nil)
    }

    @Test func disruptionByNodeAnnotation() async throws {
        let (driver, backend) = try await setUp("2x{cpu: 8}")
        await backend.put("pods", SimFixtures.pod("a", nodeName: "cpu-0"))
        await run(driver, for: 2)
        var node = try #require(await backend.get("nodes", namespace: nil, name: "cpu-0"))
        node.annotations = [SimulationDriver.disruptAnnotation: "preempt"]
        try await backend.update("nodes", node)
        await driver.step()
        #expect(await backend.get("nodes", namespace: nil, name: "cpu-0") == nil)
        #expect(await backend.get("pods", namespace: "default", name: "a") == nil)
        // Losing a node by annotation, then removing the annotation, brings it back.
        var other = try #require(await backend.get("nodes", namespace: nil, name: "cpu-1"))
        other.annotations = [SimulationDriver.disruptAnnotation: "lose"]
        try await backend.update("nodes", other)
        await driver.step()
        let lost = try #require(await backend.get("nodes", namespace: nil, name: "cpu-1"))
        #expect(!NodeMatching.isReady(lost))
        var restored = lost
        restored.annotations = [:]
        try await backend.update("nodes", restored)
        await driver.step()
        let back = try #require(await backend.get("nodes", namespace: nil, name: "cpu-1"))
        #expect(NodeMatching.isReady(back) && back[path: "spec", "taints"] == nil)
        // A store that drops nulls does not make the kubelet rewrite status on every tick.
        #expect(!SimulationDriver.differs(["a": ["b": .null, "c": 1]], ["a": ["c": 1]]))
    }

    @Test func startRejectsABadSpecAndStopCancels() async throws {
        let backend = FakeSimulationBackend(clock: clock)
        let bad = SimulationDriver(backend: backend, clock: clock, nodeSpec: "3x{gpus: 1}")
        await #expect(throws: NodeSpecError.self) { try await bad.start() }
        #expect(await backend.objects["nodes"] == nil)
        let good = SimulationDriver(backend: backend, clock: clock, nodeSpec: nil)
        try await good.start()
        #expect(await backend.objects["nodes"]?.count == 3)
        await good.stop()
    }
}

@Suite struct SimulationLaunchTests {
    @Test func launchOffAndCancel() async throws {
        let clock = ManualSimulationClock(SimFixtures.now)
        let backend = FakeSimulationBackend(clock: clock)
        #expect(try await SimulationDriver.launch(backend: backend, clock: clock, nodeSpec: "off") == nil)
        let launched = try #require(try await SimulationDriver.launch(backend: backend, clock: clock, nodeSpec: "{cpu: 2}"))
        #expect(await backend.objects["nodes"]?.count == 1)
        launched.loop.cancel()
        await launched.loop.value
    }
}

@Suite struct SimulationRecreatedPodTests {
    @Test func successorWithTheSameNameKeepsItsOwnLogs() async throws {
        let clock = ManualSimulationClock(SimFixtures.now)
        let backend = FakeSimulationBackend(clock: clock)
        let driver = SimulationDriver(backend: backend, clock: clock, nodeSpec: "{cpu: 4}")
        try await driver.createNodes(NodeFactory.plan(NodePoolSpec.parseList("{cpu: 4}")))
        let script = [PodScript.annotation: "{startDelay: 0s, logs: [first]}"]
        await backend.put("pods", SimFixtures.pod("w", annotations: script))
        for _ in 0..<4 { await driver.step(); clock.advance(by: 0.25) }
        #expect(await backend.logs["default/w/main"] == ["first"])
        // Replaced within one tick by a pod of the same name (new uid).
        await backend.removeObject("pods", namespace: "default", name: "w")
        var successor = SimFixtures.pod("w", annotations: script)
        successor[path: "metadata", "uid"] = "uid-successor"
        await backend.put("pods", successor)
        for _ in 0..<4 { await driver.step(); clock.advance(by: 0.25) }
        #expect(await backend.logs["default/w/main"] == ["first"])
        #expect(await backend.removedLogs == ["default/w"])
    }
}
