import GantryAPI
import KubeCore
import KubeRuntime
import Metrics
import Synchronization

/// The platform's levels on `/metrics`, level-based: it reads the shared informers' caches (never the API) when
/// they change, at most once per `minInterval` (longer when a refresh is slow), and every `period` regardless, and publishes a
/// `PlatformSnapshot` as gauges plus the GPU-seconds counter (PlatformGauges). It runs inside the operator,
/// that is on the leader only; its gauges are removed when it stops. Transition counters are PlatformTransitions'.
public struct PlatformMetrics: Sendable {
    public struct Keys: Sendable {
        public var trainingJobs, inferenceServices, notebooks, experiments, pods, platformConfigs: SharedInformers.Key
    }

    /// What a snapshot reads of each kind (PlatformSnapshot, PlatformTransitions): declared so the projected
    /// stores keep it.
    static let trainingJobFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "namespace", "creationTimestamp"),
        "spec": .keys("activeDeadlineSeconds"),
        "status": .keys("phase", "requestedGPUs", "startTime", "conditions"),
    ])
    static let inferenceServiceFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "namespace"),
        "spec": .keys("gpu", "replicas"),
        "status": .keys("activeRevision", "candidate", "conditions"),
    ])
    static let notebookFields: FieldMask = .object(keys: ["metadata": .keys("name", "namespace"), "status": .keys("phase", "gpus")])
    /// Experiments hold no GPUs themselves (their trials are TrainingJobs): counted by phase only.
    static let experimentFields: FieldMask = .object(keys: ["metadata": .keys("name", "namespace"), "status": .keys("phase")])
    static let podFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "namespace", "labels"),
        "spec": .object(keys: ["nodeName": .all, "containers": .elements(.keys("resources"))]),
        "status": .keys("phase"),
    ])

    public static func declare(into requests: inout InformerRequests, source: SourceFactory) -> Keys {
        Keys(trainingJobs: requests.request(source(.trainingJobs, false), fields: trainingJobFields),
             inferenceServices: requests.request(source(.inferenceServices, false), fields: inferenceServiceFields),
             notebooks: requests.request(source(.notebooks, false), fields: notebookFields),
             experiments: requests.request(source(.experiments, false), fields: experimentFields),
             pods: requests.request(source(.pods, true), fields: podFields),
             platformConfigs: requests.request(source(.platformConfigs, false)))
    }

    let informers: [Informer]
    let trainingJobs, inferenceServices, notebooks, experiments, pods, platformConfigs: Store
    let clock: any RuntimeClock
    let period: Duration
    let minInterval: Duration
    let factory: any MetricsFactory

    public init(_ shared: SharedInformers, _ keys: Keys, clock: any RuntimeClock, period: Duration = .seconds(5),
                minInterval: Duration = .seconds(1), factory: any MetricsFactory = MetricsSystem.factory) throws {
        let ordered = [keys.trainingJobs, keys.inferenceServices, keys.notebooks, keys.experiments, keys.pods, keys.platformConfigs]
        informers = try ordered.map { key in
            guard let informer = shared[key] else { throw InformerError.undeclared(key.description) }
            return informer
        }
        (trainingJobs, inferenceServices, notebooks, experiments, pods, platformConfigs) =
            (informers[0].store, informers[1].store, informers[2].store, informers[3].store, informers[4].store, informers[5].store)
        self.clock = clock
        self.period = period
        self.minInterval = minInterval
        self.factory = factory
    }

    /// The levels now.
    public func snapshot() async -> PlatformSnapshot {
        PlatformSnapshot(trainingJobs: await trainingJobs.list(), inferenceServices: await inferenceServices.list(),
                         notebooks: await notebooks.list(), experiments: await experiments.list(), pods: await pods.list(),
                         gpu: await OperatorCaches.platform(from: platformConfigs).effectiveGPU)
    }

    /// Publishes until cancelled, then removes its gauges.
    public func run() async {
        // Newest-only: a burst of events while a refresh runs asks for one more refresh, not one per event.
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let changed = ChangeFlag()
        for informer in informers { await informer.addHandler { _ in changed.set(); wake.yield() } }
        for informer in informers { await informer.store.waitUntilSynced() }
        guard !Task.isCancelled else { return }
        var gauges = PlatformGauges(factory: factory)
        let (clock, period, minInterval) = (self.clock, self.period, self.minInterval)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while (try? await clock.sleep(for: period)) != nil { wake.yield() }
            }
            _ = changed.take()
            gauges.publish(await snapshot(), at: clock.now)
            for await _ in wakes {
                let start = clock.now
                // The levels are a function of the caches alone: without a change only the GPU-seconds counter
                // moves on (a snapshot of 10,000 jobs and pods costs ~0.1 s of CPU; idle, none is taken).
                guard changed.take() else { gauges.advance(to: start); continue }
                gauges.publish(await snapshot(), at: start)
                // At most a tenth of a core, however large the caches (2,000 jobs and 4,000 pods: ~90 ms a refresh
                // in a debug build).
                guard (try? await clock.sleep(for: max(minInterval, (clock.now - start) * 10))) != nil else { break }
            }
            group.cancelAll()
        }
        wake.finish()
        gauges.clear(at: clock.now)
    }
}

/// Whether an informer delivered a change since the last refresh took it (set from handlers, taken by the
/// refresh loop).
private final class ChangeFlag: Sendable {
    private let state = Mutex(false)
    func set() { state.withLock { $0 = true } }
    func take() -> Bool { state.withLock { value in defer { value = false }; return value } }
}
