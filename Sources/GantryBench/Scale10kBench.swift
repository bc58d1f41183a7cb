import EmbeddedCluster
import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// `scale-10k` (issue #14 scenarios 2, 4, 5, 9): the operator started against a cluster already holding N
/// finished TrainingJobs, each with its Pod (kept, `finishedPodPolicy: Keep`) and its record ConfigMap, written
/// by a bare client beforehand in the converged state the operator itself would leave (its own planner run
/// offline), so the operator has nothing to do but cache them.
///
/// The API server is in this process (plain HTTP, no simulation: `nodes: off`, GPU Nodes written by the bare
/// client), so its request log is readable and its CPU is this process's; the operator is a `gantry controller`
/// child process, so its RSS and CPU are its own. Measured: exec → `/readyz` (caches synced) against a bare LIST of
/// the same objects; idle RSS on an empty cluster; steady RSS with N cached and the peak during the initial list;
/// controller CPU and its requests over an idle window; then apply → all 4 pods of a 4-replica job created, against
/// a bare client making the same writes one after another.
public struct Scale10kBench: Sendable {
    public var objects = 10_000
    public var idle: Duration = .seconds(60)
    /// How long the idle controller's touched pages are counted for its working set (nothing cached).
    public var workingSetWindow: Duration = .seconds(20)
    public var latencyJobs = 20
    public var concurrency = 8
    let name = "scale-10k"

    public init(quick: Bool, scales: [Int]? = nil) {
        if quick { objects = 200; idle = .seconds(5); workingSetWindow = .seconds(3); latencyJobs = 3 }
        if let first = scales?.first, first > 0 { objects = first }
    }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let cluster = try await DevCluster.start(DevClusterOptions(nodes: "off"))
        do {
            let figures = try await measure(cluster: cluster, log: log)
            await cluster.stop()
            return figures
        } catch {
            await cluster.stop()
            throw error
        }
    }

    func measure(cluster: DevCluster, log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let binary = try DevStartupBench.gantryBinary()
        let dir = NSTemporaryDirectory() + "gantry-bench-scale-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let kubeconfig = dir + "/kubeconfig"
        try cluster.writeKubeconfig(to: kubeconfig)
        let client = try KubeClient(config: KubeConfig.load(path: kubeconfig, environment: [:]), options: ClientOptions(userAgent: "gantry-bench"))
        try await EarlyStopBench(quick: true).installCRDs(client)
        let nodes = try await createNodes(count: (4 * latencyJobs + 7) / 8 + 1, client: client)

        // The bare client's writes first, with no operator running (it would act on these jobs too), then removed.
        let bare = try await bareLatency(client: client)

        var figures: [BenchFigure] = []
        let (emptyReading, workingSet) = try await ControllerProcess.with(binary: binary, kubeconfig: kubeconfig) { controller in
            _ = try await controller.awaitSynced(timeout: .seconds(30))
            try await Task.sleep(for: .seconds(2))  // let it settle after its first lists
            let reading = controller.memory() ?? .init(rssBytes: 0, peakBytes: 0)
            return (reading, try await ProcessMemory.workingSet(pid: controller.pid, over: workingSetWindow))
        }
        let empty = emptyReading.rssBytes
        log("\(name): idle controller, nothing cached: \(mib(empty)) MiB (\(mib(emptyReading.anonymousBytes)) MiB anonymous); "
            + "touched over \(Int(workingSetWindow.seconds)) s idle: \(workingSet.map { String(format: "%.1f", mib($0)) } ?? "unreadable") MiB")

        let seedStart = ContinuousClock.now
        try await seed(client: client, nodes: nodes)
        let seedRate = Double(objects) / (ContinuousClock.now - seedStart).seconds
        log("\(name): seeded \(objects) finished TrainingJobs with their Pods and records (\(Int(seedRate)) jobs/s)")
        let bareList = try await bareListOfTheCaches(client: client)

        figures += try await ControllerProcess.with(binary: binary, kubeconfig: kubeconfig) { controller in
            let synced = try await controller.awaitSynced(timeout: .seconds(300)) - controller.started
            let peak = controller.memory()?.peakBytes ?? 0
            let (convergeWrites, quietSince) = try await awaitQuiet(controller)
            let drained = quietSince - controller.started - synced
            log("\(name): caches synced \(Int(synced.milliseconds)) ms after exec; \(convergeWrites) writes after sync; queues drained \(Int(drained.milliseconds)) ms after sync")
            let idleResult = try await measureIdle(controller: controller, cluster: cluster)
            let steady = controller.memory()?.rssBytes ?? 0
            let latency = try await measureLatency(client: client, log: log)
            let perPod = Double(steady - empty) / Double(objects) / 1024
            let ratio = Double(peak) / Double(max(1, steady))
            return [
                BenchFigure(name, "N=\(objects): exec → caches synced (/readyz)", synced.milliseconds, "ms",
                            note: synced <= .seconds(2) ? "target ≤ 2 s: met" : "target ≤ 2 s: MISSED"),
                BenchFigure(name, "N=\(objects): baseline: bare LIST of the same objects", bareList.milliseconds, "ms", note: "pods, trainingjobs, configmaps with Gantry's label, one after another"),
                BenchFigure(name, "N=\(objects): caches synced → work queues drained", drained.milliseconds, "ms",
                            note: "the first reconcile of every cached object (no writes); the idle window starts after it"),
                BenchFigure(name, "N=\(objects): writes after sync (seed already converged)", Double(convergeWrites), "", note: convergeWrites == 0 ? "expected 0: met" : "expected 0: MISSED"),
                BenchFigure(name, "idle RSS, nothing cached", mib(empty), "MiB", note: empty <= 20 << 20 ? "target ≤ 20 MiB: met" : "target ≤ 20 MiB: MISSED"),
                BenchFigure(name, "idle RSS, nothing cached: anonymous part", mib(emptyReading.anonymousBytes), "MiB",
                            note: "RssAnon: the heap and stacks; the rest of RSS is pages of the binary and shared libraries"),
                BenchFigure(name, "idle working set, nothing cached", workingSet.map(mib) ?? 0, "MiB",
                            note: (workingSet == nil ? "UNREADABLE (clear_refs or smaps_rollup); " : "") + "pages touched over \(Int(workingSetWindow.seconds)) s idle (clear_refs, then Referenced in smaps_rollup); not a target, what of RSS stays in use"),
                BenchFigure(name, "N=\(objects): steady RSS", mib(steady), "MiB", note: "after the idle window"),
                BenchFigure(name, "N=\(objects): RSS per cached Pod (with its job and record)", perPod, "KiB",
                            note: perPod <= 8 ? "target ≤ 8 KiB: met" : "target ≤ 8 KiB: MISSED"),
                BenchFigure(name, "N=\(objects): peak RSS during the initial list / steady", ratio, "×",
                            note: (ratio <= 1.3 ? "target ≤ 1.3: met" : "target ≤ 1.3: MISSED") + "; peak \(String(format: "%.1f", mib(peak))) MiB (VmHWM at sync)"),
                BenchFigure(name, "N=\(objects): controller CPU, idle", idleResult.cpuPercent, "% of a core",
                            note: (idleResult.cpuPercent <= 1 ? "target ≤ 1 %: met" : "target ≤ 1 %: MISSED") + " over \(Int(idle.seconds)) s"),
                BenchFigure(name, "N=\(objects): controller requests while idle, other than watches", Double(idleResult.otherRequests), "",
                            note: (idleResult.otherRequests == 0 ? "target 0: met" : "target 0: MISSED (\(idleResult.sample))") + "; \(idleResult.watches) watch (re)starts"),
                BenchFigure(name, "N=\(objects): API server CPU, idle", idleResult.serverPercent, "% of a core", note: "this process (in-process server, no simulation)"),
                BenchFigure(name, "N=\(objects): apply → all 4 pods created, p50", latency.median.milliseconds, "ms", note: "\(latencyJobs) jobs, one at a time"),
                BenchFigure(name, "N=\(objects): apply → all 4 pods created, p99", latency.p99.milliseconds, "ms",
                            note: latency.p99 <= .milliseconds(50) + bare.median ? "target ≤ 50 ms + round trips: met" : "target ≤ 50 ms + round trips: MISSED"),
                BenchFigure(name, "N=\(objects): baseline: bare client, the same writes in a row, p50", bare.median.milliseconds, "ms",
                            note: "job, finalizer, status, Service, 4 pods at once: the round trips; p99 \(String(format: "%.1f", bare.p99.milliseconds)) ms"),
            ]
        }
        return figures
    }

    func mib(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }

    // MARK: seed

    /// GPU Nodes as a kubelet registers them (status included), enough for the latency jobs.
    func createNodes(count: Int, client: KubeClient) async throws -> [JSONValue] {
        var nodes: [JSONValue] = []
        for i in 0..<count {
            let capacity: JSONValue = ["cpu": "64", "memory": "512Gi", "pods": "110", "nvidia.com/gpu": "8"]
            var node: JSONValue = ["apiVersion": "v1", "kind": "Node", "spec": [:],
                                   "status": ["capacity": capacity, "allocatable": capacity,
                                              "conditions": [["type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
                                                              "lastHeartbeatTime": .string(Timestamp.format(Date())), "lastTransitionTime": .string(Timestamp.format(Date()))]]]]
            node.name = "bench-gpu-\(i)"
            node.labels = ["kubernetes.io/hostname": "bench-gpu-\(i)", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB", "nvidia.com/gpu.count": "8"]
            var created = try await client.create(.nodes, node)
            if created[path: "status", "allocatable"] == nil {  // a server that drops status on create: write it
                created["status"] = node["status"]
                created = try await client.updateStatus(.nodes, created)
            }
            nodes.append(created)
        }
        return nodes
    }

    func seed(client: KubeClient, nodes: [JSONValue]) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(concurrency, objects) {
                let i = next
                next += 1
                group.addTask { try await seedOne(i, client: client, nodes: nodes) }
            }
            while try await group.next() != nil {
                guard next < objects else { continue }
                let i = next
                next += 1
                group.addTask { try await seedOne(i, client: client, nodes: nodes) }
            }
        }
    }

    /// One finished job as the operator leaves it: the job, its Succeeded pod, the status the planner computes
    /// for them (run until it no longer changes), and the record ConfigMap.
    func seedOne(_ i: Int, client: KubeClient, nodes: [JSONValue]) async throws {
        var object: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "TrainingJob",
                                 "spec": ["image": "ghcr.io/example/trainer:1.0", "gpu": ["count": 1], "finishedPodPolicy": "Keep"]]
        object.name = "seed-\(i)"
        object.namespace = "default"
        let created = try await client.create(.trainingJobs, object, namespace: "default")
        var job = try TrainingJob(created)
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        var pod = try await client.create(.pods, TrainingPods.desiredPod(job, index: 0, attempt: 0, placement: placement).json, namespace: "default")
        let stamp = JSONValue.string(Timestamp.format(Date()))
        pod["status"] = ["phase": "Succeeded", "startTime": stamp,
                         "conditions": [["type": "Ready", "status": "False", "reason": "PodCompleted", "lastTransitionTime": stamp]],
                         "containerStatuses": [["name": .string(TrainingPods.containerName), "ready": false, "restartCount": 0,
                                                "image": "ghcr.io/example/trainer:1.0", "imageID": "", "started": false,
                                                "state": ["terminated": ["exitCode": 0, "reason": "Completed", "startedAt": stamp, "finishedAt": stamp]]]]]
        pod = try await client.updateStatus(.pods, pod)

        var status = job.status
        for _ in 0..<4 {
            var observation = TrainingJobObservation(job: job, pods: [pod], serviceExists: false, hostfileExists: false, recordExists: true,
                                                     platform: PlatformConfigSpec(), nodes: nodes, admission: .admitted,
                                                     logTails: [pod.name ?? "": ["done"]], now: Date().timeIntervalSince1970)
            observation.hasFinalizer = true
            let next = TrainingJobPlanner.plan(observation).status
            if next == status { break }
            status = next
            job.status = next
        }
        guard status.phase == .succeeded else { throw BenchError.setup("seed job \(i) planned as \(String(describing: status.phase)), not Succeeded") }
        var withStatus = created
        withStatus["status"] = try JSONValue(encoding: status).droppingNulls()
        let written = try await client.updateStatus(.trainingJobs, withStatus)
        let observed = [ObservedPod(pod, attemptAnnotation: TrainingPods.attemptAnnotation)]
        _ = try await client.create(.configMaps, TrainingRecord.configMap(try TrainingJob(written), status: status, pods: observed).json, namespace: "default")
    }

    /// What the controller lists, read by a bare client one kind after another: the floor of "caches synced".
    func bareListOfTheCaches(client: KubeClient) async throws -> Duration {
        let start = ContinuousClock.now
        let selector = ListOptions(labelSelector: OperatorCaches.childSelector)
        _ = try await client.list(.pods, namespace: nil, options: selector)
        _ = try await client.list(.trainingJobs, namespace: nil)
        _ = try await client.list(.configMaps, namespace: nil, options: selector)
        return ContinuousClock.now - start
    }

    // MARK: idle

    /// Waits until the controller has converged: its write count the same and every work queue empty
    /// (`workqueue_depth`, as controller-runtime exports it) for 2 s; the writes it made after sync. A converged
    /// seed writes nothing, but its first reconcile of every object still runs after sync: that is start-up
    /// work, not idle (the idle window must not begin while the queues drain).
    func awaitQuiet(_ controller: ControllerProcess) async throws -> (writes: Int, quietSince: ContinuousClock.Instant) {
        let first = try await controller.writes()
        var last = first, stableSince = ContinuousClock.now
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now - stableSince < .seconds(2) {
            guard ContinuousClock.now < deadline else { throw BenchError.timeout("the controller kept writing or reconciling for 300 s after sync") }
            try await Task.sleep(for: .milliseconds(200))
            let now = try await controller.writes()
            let depth = await controller.queueDepth()
            if now != last || depth != 0 { last = now; stableSince = ContinuousClock.now }
        }
        return (last - first, stableSince)
    }

    struct Idle { var cpuPercent: Double; var serverPercent: Double; var watches: Int; var otherRequests: Int; var sample: String }

    /// The controller's CPU and requests (from the API server's request log, by user agent) over the idle window.
    func measureIdle(controller: ControllerProcess, cluster: DevCluster) async throws -> Idle {
        let start = ContinuousClock.now
        let cpuBefore = controller.cpuTime(), serverBefore = ProcessCPU.now()
        try await Task.sleep(for: idle)
        let elapsed = ContinuousClock.now - start
        let cpu = controller.cpuTime() - cpuBefore, server = ProcessCPU.now() - serverBefore
        let requests = cluster.requests().filter { $0.received >= start && $0.userAgent?.hasPrefix("gantry-bench") != true }
        let watches = requests.filter { $0.query.contains("watch=true") }
        let others = requests.filter { !$0.query.contains("watch=true") }
        return Idle(cpuPercent: 100 * cpu.seconds / elapsed.seconds, serverPercent: 100 * server.seconds / elapsed.seconds,
                    watches: watches.count, otherRequests: others.count,
                    sample: others.prefix(3).map { "\($0.method) \($0.path)" }.joined(separator: ", "))
    }

    // MARK: latency

    /// Apply → all pods of a 4-replica job seen on a pod watch, one job at a time, with everything above cached.
    func measureLatency(client: KubeClient, log: @Sendable (String) -> Void) async throws -> Samples {
        let counter = PodCounter(client: client, target: 4 * latencyJobs, selector: "\(GantryLabels.role)=trainer,bench-latency=true")
        let watch = Task { await counter.run() }
        defer { watch.cancel() }
        await counter.ready()
        var samples = Samples()
        for i in 0..<latencyJobs {
            let before = await counter.count
            let start = ContinuousClock.now
            _ = try await client.create(.trainingJobs, Self.latencyJob("latency-\(i)"), namespace: "default")
            guard let done = await counter.reached(before + 4, timeout: .seconds(60)) else {
                throw BenchError.timeout("latency-\(i): only \(await counter.count - before) of 4 pods created within 60 s")
            }
            samples.append(done - start)
        }
        log("\(name): apply → 4 pods p50 \(String(format: "%.1f", samples.median.milliseconds)) ms")
        return samples
    }

    /// A bare client making the operator's writes for such a job in a row (no operator running).
    func bareLatency(client: KubeClient) async throws -> Samples {
        var bare = Samples()
        for i in 0..<latencyJobs {
            let start = ContinuousClock.now
            try await Self.bareWrites("bare-\(i)", client: client)
            bare.append(ContinuousClock.now - start)
        }
        for i in 0..<latencyJobs {
            _ = try await client.patch(.trainingJobs, namespace: "default", name: "bare-\(i)", patch: ["metadata": ["finalizers": nil]])
            try await client.delete(.trainingJobs, namespace: "default", name: "bare-\(i)")
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while !(try await client.list(.pods, namespace: "default", options: ListOptions(labelSelector: "bench-latency=true")).items.isEmpty) {
            guard ContinuousClock.now < deadline else { throw BenchError.timeout("the bare client's pods were not garbage-collected") }
            try await Task.sleep(for: .milliseconds(100))
        }
        return bare
    }

    static func latencyJob(_ name: String) -> JSONValue {
        var job: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "TrainingJob",
                              "spec": ["image": "ghcr.io/example/trainer:1.0", "replicas": 4, "gpu": ["count": 1],
                                       "distributed": ["framework": "pytorch"], "podMetadata": ["labels": ["bench-latency": "true"]]]]
        job.name = name
        job.namespace = "default"
        return job
    }

    /// The operator's writes until a 4-replica job's pods exist, made by a bare client: the job, its finalizer, the
    /// Admitted status, the headless Service, then the 4 pods at once (as the operator creates them).
    static func bareWrites(_ name: String, client: KubeClient) async throws {
        let created = try await client.create(.trainingJobs, latencyJob(name), namespace: "default")
        var object = try await client.patch(.trainingJobs, namespace: "default", name: name, patch: ["metadata": ["finalizers": ["gantry.dev/record"]]])
        let job = try TrainingJob(created)
        object["status"] = ["phase": "Admitted"]
        _ = try await client.updateStatus(.trainingJobs, object)
        _ = try await client.create(.services, TrainingPods.desiredService(job).json, namespace: "default")
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<4 {
                let pod = TrainingPods.desiredPod(job, index: index, attempt: 0, placement: placement).json
                group.addTask { _ = try await client.create(.pods, pod, namespace: "default") }
            }
            try await group.waitForAll()
        }
    }
}
