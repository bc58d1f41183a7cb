import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Assembles Gantry's controllers over shared caches and runs them: the `gantry controller` data path.
/// Each controller gets its watches (primary kind, owned children, extra inputs) and a reconciler.
public struct OperatorManager: Sendable {
    public struct Options: Sendable {
        public var workers = 4
        public var instance = "gantry"
        /// Watch one namespace only (nil: all namespaces).
        public var namespace: String?
        /// Running jobs whose metrics log is followed as a stream; the others are polled (MetricsCollector).
        public var maxLogStreams = 64
        public init() {}
    }

    public let client: KubeClient
    public let caches = OperatorCaches()
    /// Admission decisions kept between reconciles, fed by TrainingJob, node and PlatformConfig events.
    public let admission = AdmissionLedger()
    public let options: Options
    let clock: any RuntimeClock
    let trainingJobs: Controller

    public init(client: KubeClient, options: Options = .init(), clock: any RuntimeClock = SystemClock()) {
        self.client = client
        self.options = options
        self.clock = clock
        let caches = self.caches
        let admission = self.admission
        let ns = options.namespace
        func source(_ type: ResourceType, children: Bool) -> ClientListerWatcher {
            ClientListerWatcher(client: client, type: type, namespace: type.namespaced ? ns : nil,
                                labelSelector: children ? OperatorCaches.childSelector : nil,
                                notServedHint: type.group == GantryGroup.name ? OperatorManager.missingCRDHint(type) : nil)
        }
        var controllerOptions = Controller.Options()
        controllerOptions.workers = options.workers
        let ownedBy = { (type: ResourceType, store: Store) in
            WatchSpec.owned(source(type, children: true), store: store, ownerKind: "TrainingJob", ownerGroup: GantryGroup.name)
        }
        trainingJobs = Controller(name: "trainingjob", watches: [
            WatchSpec(source: source(.trainingJobs, children: false), store: caches.trainingJobs) { event in
                await admission.observe(event)
                return [event.object.objectKey]
            },
            ownedBy(.pods, caches.pods),
            ownedBy(.services, caches.services),
            // Records have no owner (they outlive the job); their label names the job.
            WatchSpec(source: source(.configMaps, children: true), store: caches.configMaps) { event in
                guard let job = event.object.annotations[GantryLabels.trainingJob] ?? event.object.labels[GantryLabels.trainingJob] else { return [] }
                return [ObjectKey(namespace: event.object.namespace, name: job)]
            },
            // Dataset caches are shared: their changes concern every job of the namespace reading that dataset.
            WatchSpec(source: source(.daemonSets, children: true), store: caches.daemonSets) { event in
                guard let uri = event.object.annotations[DatasetCache.uriAnnotation], let ns = event.object.namespace else { return [] }
                return await caches.trainingJobs.list(namespace: ns).filter { $0[path: "spec", "dataset", "uri"]?.stringValue == uri }.map(\.objectKey)
            },
            // Nodes and the platform config change what every job may do: look at all of them again.
            WatchSpec(source: source(.nodes, children: false), store: caches.nodes) { event in
                await admission.observeNode(event)
                return []
            },
            WatchSpec(source: source(.platformConfigs, children: false), store: caches.platformConfigs) { _ in
                await admission.invalidate()
                return await caches.trainingJobs.keys
            },
        ], options: controllerOptions, clock: clock)
    }

    /// A 404 on listing one of Gantry's kinds: the CRDs were not applied (the usual first-install slip).
    static func missingCRDHint(_ type: ResourceType) -> String {
        "the CustomResourceDefinition \(type.description) is not installed; install Gantry's CRDs with `kubectl apply -k crds/` "
            + "(or `gantry crds | kubectl apply -f -`)"
    }

    /// True once every cache has its first complete list (`/readyz`).
    public func hasSynced() async -> Bool { await trainingJobs.hasSynced() }

    /// Runs every controller until cancelled.
    public func run() async {
        let events = EventRecorder(client: client, controller: "gantry.dev/trainingjob-controller", instance: options.instance, clock: clock)
        let queue = trainingJobs.queue
        let caches = self.caches
        // Log follows are long-lived streams, one per running job; kube-apiserver allows 100 streams per HTTP/2
        // connection. They get a connection pool of their own, so they never queue ahead of the reconciler's
        // writes and watches (with one shared pool, 2,000 jobs never all reached Running: docs/benchmarks.md).
        let logClient: KubeClient
        do {
            logClient = try KubeClient(config: client.config, options: client.options)
        } catch {
            Logger(label: "gantry.operator").warning("log follows share the controller's connection", metadata: ["error": "\(error)"])
            logClient = client
        }
        let metrics = MetricsCollector(client: logClient, clock: clock, maxStreams: options.maxLogStreams, peersFromCache: { namespace, experiment in
            await caches.trainingJobs.list(namespace: namespace, selector: LabelSelector([.equals(GantryLabels.experiment, experiment)]))
                .compactMap { object -> (key: ObjectKey, peer: EarlyStoppingRules.Peer)? in
                    guard let job = try? TrainingJob(object), let m = job.status.metrics, let step = m.step,
                          let metric = job.spec.earlyStopping?.metric else { return nil }
                    let history = (m.history(of: metric) ?? []).compactMap { p in p.count == 2 ? MetricSeries.Point(step: Int(p[0]), value: p[1]) : nil }
                    return (job.key, EarlyStoppingRules.Peer(name: job.name, history: history, lastStep: step))
                }
        }, notify: { key in await queue.add(key) })
        let reconciler = TrainingJobReconciler(client: client, caches: caches, events: events, metrics: metrics,
                                               admission: admission, clock: clock)
        await trainingJobs.run(reconciler)
    }
}
