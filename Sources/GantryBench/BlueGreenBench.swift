import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// `blue-green` (issue #14 scenario 6, #10): an InferenceService with 2 replicas swapped N times in a row under
/// request load. Three processes: `gantry dev` (API server and simulated GPU nodes), `gantry controller`, and this
/// one (the watches, the load loop and the sampler), so each one's CPU is read apart.
///
/// Per swap: candidate Ready is when this process's pod watch saw the last candidate pod (the new revision's hash
/// in the idle colour) with `Ready=True`; alias updated is when its Service watch saw the alias selector name
/// that colour. Both are arrival times of watch events, so watch delivery cancels out. Throughout, a load loop
/// sends requests through the alias via the API server's service proxy and a sampler reads the alias' Endpoints
/// and EndpointSlices: every failed request and every sample without a ready address is counted.
///
/// Baseline, same run: a bare client patching a Service's selector, timed from the PATCH to the watch event:
/// the floor of any "something happened → alias updated" figure (one write and one watch delivery).
public struct BlueGreenBench: Sendable {
    public var swaps = 30
    public var swapTimeout: Duration = .seconds(90)
    let name = "blue-green"
    let service = "bench-bg"

    public init(quick: Bool, scales: [Int]? = nil) {
        if quick { swaps = 3 }
        if let first = scales?.first, first > 0 { swaps = first }
    }

    static let endpointSlices = ResourceType(group: "discovery.k8s.io", version: "v1", kind: "EndpointSlice", plural: "endpointslices", namespaced: true)

    func manifest(image: String) -> JSONValue {
        var object: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "InferenceService",
                                 "spec": ["image": .string(image), "readinessPath": "/v2/health/ready", "replicas": 2, "gpu": ["count": 1],
                                          "rollout": ["minReadySeconds": 0, "scaleDownDelaySeconds": 0]]]
        object.name = service
        object.namespace = "default"
        return object
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        try await ControllerProcess.withOperator(nodes: "2x{gpu: 8, product: A100}") { dev, client, controller in
            let baseline = try await selectorPatchBaseline(client: client)
            log("\(name): bare selector PATCH → watch event p50 \(String(format: "%.1f", baseline.median.milliseconds)) ms")
            return try await measureSwaps(client: client, dev: dev, controller: controller, baseline: baseline, log: log)
        }
    }

    func measureSwaps(client: KubeClient, dev: DevProcess, controller: ControllerProcess, baseline: Samples,
                      log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let observer = SwapObserver()
        let podWatch = Task { await watchObjects(.pods, client: client, options: ListOptions(labelSelector: "\(GantryLabels.instance)=\(service)"),
                                                 listed: {}, note: { await observer.notePod($0) }) }
        let aliasWatch = Task { await watchObjects(.services, client: client, options: ListOptions(fieldSelector: "metadata.name=\(service)"),
                                                   listed: {}, note: { await observer.noteAlias($0) }) }
        defer { podWatch.cancel(); aliasWatch.cancel() }

        _ = try await client.create(.inferenceServices, manifest(image: "acme/llm-serving:0"), namespace: "default")
        var active = try await awaitSwapDone(from: nil, client: client)
        guard try await waitFor(.seconds(30), { try await readyAddresses(client: client).endpoints > 0 }) else {
            throw BenchError.timeout("the alias \(service) has no ready endpoint after the first deploy")
        }
        log("\(name): \(service) serving from \(active.color); \(swaps) swaps under load")

        // No retries for the load and the sampler: a retried 503 would hide a failed request.
        let probe = try KubeClient(config: KubeConfig.load(path: dev.kubeconfig, environment: [:]),
                                   options: ClientOptions(userAgent: "gantry-bench-load", maxRetries: 0))
        let load = Task { await loadLoop(client: probe) }
        let sampler = Task { await sampleEndpoints(client: probe) }
        let serverBefore = dev.cpuTime(), controllerBefore = controller.cpuTime()
        let writesBefore = try await controller.writes()
        var latencies = Samples()
        for i in 1...swaps {
            let started = Date()
            _ = try await client.patch(.inferenceServices, namespace: "default", name: service, patch: ["spec": ["image": .string("acme/llm-serving:\(i)")]])
            let done = try await awaitSwapDone(from: active.color, client: client)
            // The status can be read before the last watch event arrived: wait for both on the watches.
            _ = try await waitFor(.seconds(10)) { await observer.aliasMoved(to: done.color, since: started) != nil }
            guard let readyAt = await observer.lastReady(color: done.color, since: started, replicas: 2),
                  let aliasAt = await observer.aliasMoved(to: done.color, since: started) else {
                throw BenchError.wrongResult("swap \(i): no Ready candidate pods or no alias change seen on the watches")
            }
            let latency = aliasAt.timeIntervalSince(readyAt)
            latencies.append(.microseconds(Int64(latency * 1e6)))
            log("\(name): swap \(i)/\(swaps) \(active.color) → \(done.color): \(String(format: "%.1f", latency * 1000)) ms from candidate Ready to alias updated")
            active = done
        }
        let serverCPU = dev.cpuTime() - serverBefore, controllerCPU = controller.cpuTime() - controllerBefore
        let writes = try await controller.writes() - writesBefore
        load.cancel()
        sampler.cancel()
        let requests = await load.value, samples = await sampler.value
        let aliasChanges = await observer.aliasChanges

        let verdict = latencies.p99 <= .milliseconds(100) ? "target p99 ≤ 100 ms: met" : "target p99 ≤ 100 ms: MISSED"
        func zero(_ n: Int) -> String { n == 0 ? "target 0: met" : "target 0: MISSED" }
        return [
            BenchFigure(name, "candidate Ready → alias updated, p50", latencies.median.milliseconds, "ms", note: "\(swaps) swaps of 2 replicas"),
            BenchFigure(name, "candidate Ready → alias updated, p99", latencies.p99.milliseconds, "ms", note: verdict),
            BenchFigure(name, "baseline: bare selector PATCH → watch event, p50", baseline.median.milliseconds, "ms", note: "p99 \(String(format: "%.1f", baseline.p99.milliseconds)) ms, \(baseline.count) patches"),
            BenchFigure(name, "requests through the alias that failed", Double(requests.failed), "", note: "\(requests.sent) sent; " + zero(requests.failed)
                        + (requests.failures.isEmpty ? "" : "; " + requests.failures.map { "\($0.value)× \($0.key)" }.sorted().joined(separator: ", "))),
            BenchFigure(name, "Endpoints samples without a ready address", Double(samples.emptyEndpoints), "", note: "\(samples.count) samples; " + zero(samples.emptyEndpoints)),
            BenchFigure(name, "EndpointSlice samples without a ready endpoint", Double(samples.emptySlices), "", note: "\(samples.count) samples; " + zero(samples.emptySlices)),
            BenchFigure(name, "alias selector changes per swap", Double(aliasChanges - 1) / Double(swaps), "", note: "target 1 (one update per swap)"),
            BenchFigure(name, "controller writes per swap", Double(writes) / Double(swaps), "", note: "rest_client_requests_total, every method but GET"),
            BenchFigure(name, "controller CPU per swap", (controllerCPU / swaps).milliseconds, "ms", note: "gantry controller process"),
            BenchFigure(name, "API server CPU per swap", (serverCPU / swaps).milliseconds, "ms", note: "gantry dev process, with the simulated kubelets and the load's proxied requests"),
        ]
    }

    struct Active { var color: String; var revision: String }

    /// Waits until the service is Ready with no candidate and its active colour differs from `from`.
    func awaitSwapDone(from: String?, client: KubeClient) async throws -> Active {
        let deadline = ContinuousClock.now + swapTimeout
        while ContinuousClock.now < deadline {
            let status = try await client.get(.inferenceServices, namespace: "default", name: service)["status"] ?? .null
            let ready = status["conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
            if ready, status["candidate"] == nil, let color = status["activeColor"]?.stringValue, color != from,
               let revision = status[path: "activeRevision", "hash"]?.stringValue {
                return Active(color: color, revision: revision)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw BenchError.timeout("\(service) did not finish its rollout within \(swapTimeout)")
    }

    func waitFor(_ timeout: Duration, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Ready addresses behind the alias in its Endpoints and in its EndpointSlices.
    func readyAddresses(client: KubeClient) async throws -> (endpoints: Int, slices: Int) {
        let subsets = try await client.get(.endpoints, namespace: "default", name: service)["subsets"]?.arrayValue ?? []
        let endpoints = subsets.reduce(0) { $0 + ($1["addresses"]?.arrayValue?.count ?? 0) }
        let slices = try await client.list(Self.endpointSlices, namespace: "default", options: ListOptions(labelSelector: "kubernetes.io/service-name=\(service)")).items
        let ready = slices.reduce(0) { total, slice in
            total + (slice["endpoints"]?.arrayValue ?? []).count { $0[path: "conditions", "ready"] != false }
        }
        return (endpoints, ready)
    }

    /// Requests through the alias (service proxy) back to back until cancelled; a transport error counts as failed.
    /// `failures`: how each failed request ended ("503", or the transport error), with its count.
    func loadLoop(client: KubeClient) async -> (sent: Int, failed: Int, failures: [String: Int]) {
        var sent = 0, failures: [String: Int] = [:]
        while !Task.isCancelled {
            sent += 1
            do {
                let answer = try await client.proxy(.services, namespace: "default", name: service, port: "http", path: "/v2/health/ready")
                if answer.status != 200 {
                    let body = String(decoding: answer.body.prefix(80), as: UTF8.self)
                    failures["\(answer.status) \(body)", default: 0] += 1
                }
            } catch {
                if Task.isCancelled { sent -= 1; break }
                failures["\(error)".prefix(80).description, default: 0] += 1
            }
        }
        return (sent, failures.values.reduce(0, +), failures)
    }

    /// The alias' Endpoints and EndpointSlices read back to back until cancelled.
    func sampleEndpoints(client: KubeClient) async -> (count: Int, emptyEndpoints: Int, emptySlices: Int) {
        var count = 0, emptyEndpoints = 0, emptySlices = 0
        while !Task.isCancelled {
            guard let ready = try? await readyAddresses(client: client) else { continue }
            count += 1
            if ready.endpoints == 0 { emptyEndpoints += 1 }
            if ready.slices == 0 { emptySlices += 1 }
        }
        return (count, emptyEndpoints, emptySlices)
    }

    /// Floor: a bare client patches a Service's selector and waits for the watch event carrying it.
    func selectorPatchBaseline(client: KubeClient) async throws -> Samples {
        var probe: JSONValue = ["apiVersion": "v1", "kind": "Service",
                                "spec": ["selector": ["app": "probe-0"], "ports": [["name": "http", "port": 80, "targetPort": 8080]]]]
        probe.name = "bench-bg-probe"
        _ = try await client.create(.services, probe, namespace: "default")
        let observer = SwapObserver()
        let watch = Task { await watchObjects(.services, client: client, options: ListOptions(fieldSelector: "metadata.name=bench-bg-probe"),
                                              listed: {}, note: { await observer.noteSelector($0, key: "app") }) }
        defer { watch.cancel() }
        var samples = Samples()
        for i in 1...max(swaps, 10) {
            let start = Date()
            _ = try await client.patch(.services, namespace: "default", name: "bench-bg-probe", patch: ["spec": ["selector": ["app": .string("probe-\(i)")]]])
            guard try await waitFor(.seconds(10), { await observer.aliasMoved(to: "probe-\(i)", since: start) != nil }),
                  let seen = await observer.aliasMoved(to: "probe-\(i)", since: start) else {
                throw BenchError.timeout("the probe Service's selector change was not seen on its watch")
            }
            samples.append(.microseconds(Int64(seen.timeIntervalSince(start) * 1e6)))
        }
        _ = try? await client.delete(.services, namespace: "default", name: "bench-bg-probe")
        return samples
    }
}

/// What the watches saw, stamped on arrival: when each pod (by uid) was first seen Ready, and every change of
/// the alias selector's colour.
actor SwapObserver {
    struct ReadyPod { var color: String?; var at: Date }
    private var readyPods: [String: ReadyPod] = [:]
    private var selectorChanges: [(value: String, at: Date)] = []

    var aliasChanges: Int { selectorChanges.count }

    func notePod(_ pod: JSONValue) {
        guard let uid = pod.uid, readyPods[uid] == nil, pod.deletionTimestamp == nil else { return }
        let ready = pod[path: "status", "conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } ?? false
        guard ready else { return }
        readyPods[uid] = ReadyPod(color: pod.labels[GantryLabels.color], at: Date())
    }

    func noteAlias(_ service: JSONValue) { noteSelector(service, key: GantryLabels.color) }

    func noteSelector(_ service: JSONValue, key: String) {
        guard let value = service[path: "spec", "selector", key]?.stringValue, selectorChanges.last?.value != value else { return }
        selectorChanges.append((value, Date()))
    }

    /// When the last of `replicas` pods of this colour that became Ready after `since` was seen Ready (with no
    /// scale-down delay the idle colour's earlier pods are gone before the next candidate starts: these are the candidate's).
    func lastReady(color: String, since: Date, replicas: Int) -> Date? {
        let moments = readyPods.values.filter { $0.color == color && $0.at >= since }.map(\.at)
        return moments.count >= replicas ? moments.max() : nil
    }

    func aliasMoved(to value: String, since: Date) -> Date? {
        selectorChanges.first { $0.value == value && $0.at >= since }?.at
    }
}
