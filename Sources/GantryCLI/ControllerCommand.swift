import ArgumentParser
import Foundation
import GantryControllers
import KubeClient
import KubeRuntime
import Logging
import Metrics
import Telemetry

/// `gantry controller`: the operator.
struct ControllerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Run the operator: watch TrainingJobs (and later InferenceServices and Notebooks) and reconcile them.",
        discussion: """
            Connects with --kubeconfig, else $KUBECONFIG, else in-cluster configuration when KUBERNETES_SERVICE_HOST \
            is set, else ~/.kube/config. Serves /healthz, /readyz (ready once caches are synced, or while \
            standing by as a non-leader) and /metrics (Prometheus text format) on --health-port; with --metrics-port, \
            /metrics moves to a listener of its own (on --metrics-host, 127.0.0.1 unless set: reached through a proxy \
            in the pod). With leader election (default on), only the replica holding \
            the Lease reconciles, and it writes nothing once --leader-elect-renew-deadline passed since its last \
            renewal (fencing: a replica paused past its lease does not write beside its successor); SIGTERM or SIGINT stops taking work, lets in-flight reconciles finish and \
            releases the Lease.
            """)

    @Option(help: "Path of a kubeconfig file (default: $KUBECONFIG, in-cluster config, or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use (default: current-context).")
    var context: String?

    @Option(help: ArgumentHelp("In-cluster mode: the folder holding the ServiceAccount's token, ca.crt and namespace files.",
                               valueName: "path"))
    var serviceAccountDir: String = InClusterConfig.defaultDirectory

    @Option(help: "Watch only this namespace (default: all namespaces).")
    var namespace: String?

    @Option(help: "Port of /healthz, /readyz and /metrics; 0 picks a free port.")
    var healthPort: Int = 8081

    @Option(help: "Address the health and metrics server binds to.")
    var healthHost: String = "0.0.0.0"

    @Option(help: "Serve /metrics on this port instead of --health-port (0 picks a free port).")
    var metricsPort: Int?

    @Option(help: "Address the metrics listener of --metrics-port binds to; the default keeps it to the pod (a proxy such as kube-rbac-proxy in the pod publishes it).")
    var metricsHost: String = "127.0.0.1"

    @Option(help: "Concurrent reconciles per controller.")
    var workers: Int = OperatorManager.Options().workers

    @Option(help: "Running jobs whose metrics log is followed as a stream; the log of any further job is read every 5 s.")
    var maxLogStreams: Int = 64

    @Option(help: "Log reads per second shared by the jobs past --max-log-streams: with more than 5 s × this many such jobs, each is read less often than every 5 s.")
    var maxLogPollsPerSecond: Double = 20

    @Flag(inversion: .prefixedNo, help: "Elect a leader through a coordination.k8s.io Lease so several replicas can run.")
    var leaderElect: Bool = true

    @Option(help: "Namespace of the leader-election Lease (default: the kubeconfig context's namespace).")
    var leaseNamespace: String?

    @Option(help: "Name of the leader-election Lease.")
    var leaseName: String = "gantry-controller"

    @Option(help: "Identity written into the Lease (default: hostname and process id).")
    var identity: String?

    @Option(help: ArgumentHelp("Seconds a standby waits after the Lease was last renewed before taking it.", valueName: "seconds"))
    var leaderElectLeaseDuration: Double = 15

    @Option(help: ArgumentHelp("Seconds the leader keeps trying to renew before it stops writing and steps down (less than the lease duration).", valueName: "seconds"))
    var leaderElectRenewDeadline: Double = 10

    @Option(help: ArgumentHelp("Seconds between attempts to take or renew the Lease.", valueName: "seconds"))
    var leaderElectRetryPeriod: Double = 2

    @Option(help: "Client-side rate limit in requests per second, watches excepted as in client-go (default: none; the API server's priority and fairness applies).")
    var qps: Double?

    @Option(help: "Burst of the client-side rate limit.")
    var burst: Int = 10

    @Option(help: "Log format: text or json.")
    var logFormat: String = "text"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard LoggingSetup.Format(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json, not \(logFormat)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        guard workers > 0 else { throw ValidationError("--workers must be at least 1") }
        guard maxLogStreams > 0 else { throw ValidationError("--max-log-streams must be at least 1") }
        guard maxLogPollsPerSecond > 0 else { throw ValidationError("--max-log-polls-per-second must be more than 0") }
        if let qps, qps <= 0 { throw ValidationError("--qps must be positive") }
        // client-go's leaderelection refuses the same: a renew deadline at or past the lease duration lets two lead.
        guard leaderElectRetryPeriod > 0, leaderElectRetryPeriod < leaderElectRenewDeadline, leaderElectRenewDeadline < leaderElectLeaseDuration else {
            throw ValidationError("leader election needs 0 < --leader-elect-retry-period < --leader-elect-renew-deadline < --leader-elect-lease-duration")
        }
    }

    func run() async throws {
        if let arenas = HeapScavenger.arenaLimit(preferred: 4, environment: ProcessInfo.processInfo.environment) {
            HeapScavenger.limitArenas(to: arenas)
        }
        LoggingSetup.bootstrap(format: LoggingSetup.Format(rawValue: logFormat) ?? .text, level: Logger.Level(rawValue: logLevel) ?? .info)
        let logger = Logger(label: "gantry")
        let registry = MetricsSetup.bootstrap(durationBuckets: [PlatformMetricNames.admissionWait: PlatformMetricNames.admissionWaitBuckets])
        // Which release runs where: `count by (version) (gantry_build_info)` (the usual *_build_info series).
        Gauge(label: "gantry_build_info", dimensions: [("version", GantryVersion.current)]).record(1)
        let config = try KubeConfig.automatic(path: kubeconfig, context: context, serviceAccountDirectory: serviceAccountDir)
        var clientOptions = ClientOptions()
        clientOptions.qps = qps
        clientOptions.burst = burst
        let me = identity ?? "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"
        let leaderElect = self.leaderElect
        var lease = LeaderElector.Options(namespace: leaseNamespace ?? config.namespace, name: leaseName, identity: me)
        lease.leaseDuration = .milliseconds(Int64(leaderElectLeaseDuration * 1000))
        lease.renewDeadline = .milliseconds(Int64(leaderElectRenewDeadline * 1000))
        lease.retryPeriod = .milliseconds(Int64(leaderElectRetryPeriod * 1000))
        let leaseClient = try KubeClient(config: config, options: clientOptions)
        // The elector has a client of its own (as controller-runtime's): the fence below must not stop its renewals.
        let elector = LeaderElector(client: leaseClient, options: lease)
        if leaderElect { clientOptions.writeFence = { elector.holdsLease } }
        let client = try KubeClient(config: config, options: clientOptions)
        var managerOptions = OperatorManager.Options()
        managerOptions.workers = workers
        managerOptions.maxLogStreams = maxLogStreams
        managerOptions.maxLogPollsPerSecond = maxLogPollsPerSecond
        managerOptions.namespace = namespace
        managerOptions.instance = me
        let manager = try OperatorManager(client: client, options: managerOptions)
        // Ready means "caches synced, or standing by as a non-leader" (controller-runtime's meaning): a standby
        // that answered 503 until it led kept a 2-replica Deployment at 1/2 Ready forever.
        let ready: @Sendable () async -> Bool = {
            if leaderElect && !elector.isLeading { return true }
            return await manager.hasSynced()
        }
        let separateMetrics = metricsPort.map { port in
            HealthServer(host: metricsHost, port: port, endpoints: .metrics, registry: registry, ready: ready,
                         onListening: { port in logger.info("metrics server listening", metadata: ["port": "\(port)", "host": "\(metricsHost)"]) })
        }
        let listening: Logger.Message = separateMetrics == nil ? "health and metrics server listening" : "health server listening"
        let health = HealthServer(host: healthHost, port: healthPort, endpoints: separateMetrics == nil ? [.probes, .metrics] : .probes,
                                  registry: registry, ready: ready,
                                  onListening: { port in logger.info(listening, metadata: ["port": "\(port)"]) })
        logger.info("gantry controller starting", metadata: ["server": "\(config.server)", "identity": "\(me)", "leaderElect": "\(leaderElect)"])

        try await runUntilSignalled {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await health.run() }
                if let separateMetrics { group.addTask { try await separateMetrics.run() } }
                // Freed memory back to the kernel every 30 s: without it an idle controller keeps the peak of its
                // last list or burst resident (HeapScavenger). Returns only when cancelled, as the others.
                group.addTask { await HeapScavenger.run(every: .seconds(30)) }
                group.addTask {
                    if leaderElect {
                        // A term is not resumed: exit, to be restarted as a standby (controller-runtime's manager
                        // returns "leader election lost" and the process exits the same way).
                        guard await elector.run(lead: { await manager.run() }) else { throw LeaderElectionLost() }
                    } else {
                        await manager.run()
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
        logger.info("gantry controller stopped")
    }
}

/// Leadership was lost: the process exits non-zero so that its Deployment restarts it as a standby.
struct LeaderElectionLost: Error, CustomStringConvertible {
    var description: String { "leader election lost" }
}
