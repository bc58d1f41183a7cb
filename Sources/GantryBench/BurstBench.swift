import Foundation
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore
import KubeRuntime

/// `burst`: N TrainingJobs of one shape created at once, against the same pods created by a bare libcurl client
/// (issue #8 item 15: two-replica jobs; issue #14 scenario 1: 2,000 one-replica and 500 four-replica jobs, the
/// `burst-one-replica` and `burst-four-replica` variants). Each scale runs three times on a fresh `gantry dev`
/// process (a large simulated GPU pool): once a bare `KubeClient` creates the N × R pods with 4 requests in flight;
/// once a bare client makes the operator's writes per job, 32 jobs at once (the ceiling);
/// once the operator, in this process, admits N jobs and creates their pods. The API server runs in its own
/// process so its CPU is reported apart from the controller's.
///
/// Controller CPU per job is this process's CPU (getrusage) during the operator phase, less what creating the N
/// TrainingJobs cost the creating client here (measured per create in the bare phase).
public struct BurstBench: Sendable {
    public var scales: [Int]
    /// Replicas per job, one GPU each: more than one makes a distributed (pytorch) job with a headless Service.
    public let replicas: Int
    public var concurrency = 4
    /// Jobs the ceiling's bare client works on at once. Enough to keep the server busy: with 4, each lane waited
    /// on seven round trips per job and the "ceiling" ran slower than the operator (207 pods/s at 4 lanes, 262 at
    /// 8, 296 at 16, 324 at 32; N=2,000 one-replica jobs, seventh run in docs/benchmarks.md).
    public var ceilingLanes = 32
    public var timeout: Duration = .seconds(300)

    /// The job shapes `gantry bench` knows, by benchmark name: replicas, default scales, quick scales.
    static let shapes: [String: (replicas: Int, scales: [Int], quick: [Int])] = [
        "burst": (2, [50, 200, 1000], [50, 200]),
        "burst-one-replica": (1, [2000], [200]),
        "burst-four-replica": (4, [500], [50]),
    ]

    public init(quick: Bool, scales: [Int]? = nil, replicas: Int = 2) {
        self.replicas = replicas
        let shape = Self.shapes.values.first { $0.replicas == replicas }
        self.scales = (quick ? shape?.quick : shape?.scales) ?? [50]
        if let scales, !scales.isEmpty { self.scales = scales }
    }

    /// The benchmark's name in `gantry bench --only`.
    var name: String { Self.shapes.first { $0.value.replicas == replicas }?.key ?? "burst-\(replicas)-replica" }

    public func run(log: @Sendable (String) -> Void) async throws -> [BenchFigure] {
        let binary = try DevStartupBench.gantryBinary()
        var figures: [BenchFigure] = []
        let r = replicas
        for n in scales {
            let nodes = "\((r * n + 7) / 8 + 1)x{gpu: 8, product: A100}"
            let bare = try await DevProcess.with(binary: binary, nodes: nodes) { dev in try await barePhase(n, dev: dev) }
            log("\(name): N=\(n): bare client \(Int(bare.podsPerSecond)) pods/s, \(String(format: "%.2f", bare.clientCPUPerCreate.milliseconds)) ms client CPU per create")
            let (same, sameServerCPU) = try await DevProcess.with(binary: binary, nodes: nodes) { dev in try await sameWritesPhase(n, dev: dev) }
            log("\(name): N=\(n): bare client doing the operator's writes \(Int(same)) pods/s")
            let op = try await DevProcess.with(binary: binary, nodes: nodes) { dev in try await operatorPhase(n, dev: dev, bare: bare) }
            log("\(name): N=\(n): operator \(Int(op.podsPerSecond)) pods/s, \(String(format: "%.2f", op.controllerCPUPerJob.milliseconds)) ms controller CPU per job")
            let ratio = op.podsPerSecond / same
            let service = r > 1 ? "Service, " : ""
            figures += [
                BenchFigure(name, "N=\(n): bare client, pods only, pods created per second", bare.podsPerSecond, "pods/s", note: "\(r * n) pods, \(concurrency) in flight"),
                BenchFigure(name, "N=\(n): bare client, the operator's writes, pods created per second", same, "pods/s",
                            note: "per job: create, finalizer, status, \(service)\(r) pod\(r == 1 ? "" : "s"), Event, Running status and Event"),
                BenchFigure(name, "N=\(n): operator, pods created per second", op.podsPerSecond, "pods/s", note: "first job create → last pod created"),
                BenchFigure(name, "N=\(n): operator / bare client doing its writes", ratio, "×", note: ratio >= 0.8 ? "target ≥ 0.8: met" : "target ≥ 0.8: MISSED"),
                BenchFigure(name, "N=\(n): operator / bare client, pods only", op.podsPerSecond / bare.podsPerSecond, "×"),
                BenchFigure(name, "N=\(n): controller CPU per job, until every job runs", op.controllerCPUPerJob.milliseconds, "ms"),
                BenchFigure(name, "N=\(n): full admission computations, until every job runs", Double(op.admissionComputations), "",
                            note: "each walks every TrainingJob; the rest continue the last walk"),
                BenchFigure(name, "N=\(n): API server CPU per pod, operator phase", op.serverCPUPerPod.milliseconds, "ms", note: "bare phase, pods only: \(String(format: "%.2f", bare.serverCPUPerPod.milliseconds)) ms"),
                BenchFigure(name, "N=\(n): API server CPU per pod, bare client doing the operator's writes", sameServerCPU.milliseconds, "ms",
                            note: "until its last write; pods still starting then are charged to neither phase"),
            ]
        }
        return figures
    }

    struct Bare { var podsPerSecond: Double; var clientCPUPerCreate: Duration; var serverCPUPerPod: Duration }
    struct Operated { var podsPerSecond: Double; var controllerCPUPerJob: Duration; var serverCPUPerPod: Duration; var admissionComputations: Int }

    /// The pods Gantry would create for job `i`, without the owner (there is no job: GC would delete them).
    func pods(of i: Int) throws -> [JSONValue] {
        let job = try TrainingJob(Self.jobObject(i, replicas: replicas, uid: "bare-\(i)"))
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        return (0..<replicas).map { index in
            var pod = TrainingPods.desiredPod(job, index: index, attempt: 0, placement: placement).json
            pod[path: "metadata", "ownerReferences"] = nil
            return pod
        }
    }

    /// Job `i` of the burst: `replicas` replicas of one GPU; a distributed (pytorch) job when more than one, as
    /// validation requires, a plain one otherwise (no headless Service then).
    static func jobObject(_ i: Int, replicas: Int, uid: String? = nil) -> JSONValue {
        var job: JSONValue = ["apiVersion": .string(GantryGroup.apiVersion), "kind": "TrainingJob",
                              "spec": ["image": "ghcr.io/example/trainer:1.0", "replicas": .int(Int64(replicas)), "gpu": ["count": 1],
                                       "podMetadata": ["annotations": ["sim.gantry.dev/script": "{logs: [\"training\"]}"]]]]
        if replicas > 1 { job[path: "spec", "distributed"] = ["framework": "pytorch"] }
        job.name = "burst-\(i)"
        job.namespace = "default"
        if let uid { job[path: "metadata", "uid"] = .string(uid) }
        return job
    }

    func barePhase(_ n: Int, dev: DevProcess) async throws -> Bare {
        let client = try dev.client()
        let pods = try (0..<n).flatMap { try self.pods(of: $0) }
        let serverBefore = dev.cpuTime()
        let cpuBefore = ProcessCPU.now()
        let start = ContinuousClock.now
        try await Self.createAll(pods, type: .pods, client: client, concurrency: concurrency)
        let elapsed = ContinuousClock.now - start
        let cpu = ProcessCPU.now() - cpuBefore
        return Bare(podsPerSecond: Double(pods.count) / elapsed.seconds, clientCPUPerCreate: cpu / pods.count,
                    serverCPUPerPod: (dev.cpuTime() - serverBefore) / pods.count)
    }

    /// The ceiling for the operator: a bare client making, per job, exactly the writes the operator makes until
    /// the job runs (the job's create, the finalizer patch, the Admitted status, the headless Service of a
    /// distributed job, its pods, the Admitted Event, the Running status and Event: issue #14 scenario 3's budget),
    /// `ceilingLanes` jobs at once. Until the seventh run (docs/benchmarks.md) it stopped at the Admitted Event,
    /// though the operator phase pays for the Running writes too, and ran 4 jobs at once, which left it waiting
    /// on round trips rather than on the server.
    func sameWritesPhase(_ n: Int, dev: DevProcess) async throws -> (podsPerSecond: Double, serverCPUPerPod: Duration) {
        let client = try dev.client()
        try await EarlyStopBench(quick: true).installCRDs(client)
        let replicas = self.replicas
        let serverBefore = dev.cpuTime()
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            func add(_ group: inout ThrowingTaskGroup<Void, any Error>) {
                let i = next
                next += 1
                group.addTask { try await Self.operatorWrites(i, replicas: replicas, client: client) }
            }
            for _ in 0..<min(ceilingLanes, n) { add(&group) }
            while try await group.next() != nil { if next < n { add(&group) } }
        }
        return (Double(replicas * n) / (ContinuousClock.now - start).seconds, (dev.cpuTime() - serverBefore) / (replicas * n))
    }

    static func operatorWrites(_ i: Int, replicas: Int, client: KubeClient) async throws {
        let created = try await client.create(.trainingJobs, jobObject(i, replicas: replicas), namespace: "default")
        var object = try await client.patch(.trainingJobs, namespace: "default", name: created.name ?? "",
                                            patch: ["metadata": ["finalizers": ["gantry.dev/record"]]])
        let job = try TrainingJob(object)
        let admitted: JSONValue = ["type": "Admitted", "status": "True", "reason": "Admitted",
                                   "message": .string("\(replicas) GPUs for \(replicas) replica(s) fit the quota and free capacity"),
                                   "lastTransitionTime": .string(Timestamp.format(Date()))]
        object["status"] = ["phase": "Admitted", "conditions": [admitted]]
        object = try await client.updateStatus(.trainingJobs, object)
        if TrainingPods.needsService(job) { _ = try await client.create(.services, TrainingPods.desiredService(job).json, namespace: "default") }
        let placement = GPUPlacement(request: job.spec.gpu, settings: GPUSettings())
        for index in 0..<replicas {
            _ = try await client.create(.pods, TrainingPods.desiredPod(job, index: index, attempt: 0, placement: placement).json, namespace: "default")
        }
        _ = try await client.create(.events, event(job, "Admitted", note: "admitted with \(replicas) GPUs", suffix: "admitted"), namespace: "default")
        // Its pods run: the Running status and its Event (the operator writes them when the kubelets report the
        // pods running; a bare client need not wait, so the ceiling stays an upper bound).
        let now = Timestamp.format(Date())
        object["status"] = ["phase": "Running", "conditions": [
            admitted,
            ["type": "Running", "status": "True", "reason": "AllReplicasRunning", "message": .string("\(replicas) of \(replicas) replica(s) running"),
             "lastTransitionTime": .string(now)],
            ["type": "Ready", "status": "True", "reason": "Running", "message": "training is running", "lastTransitionTime": .string(now)],
        ]]
        _ = try await client.updateStatus(.trainingJobs, object)
        _ = try await client.create(.events, event(job, "Running", note: "all \(replicas) replica(s) are running", suffix: "running"), namespace: "default")
    }

    /// A Normal Event about `job`, as the operator's recorder writes it (events.k8s.io/v1).
    static func event(_ job: TrainingJob, _ reason: String, note: String, suffix: String) -> JSONValue {
        var event: JSONValue = ["apiVersion": "events.k8s.io/v1", "kind": "Event", "reason": .string(reason), "note": .string(note),
                                "type": "Normal", "action": "Reconcile", "reportingController": "gantry.dev/bench", "reportingInstance": "bench",
                                "eventTime": .string(Timestamp.formatMicro(Date())),
                                "regarding": ["apiVersion": .string(GantryGroup.apiVersion), "kind": "TrainingJob", "name": .string(job.name),
                                              "namespace": "default", "uid": .string(job.uid)]]
        event.name = "\(job.name).\(suffix)"
        event.namespace = "default"
        return event
    }

    func operatorPhase(_ n: Int, dev: DevProcess, bare: Bare) async throws -> Operated {
        let client = try dev.client()
        try await EarlyStopBench(quick: true).installCRDs(client)
        let manager = try OperatorManager(client: client)
        let operatorTask = Task { await manager.run() }
        defer { operatorTask.cancel() }
        let synced = ContinuousClock.now + .seconds(30)
        while !(await manager.hasSynced()) {
            guard ContinuousClock.now < synced else { throw BenchError.timeout("operator caches not synced") }
            try await Task.sleep(for: .milliseconds(50))
        }
        // Pods are counted as the operator's own pod informer receives them, not by a second watch: that one
        // cost the server a second stream of every pod event and this process (the operator's) a whole parse of
        // each, an instrument's load the ceiling does not carry.
        let counter = PodCounter(client: client, target: replicas * n)
        guard let pods = manager.informers.informers.first(where: { key, informer in
            informer.source.description == ResourceType.pods.description && key.labelSelector == OperatorCaches.childSelector
        })?.value else {
            throw BenchError.setup("the operator has no pod informer")
        }
        await pods.addHandler { event in
            if case .upserted(let pod, nil) = event { await counter.observe(pod) }
        }

        let serverBefore = dev.cpuTime()
        let cpuBefore = ProcessCPU.now()
        let start = ContinuousClock.now
        try await Self.createAll((0..<n).map { Self.jobObject($0, replicas: replicas) }, type: .trainingJobs, client: client, concurrency: concurrency)
        guard let done = await counter.reached(timeout: timeout) else {
            throw BenchError.timeout("only \(await counter.count) of \(replicas * n) pods were created within \(timeout)")
        }
        // CPU is counted until every job runs (admission, pods, the Running transition, its log follower), so
        // each scale pays for the same work per job, whatever overlaps the pod-creation window.
        let running = ContinuousClock.now + timeout
        while await manager.caches.trainingJobs.list().filter({ $0[path: "status", "phase"]?.stringValue == "Running" }).count < n {
            guard ContinuousClock.now < running else { throw BenchError.timeout("not every job reached Running within \(timeout)") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let cpu = ProcessCPU.now() - cpuBefore - bare.clientCPUPerCreate * n
        let serverCPU = dev.cpuTime() - serverBefore
        operatorTask.cancel()
        await operatorTask.value
        return Operated(podsPerSecond: Double(replicas * n) / (done - start).seconds, controllerCPUPerJob: cpu / n,
                        serverCPUPerPod: serverCPU / (replicas * n), admissionComputations: await manager.admission.computations)
    }

    /// Creates every object with `concurrency` requests in flight.
    static func createAll(_ objects: [JSONValue], type: ResourceType, client: KubeClient, concurrency: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<min(concurrency, objects.count) {
                let object = objects[next]
                next += 1
                group.addTask { _ = try await client.create(type, object, namespace: "default") }
            }
            while try await group.next() != nil {
                guard next < objects.count else { continue }
                let object = objects[next]
                next += 1
                group.addTask { _ = try await client.create(type, object, namespace: "default") }
            }
        }
    }
}

/// Counts Gantry's pods (or those matching `selector`) as their events arrive; `reached` answers when `target`
/// (or a given number of) distinct pods exist.
actor PodCounter {
    let client: KubeClient
    let target: Int
    let selector: String?
    private var names = Set<String>()
    /// When the n-th distinct pod arrived, at index n − 1.
    private var arrivals: [ContinuousClock.Instant] = []
    private var isReady = false

    init(client: KubeClient, target: Int, selector: String? = nil) {
        self.client = client
        self.target = target
        self.selector = selector
    }

    var count: Int { names.count }

    func ready() async {
        while !isReady { try? await Task.sleep(for: .milliseconds(20)) }
    }

    func reached(timeout: Duration) async -> ContinuousClock.Instant? { await reached(target, timeout: timeout) }

    func reached(_ count: Int, timeout: Duration) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + timeout
        // Each arrival is timed as its event comes in, so how often this checks changes no figure; checking every
        // millisecond cost the operator sharing this process a few percent of a core during a burst.
        while arrivals.count < count, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        return arrivals.count >= count ? arrivals[count - 1] : nil
    }

    func run() async {
        if let selector {
            await watchObjects(.pods, client: client, options: ListOptions(labelSelector: selector),
                               listed: { await self.markListed() }, note: { await self.note($0) })
        } else {
            await watchGantryPods(client: client, listed: { await self.markListed() }, note: { await self.note($0) })
        }
    }

    private func markListed() { isReady = true }

    /// A pod seen by another watcher (an informer's handler) instead of `run`'s own watch.
    func observe(_ pod: JSONValue) { note(pod) }

    private func note(_ pod: JSONValue) {
        guard let name = pod.name, names.insert(name).inserted else { return }
        arrivals.append(ContinuousClock.now)
    }
}

/// CPU time (user + system) of this process so far.
enum ProcessCPU {
    static func now() -> Duration {
        var usage = rusage()
        guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return .zero }
        func d(_ t: timeval) -> Duration { .seconds(Int64(t.tv_sec)) + .microseconds(Int64(t.tv_usec)) }
        return d(usage.ru_utime) + d(usage.ru_stime)
    }

    /// CPU time (user + system) another process has used, from /proc/PID/stat; zero once it is gone.
    static func of(pid: Int32) -> Duration {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return .zero }
        // Fields after the command name; utime and stime are fields 14 and 15 of the whole line.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return .zero }
        let ticks = Int64(sysconf(Int32(_SC_CLK_TCK)))
        return .milliseconds((user + system) * 1000 / max(1, ticks))
    }
}
