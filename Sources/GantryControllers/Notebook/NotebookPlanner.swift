import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// The Notebook state machine as a pure function. The status is its memory: when the current pod was asked for
/// (`startedAt`, the activity clock starts there), the last activity seen, and whether it was culled.
public struct NotebookPlanner: KindPlanner {
    public typealias Kind = NotebookKind
    /// A new value of `gantry.dev/start` (`gantry notebook start` writes the time) starts a culled notebook again.
    public static let startAnnotation = "gantry.dev/start"

    public struct Inputs: Sendable {
        public var platform: PlatformConfigSpec
        /// The server's answer when this reconcile asked it (every culling.checkPeriodSeconds while it runs).
        public var activity: NotebookActivity?
        /// A fresh token, used only if the Secret does not exist yet.
        public var freshToken: String?
        /// Set when the namespace used its GPU-hour budget: a notebook without a pod waits (`Queued`).
        public var budget: BudgetStanding?
        public init(platform: PlatformConfigSpec, activity: NotebookActivity? = nil, freshToken: String? = nil, budget: BudgetStanding? = nil) {
            self.platform = platform
            self.activity = activity
            self.freshToken = freshToken
            self.budget = budget
        }
    }

    let platform: @Sendable () async -> PlatformConfigSpec
    let probe: @Sendable (Notebook, Date) async -> NotebookActivity
    let clock: @Sendable () -> Date
    let budget: @Sendable (_ namespace: String, _ now: Date) async -> BudgetStanding?

    public init(platform: @escaping @Sendable () async -> PlatformConfigSpec,
                probe: @escaping @Sendable (Notebook, Date) async -> NotebookActivity,
                clock: @escaping @Sendable () -> Date = { Date() },
                budget: @escaping @Sendable (_ namespace: String, _ now: Date) async -> BudgetStanding? = { _, _ in nil }) {
        self.platform = platform
        self.probe = probe
        self.clock = clock
        self.budget = budget
    }

    /// Pods: phase, readiness and why a container waits (a stuck start names the pod's own reason).
    public static let podFields: FieldMask = .object(keys: [
        "metadata": .keys("name", "namespace", "uid", "resourceVersion", "labels", "ownerReferences", "deletionTimestamp"),
        "status": .object(keys: [
            "phase": .all, "reason": .all, "message": .all,
            "conditions": .elements(.keys("type", "status", "reason", "message", "lastTransitionTime"), filterKey: "type", values: ["Ready", "PodScheduled"]),
            "containerStatuses": .elements(.object(keys: ["name": .all, "state": .object(keys: ["waiting": .keys("reason", "message")])])),
        ]),
    ])

    /// Secrets and claims: presence is what the planner reads (the token is read only by the probe, by GET).
    public static let childFields: [ResourceType: FieldMask?] = [
        .pods: podFields, .services: nil, .secrets: .keys("metadata"), .persistentVolumeClaims: .keys("metadata"),
    ]
    public var childTypes: [ResourceType: FieldMask?] { Self.childFields }

    public static func registration(platformConfigs key: SharedInformers.Key) -> KindRegistration {
        KindRegistration(childTypes: childFields) { context in
            guard let store = context.informers[key]?.store else { throw InformerError.undeclared(key.description) }
            let client = context.client
            return NotebookPlanner(platform: { await OperatorCaches.platform(from: store) },
                                   probe: { nb, now in await NotebookActivity.probe(nb, client: client, now: now) },
                                   budget: { namespace, now in await OperatorCaches.exhaustedBudget(namespace, from: store, now: now) })
        }
    }

    public func inputs(for object: Notebook) async -> Inputs {
        var inputs = Inputs(platform: await platform(), freshToken: AccessToken.generate())
        let status = object.status
        if ![.running, .starting, .failed].contains(status.phase) { inputs.budget = await budget(object.namespace, clock()) }
        let culling = object.spec.effectiveCulling
        let limited = culling.idleTimeout(under: inputs.platform.notebooks).limitedBy != nil
        guard culling.effectiveEnabled || limited, object.spec.stopped != true, status.phase == .running else { return inputs }
        let now = clock()
        let last = status.culling?.lastCheck.flatMap(Timestamp.parse)
        if last.map({ now.timeIntervalSince($0) >= Double(culling.effectiveCheckPeriodSeconds) }) ?? true {
            inputs.activity = await probe(object, now)
        }
        return inputs
    }

    public func plan(_ o: Observation) -> KindPlan<NotebookStatus> {
        var planning = NotebookPlanning(o)
        planning.run()
        return planning.finished()
    }
}

struct NotebookPlanning: StatusPlanning {
    /// Waiting reasons a server does not recover from by itself.
    static let failingReasons: Set<String> = ["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError"]
    let nb: Notebook
    let o: NotebookPlanner.Observation
    let now: Date
    let culling: Culling
    /// The idle timeout in force, and why it is not the spec's when the PlatformConfig limits it.
    let idleTimeout: (seconds: Int, limitedBy: String?)
    var status: NotebookStatus
    var conditions: StatusConditions
    var plan: KindPlan<NotebookStatus>

    init(_ o: NotebookPlanner.Observation) {
        self.o = o
        nb = o.object
        now = o.now
        culling = nb.spec.effectiveCulling
        idleTimeout = culling.idleTimeout(under: o.inputs.platform.notebooks)
        status = nb.status
        conditions = StatusConditions(status.conditions, generation: nb.generation, now: Timestamp.format(o.now))
        plan = KindPlan(status: status)
    }

    var nowText: String { Timestamp.format(now) }

    mutating func run() {
        status.observedGeneration = nb.generation
        status.url = NotebookChildren.url(nb)
        status.workspaceClaim = NotebookChildren.claimName(nb)
        planStandingChildren()
        plan.children.prune = [.pods, .services]

        if nb.spec.stopped == true {
            if status.phase != .stopped { plan.events.append(PlannedEvent(.normal, "Stopped", "spec.stopped is true: the pod is deleted; workspace \(NotebookChildren.claimName(nb)) and token kept")) }
            return rest(.stopped, "Stopped", "spec.stopped is true")
        }
        let request = nb.annotations[NotebookPlanner.startAnnotation]
        if status.phase == .culled {
            // Compared with the value last acted on, not with clocks: a request is honoured once, whenever made.
            guard let request, request != status.startRequest else {
                return rest(.culled, "Culled", conditions["Culled"]?.message ?? "culled after being idle")
            }
        }
        status.startRequest = request
        if status.phase == nil || status.phase == .stopped || status.phase == .culled {
            // A (re)start: the activity clock starts now, so a notebook started again is not culled at once.
            status.startedAt = nowText
            status.lastActivity = nowText
            status.culling = nil
            conditions.set("Culled", .false, "Started", "started at \(nowText)")
            plan.events.append(PlannedEvent(.normal, "Starting", "starting the server on workspace \(NotebookChildren.claimName(nb))"))
            status.phase = .pending
        }
        serve()
    }

    /// The Secret and the workspace claim exist whether the server runs or not.
    mutating func planStandingChildren() {
        if !o.children(.secrets).contains(where: { $0.name == NotebookChildren.secretName(nb) }), let token = o.inputs.freshToken {
            plan.children.add(NotebookChildren.secret(nb, token: token), update: .createOnly)
        }
        if let claim = NotebookChildren.claim(nb) { plan.children.add(claim, update: .createOnly) }
    }

    /// Not serving on purpose (stopped, culled): no pod, no Service, nothing held.
    mutating func rest(_ phase: NotebookStatus.Phase, _ reason: String, _ message: String) {
        status.phase = phase
        status.gpus = 0
        conditions.set("Idle", .false, reason, message)
        conditions.markIdle(reason, message)
    }

    mutating func serve() {
        let placement = GPUPlacement(request: nb.spec.gpu, settings: o.inputs.platform.effectiveGPU)
        let pods = o.children(.pods).map(ServingPod.init).filter { !$0.deleting }
        let pod = pods.first { $0.name == NotebookChildren.podName(nb) }
        // Only a notebook not yet serving waits for budget: a running server is never stopped for it.
        if pod == nil, ![.running, .starting, .failed].contains(nb.status.phase) {
            if let budget = o.inputs.budget { return waitForBudget(budget) }
            if nb.status.phase == .queued {  // released: the activity clock starts with the server
                status.startedAt = nowText
                status.lastActivity = nowText
            }
        }
        // A pod that failed, or was lost with its node, is made again (the workspace is the same claim).
        if !(pod?.failed ?? false) {
            plan.children.add(NotebookChildren.pod(nb, placement: placement, security: o.inputs.platform.effectivePodPolicy.effectiveSecurityContext), update: .createOnly)
        }
        plan.children.add(NotebookChildren.service(nb))
        status.gpus = placement.countPerPod
        if let pod, pod.readySince == nil, let reason = pod.waitingReason, NotebookPlanning.failingReasons.contains(reason) {
            // It will not start by itself; it still holds its GPU, so the idle clock runs on (no activity is possible).
            status.phase = .failed
            let message = "pod \(pod.name): \(pod.problem ?? reason); the server cannot start: correct spec.image or the server's settings"
            conditions.markStalled(reason, message, reconciling: "waiting for a corrected spec")
            if var record = status.culling, record.probeErrors != nil { record.probeErrors = nil; status.culling = record }
            if nb.status.phase != .failed { plan.events.append(PlannedEvent(.warning, "ServerFailing", message, notify: true)) }
            return cullIfIdle()
        }
        guard let pod, pod.readySince != nil else {
            status.phase = pod == nil ? .pending : .starting
            let message = pod?.problem.map { "pod \(NotebookChildren.podName(nb)): \($0)" } ?? "the server is starting"
            conditions.markReconciling("Starting", message)
            return
        }
        status.phase = .running
        conditions.markReady("Running", "the server answers at \(NotebookChildren.url(nb))")
        cullIfIdle()
    }

    /// Queued until the budget is raised or the month ends (rechecked every few seconds: both are outside this object).
    mutating func waitForBudget(_ budget: BudgetStanding) {
        if nb.status.phase != .queued { plan.events.append(PlannedEvent(.warning, BudgetStanding.reason, budget.message)) }
        status.phase = .queued
        status.gpus = 0
        conditions.markReconciling(BudgetStanding.reason, budget.message)
        plan.requeueAfter = .seconds(5)
    }

    /// Idle past the timeout and the pod goes (workspace and token stay). A failing probe never culls: it is
    /// surfaced, and the notebook counts as active until the server answers again.
    mutating func cullIfIdle() {
        if let why = idleTimeout.limitedBy {
            conditions.set("CullingLimited", .true, "PlatformMaximum", why)
        } else {
            conditions.remove("CullingLimited")
        }
        guard culling.effectiveEnabled || idleTimeout.limitedBy != nil else {
            conditions.set("Idle", .false, "CullingDisabled", "spec.culling.enabled is false")
            return
        }
        var record = status.culling ?? .init()
        record.idleTimeoutSeconds = idleTimeout.seconds
        if let activity = o.inputs.activity {
            record.lastCheck = nowText
            if let at = activity.seen, at > (status.lastActivity.flatMap(Timestamp.parse) ?? .distantPast) {
                status.lastActivity = Timestamp.format(at)
            }
            if !activity.errors.isEmpty, record.probeErrors != activity.errors {
                plan.events.append(PlannedEvent(.warning, "ActivityProbeFailed", "\(activity.errors.joined(separator: "; ")); not culled while the server cannot be asked"))
            }
            record.probeErrors = activity.errors.isEmpty ? nil : activity.errors
        }
        status.culling = record
        let check = Double(culling.effectiveCheckPeriodSeconds)
        plan.requeueAfter = .seconds(check)
        if let errors = record.probeErrors {
            conditions.set("Idle", .unknown, "ActivityProbeFailed", "\(errors.joined(separator: "; ")); the notebook counts as active until every probe answers")
            return
        }
        let started = status.startedAt.flatMap(Timestamp.parse) ?? now
        let last = max(status.lastActivity.flatMap(Timestamp.parse) ?? started, started)
        let idle = now.timeIntervalSince(last)
        let timeout = Double(idleTimeout.seconds)
        let idleText = "idle for \(Int(idle))s since \(Timestamp.format(last)) (idle timeout \(idleTimeout.seconds)s)"
        if idle >= timeout {
            status.culledAt = nowText
            let message = "culled: \(idleText); workspace \(NotebookChildren.claimName(nb)) kept. Start it again with `gantry notebook start \(nb.name)` or by setting spec.stopped true then false"
            conditions.set("Culled", .true, "IdleTimeout", message)
            plan.events.append(PlannedEvent(.normal, "Culled", message, notify: true))
            plan.requeueAfter = nil
            // The pod and Service are not desired any more: pruned in this same apply.
            plan.children.desired.removeAll { $0.type == .pods || $0.type == .services }
            return rest(.culled, "Culled", message)
        }
        let idleSoon = culling.effectiveWarnBeforeSeconds > 0 && idle >= timeout - Double(culling.effectiveWarnBeforeSeconds)
        conditions.set("Idle", idle >= check ? .true : .false, idle >= check ? "NoActivity" : "Active", idleText)
        if idleSoon, record.warnedFor != Timestamp.format(last) {
            record.warnedFor = Timestamp.format(last)
            status.culling = record
            plan.events.append(PlannedEvent(.warning, "IdleCullingSoon", "\(idleText): culled in \(Int(timeout - idle))s unless it is used", notify: true))
        }
        plan.requeueAfter = .seconds(min(check, max(0.5, timeout - idle)))
    }
}
