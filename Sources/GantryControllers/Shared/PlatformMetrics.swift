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

    /// Indexed by `PlatformTally.Kind`, then the PlatformConfigs' informer last.
    let informers: [Informer]
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
        self.clock = clock
        self.period = period
        self.minInterval = minInterval
        self.factory = factory
    }

    /// Publishes until cancelled, then removes its gauges.
    public func run() async {
        // Newest-only: a burst of events while a refresh runs asks for one more refresh, not one per event.
        let (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let changed = ChangedKeys(kinds: informers.count)
        for (index, informer) in informers.enumerated() {
            await informer.addHandler { event in changed.insert(event.object.objectKey, kind: index); wake.yield() }
        }
        for informer in informers { await informer.store.waitUntilSynced() }
        guard !Task.isCancelled else { return }
        var gauges = PlatformGauges(factory: factory)
        let (clock, period, minInterval) = (self.clock, self.period, self.minInterval)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                while (try? await clock.sleep(for: period)) != nil { wake.yield() }
            }
            // Changes before this full read are in it; each later one re-reads its object from the cache.
            _ = changed.take()
            var tally = PlatformTally(stores: informers.map(\.store))
            await tally.rebuild()
            gauges.publish(tally.snapshot(), at: clock.now)
            for await _ in wakes {
                let start = clock.now
                // The levels are a function of the caches alone: without a change only the GPU-seconds counter
                // moves on. A change re-reads only the objects it names (a full read of 10,000 jobs and pods
                // costs ~0.1 s of CPU, and a burst changes them all the time).
                let keys = changed.take()
                guard keys.contains(where: { !$0.isEmpty }) else { gauges.advance(to: start); continue }
                await tally.update(keys)
                gauges.publish(tally.snapshot(), at: start)
                // At most a tenth of a core, however large the caches.
                guard (try? await clock.sleep(for: max(minInterval, (clock.now - start) * 10))) != nil else { break }
            }
            group.cancelAll()
        }
        wake.finish()
        gauges.clear(at: clock.now)
    }
}

/// One contribution per cached object of each kind (PlatformSnapshot.Contribution), kept between refreshes so a
/// refresh re-reads only the objects that changed; the snapshot adds them up.
struct PlatformTally {
    /// The kinds counted, in the order of `PlatformMetrics.informers` (the PlatformConfigs' informer comes after).
    enum Kind: Int, CaseIterable {
        case trainingJobs, inferenceServices, notebooks, experiments, pods

        func contribution(_ object: JSONValue, gpu: GPUSettings) -> PlatformSnapshot.Contribution? {
            switch self {
            case .trainingJobs: .init(trainingJob: object)
            case .inferenceServices: .init(inferenceService: object)
            case .notebooks: .init(notebook: object)
            case .experiments: .init(experiment: object)
            case .pods: .init(pod: object, gpu: gpu)
            }
        }
    }

    /// One per `Kind`, then the PlatformConfigs' (as `PlatformMetrics.informers`).
    let stores: [Store]
    private var platformConfigs: Store { stores[Kind.allCases.count] }
    private var contributions: [Kind: [ObjectKey: PlatformSnapshot.Contribution]] = [:]
    private var gpu = GPUSettings()

    init(stores: [Store]) {
        precondition(stores.count == Kind.allCases.count + 1, "one store per kind and the PlatformConfigs'")  // trap-ok: a programming error, fixed at the two call sites
        self.stores = stores
    }

    /// Reads every cached object.
    mutating func rebuild() async {
        gpu = await OperatorCaches.platform(from: platformConfigs).effectiveGPU
        for kind in Kind.allCases { await rebuild(kind) }
    }

    private mutating func rebuild(_ kind: Kind) async {
        var fresh: [ObjectKey: PlatformSnapshot.Contribution] = [:]
        for object in await stores[kind.rawValue].list() {
            if let c = kind.contribution(object, gpu: gpu) { fresh[object.objectKey] = c }
        }
        contributions[kind] = fresh
    }

    /// Re-reads the objects named in `changed` (indexed as `PlatformMetrics.informers`); a PlatformConfig change
    /// that moves the GPU resource names re-reads every pod.
    mutating func update(_ changed: [Set<ObjectKey>]) async {
        var podsDone = false
        if !changed[Kind.allCases.count].isEmpty {
            let now = await OperatorCaches.platform(from: platformConfigs).effectiveGPU
            if now != gpu {
                gpu = now
                await rebuild(.pods)
                podsDone = true
            }
        }
        for kind in Kind.allCases where !(kind == .pods && podsDone) {
            let store = stores[kind.rawValue]
            for key in changed[kind.rawValue] {
                contributions[kind, default: [:]][key] = await store.get(key).flatMap { kind.contribution($0, gpu: gpu) }
            }
        }
    }

    func snapshot() -> PlatformSnapshot {
        PlatformSnapshot(contributions: contributions.values.lazy.flatMap(\.values))
    }
}

/// The keys each informer delivered a change for since the last refresh took them (inserted from handlers,
/// taken by the refresh loop).
private final class ChangedKeys: Sendable {
    private let state: Mutex<[Set<ObjectKey>]>
    init(kinds: Int) { state = Mutex(Array(repeating: [], count: kinds)) }
    func insert(_ key: ObjectKey, kind: Int) { _ = state.withLock { $0[kind].insert(key) } }
    func take() -> [Set<ObjectKey>] {
        state.withLock { sets in
            defer { for i in sets.indices { sets[i].removeAll() } }
            return sets
        }
    }
}
