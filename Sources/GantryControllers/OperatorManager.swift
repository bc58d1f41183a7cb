import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Assembles Gantry's controllers over one set of shared informers and runs them: the `gantry controller` data
/// path. Every controller first declares what it watches and reads; then the informers are built (one per
/// resource, namespace and selector, whatever the number of controllers), and each controller registers its
/// handlers on them.
public struct OperatorManager: Sendable {
    public struct Options: Sendable {
        /// Concurrent reconciles per controller. A reconcile mostly waits on round trips (finalizer, status,
        /// children, Events): in a burst of 1,000 jobs 4 workers left the server waiting, 8 created pods 28 % faster
        /// at the same CPU per job (docs/benchmarks.md, burst, seventh run).
        public var workers = 8
        public var instance = "gantry"
        /// Watch one namespace only (nil: all namespaces).
        public var namespace: String?
        /// Running jobs whose metrics log is followed as a stream; the others are polled (MetricsCollector).
        public var maxLogStreams = 64
        /// Log reads per second shared by all polled jobs (MetricsCollector).
        public var maxLogPollsPerSecond: Double = 20
        public init() {}
    }

    public let client: KubeClient
    public let informers: SharedInformers
    public let caches: OperatorCaches
    /// Admission decisions kept between reconciles, fed by TrainingJob, node and PlatformConfig events.
    public let admission = AdmissionLedger()
    /// The platform's notification webhook (PlatformConfig spec.notifications), fed by events plans mark `notify`.
    public let notifier: Notifier
    /// The platform's gauges and GPU-seconds, read from the caches (docs/observability.md).
    public let platformMetrics: PlatformMetrics
    /// GPU-hours per namespace (budgets) and idle GPUs, kept in the PlatformConfig's status.
    public let accountant: GPUAccountant
    public let options: Options
    let clock: any RuntimeClock
    let trainingJobs: Controller
    /// Kinds run by the generic reconciler (`KindRegistration`) beside TrainingJob: InferenceService, Notebook, Experiment,
    /// and any a test registers.
    let kinds: [RegisteredController]

    /// `kinds`: further kinds run by the generic `KindReconciler` (tests register kinds of their own here).
    public init(client: KubeClient, options: Options = .init(), kinds: [KindRegistration] = [],
                clock: any RuntimeClock = SystemClock()) throws {
        self.client = client
        self.options = options
        self.clock = clock
        let ns = options.namespace
        let source: SourceFactory = { type, children in
            // Gantry's own kinds as children (an Experiment's TrainingJobs) share the informer their controller
            // runs over every object of the kind, instead of a second, label-selected watch.
            ClientListerWatcher(client: client, type: type, namespace: type.namespaced ? ns : nil,
                                labelSelector: children && type.group != GantryGroup.name ? OperatorCaches.childSelector : nil,
                                notServedHint: type.group == GantryGroup.name ? OperatorManager.missingCRDHint(type) : nil)
        }
        var requests = InformerRequests()
        let keys = TrainingJobWatches.declare(into: &requests, source: source)
        let kinds = [InferenceServicePlanner.registration(platformConfigs: keys.platformConfigs),
                     NotebookPlanner.registration(platformConfigs: keys.platformConfigs),
                     ExperimentPlanner.registration()] + kinds
        let kindKeys = kinds.map { $0.declare(into: &requests, source: source) }
        let metricsKeys = PlatformMetrics.declare(into: &requests, source: source)
        let accountingKeys = GPUAccountant.declare(into: &requests, source: source)
        informers = requests.build(clock: clock)
        caches = try OperatorCaches(informers, keys)
        guard let platformStore = informers[keys.platformConfigs]?.store else { throw InformerError.undeclared(keys.platformConfigs.description) }
        let notifier = Notifier(client: client, platform: { await OperatorCaches.platform(from: platformStore) })
        self.notifier = notifier
        platformMetrics = try PlatformMetrics(informers, metricsKeys, clock: clock)
        accountant = try GPUAccountant(client: client, informers, accountingKeys,
                                       events: EventRecorder(client: client, controller: "gantry.dev/gpu-accounting", instance: options.instance, clock: clock),
                                       notifier: notifier, clock: clock)

        var controllerOptions = Controller.Options()
        controllerOptions.workers = options.workers
        trainingJobs = Controller(name: "trainingjob", watches: try TrainingJobWatches.watches(informers, keys, caches: caches, admission: admission),
                                  reads: informers.stores, sharedInformers: true, options: controllerOptions, clock: clock)
        let instance = options.instance
        let transitions = PlatformTransitions()
        let context = KindRegistration.Context(client: client, informers: informers, options: controllerOptions, clock: clock) { name in
            EventRecorder(client: client, controller: name, instance: instance, clock: clock, observer: transitions.observe)
        } notify: { object, event in
            notifier.send(object, event)
        }
        self.kinds = try zip(kinds, kindKeys).map { kind, keys in try kind.controller(context, keys: keys) }
    }

    /// A 404 on listing one of Gantry's kinds: the CRDs were not applied (the usual first-install slip).
    static func missingCRDHint(_ type: ResourceType) -> String {
        "the CustomResourceDefinition \(type.description) is not installed; install Gantry's CRDs with `kubectl apply -k crds/` "
            + "(or `gantry crds | kubectl apply -f -`)"
    }

    /// True once every informer has its first complete list (`/readyz`).
    public func hasSynced() async -> Bool { await informers.hasSynced() }

    /// Runs the informers and every controller until cancelled.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await informers.run() }
            group.addTask { await notifier.run() }
            group.addTask { await runTrainingJobs() }
            group.addTask { await platformMetrics.run() }
            group.addTask { await accountant.run() }
            for kind in kinds { group.addTask { await kind.run() } }
        }
    }

    func runTrainingJobs() async {
        let events = EventRecorder(client: client, controller: "gantry.dev/trainingjob-controller", instance: options.instance, clock: clock,
                                   observer: PlatformTransitions().observe)
        let queue = trainingJobs.queue
        let caches = self.caches
        // Log follows are long-lived streams, one per running job; kube-apiserver allows 100 streams per HTTP/2
        // connection. They get a connection pool of their own, so they never queue ahead of the reconciler's
        // writes and watches (with one shared pool, 2,000 jobs never all reached Running: docs/benchmarks.md),
        // and the same rate limit: `--qps` bounds the whole controller (a bucket of their own let it reach Q + the
        // log reads: burst-qps in docs/benchmarks.md).
        let logClient: KubeClient
        do {
            logClient = try client.withOwnConnections()
        } catch {
            Logger(label: "gantry.operator").warning("log follows share the controller's connection", metadata: ["error": "\(error)"])
            logClient = client
        }
        let metrics = MetricsCollector(client: logClient, clock: clock, maxStreams: options.maxLogStreams,
                                       maxPollsPerSecond: options.maxLogPollsPerSecond, peersFromCache: { namespace, experiment in
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
