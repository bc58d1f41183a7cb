import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Applies the TrainingJob planner: reads everything from the caches, plans, then makes the minimal writes
/// (create/delete children, one status write only if status changed, events). Side effects, explicitly: the
/// writes, reading the last log lines of finished pods before they are deleted, and recording events.
public struct TrainingJobReconciler: Reconciler {
    public let client: KubeClient
    public let caches: OperatorCaches
    public let events: EventRecorder
    public let metrics: MetricsCollector
    public let admission: AdmissionLedger
    public let clock: any RuntimeClock
    /// Creates, corrects and deletes children from the plan, reading "as desired" from the caches.
    let children: ChildApplier
    let logger = Logger(label: "gantry.trainingjob")
    /// Queued jobs look again this often: admission depends on other jobs and on nodes.
    let queuedRecheck: Duration = .seconds(5)
    static let logTailLines = 20
    /// Written on every TrainingJob before its first child: a deleted job's record is written before it goes.
    public static let finalizer = "gantry.dev/record"
    /// How long a reconcile waits for a finished metrics replica's log to be read to its end.
    let metricsDrainTimeout: Duration = .seconds(10)

    public init(client: KubeClient, caches: OperatorCaches, events: EventRecorder, metrics: MetricsCollector,
                admission: AdmissionLedger, clock: any RuntimeClock) {
        self.client = client
        self.caches = caches
        self.events = events
        self.metrics = metrics
        self.admission = admission
        self.clock = clock
        self.children = ChildApplier(client: client, stores: [.pods: caches.pods, .services: caches.services,
                                                               .configMaps: caches.configMaps, .daemonSets: caches.daemonSets])
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = await caches.trainingJobs.get(key),
              object.deletionTimestamp == nil || object.finalizers.contains(Self.finalizer) else {
            await metrics.forget(key)
            try await sweepDatasetCaches(namespace: key.namespace ?? "default")
            return .done  // gone or going: garbage collection removes the children
        }
        let job: TrainingJob
        do {
            if let decoded = await admission.decodedJob(key, resourceVersion: object.resourceVersion) {
                job = decoded
            } else {
                job = try TrainingJob(object)
            }
        } catch .status(let message) {
            // Planning from an empty status would start a finished job again: leave it, and say why.
            logger.error("the stored status of a TrainingJob does not decode; not reconciling it", metadata: ["job": "\(key)", "error": "\(message)"])
            await events.record(regarding: object, type: "Warning", reason: "StatusUndecodable", note: "\(message): not reconciled until the status is readable", action: "Reconcile")
            return .done
        } catch {
            if object.deletionTimestamp != nil {
                try await Finalizers.remove(Self.finalizer, from: object, type: .trainingJobs, client: client)
                return .done
            }
            try await writeUndecodable(object, message: "\(error)")
            return .done
        }

        let platform = await caches.platform()
        // Only a job not yet admitted reads the nodes: its check against them is answered once per question
        // until a Node changes, shared by every reconcile (a burst's jobs ask the same one).
        let admitted = job.status.conditions?.isTrue("Admitted") == true
        let check = NodeCheck(job, placement: GPUPlacement(request: job.spec.gpu, settings: platform.effectiveGPU))
        let nodeProblems = admitted ? [] : await caches.nodes.derived(check) { check.problems(nodes: $0) }
        let owned = await caches.pods.owned(by: job.uid)
        // Replicas are what the state machine counts; the TensorBoard pod is a side child.
        let pods = owned.filter { $0.labels[GantryLabels.role] != TensorBoardChildren.role }
        let tensorboardPodExists = owned.count != pods.count
        let tensorboardServiceExists = await caches.services.get(ObjectKey(namespace: job.namespace, name: TensorBoardChildren.name(job))) != nil
        let ns = job.namespace
        let serviceExists = await caches.services.get(ObjectKey(namespace: ns, name: TrainingPods.serviceName(job))) != nil
        let hostfileExists = await caches.configMaps.contains(ObjectKey(namespace: ns, name: TrainingPods.hostfileName(job)))
        let recordExists = await caches.configMaps.contains(ObjectKey(namespace: ns, name: TrainingRecord.name(job)))
        let admission = await admissionDecision(for: job, platform: platform)
        let snapshot = await followMetrics(job, pods: pods)
        // Tails of finished pods, and of every pod about to be stopped (early stop, deletion): what a run
        // printed last is kept in status and the record before its pods go.
        // (Once a deleted job's record exists, only its finalizer is left to remove: no log is read again.)
        let stopping = snapshot?.earlyStop != nil || (job.deletionTimestamp != nil && !recordExists)
        let logTails = await tails(of: pods, job: job, includeRunning: stopping)

        var observation = TrainingJobObservation(
            job: job, pods: pods, serviceExists: serviceExists, hostfileExists: hostfileExists, recordExists: recordExists,
            platform: platform, nodes: [], admission: admission, logTails: logTails, metrics: snapshot,
            now: clock.wallNow.timeIntervalSince1970)
        observation.nodeProblems = nodeProblems
        observation.hasFinalizer = object.finalizers.contains(Self.finalizer)
        if let uri = DatasetCache.uri(of: job),
           let ds = await caches.daemonSets.get(ObjectKey(namespace: ns, name: DatasetCache.daemonSetName(uri))) {
            observation.datasetCacheExists = true
            observation.datasetCacheReadyNodes = DatasetCache.readyNodes(pods: await caches.pods.owned(by: ds.uid ?? ""))
        }
        observation.tensorboardPodExists = tensorboardPodExists
        observation.tensorboardServiceExists = tensorboardServiceExists
        let plan = TrainingJobPlanner.plan(observation)
        do {
            try await apply(plan, job: job, object: object)
        } catch let rejected as ChildRejected {
            try await markChildRejected(key, rejected)
            return .done
        } catch let conflict as ChildNameConflict {
            // No pods start beside a Service that is not the job's (its replicas could not find each other).
            await conflict.report(regarding: object, events: events, logger: logger)
            return .requeue(after: ChildNameConflict.recheck)
        }
        if job.deletionTimestamp != nil { await metrics.forget(key) }
        if plan.status.phase?.isFinished == true {
            await metrics.stopFollowing(key)
            try await sweepDatasetCaches(namespace: ns)
        }

        if plan.deleteJob { return .done }
        if let after = plan.requeueAfter { return .requeue(after: .milliseconds(Int64(after * 1000))) }
        if plan.status.phase == .queued { return .requeue(after: queuedRecheck) }
        return .done
    }

    /// Finalizer first (before any child), then status: a transition that deletes pods (finish, gang restart,
    /// suspend) must be on record before the pods go, or a failed status write would let the next reconcile see
    /// "no pods" and start them again. A stale cached object makes a write answer 409 (or a failed JSON-patch
    /// test 422), and the queue's backoff retries from fresh state.
    func apply(_ plan: TrainingJobPlan, job: TrainingJob, object: JSONValue) async throws {
        if plan.addFinalizer {
            try await Finalizers.add(Self.finalizer, to: object, type: .trainingJobs, client: client)
        }
        if plan.status != job.status, job.deletionTimestamp == nil {
            var updated = object
            updated["status"] = try JSONValue(encoding: plan.status).droppingNulls()
            if plan.addFinalizer { updated[path: "metadata", "resourceVersion"] = nil }  // the patch moved it on
            _ = try await client.updateStatus(.trainingJobs, updated)
        }
        // The Events go out beside the children (both only after status is on record): a burst of admissions
        // otherwise spends a round trip per Event in each reconcile.
        let events = self.events, planned = plan.events
        async let recorded: Void = {
            for event in planned {
                await events.record(regarding: object, type: event.type.rawValue, reason: event.reason, note: event.note, action: "Reconcile")
            }
        }()
        try await children.apply(plan.children, ownerUID: job.uid, namespace: job.namespace)
        await recorded
        if plan.removeFinalizer {
            try await Finalizers.remove(Self.finalizer, from: object, type: .trainingJobs, client: client)
        }
        if plan.deleteJob {
            try await client.delete(.trainingJobs, namespace: job.namespace, name: job.name,
                                    options: DeleteOptions(propagationPolicy: .background, preconditionUID: job.uid))
        }
    }

    /// A child the API server refuses (422) will be refused again: mark the job Invalid for this generation
    /// (the planner keeps it so, releases its admission and deletes its pods) and say which child and why.
    func markChildRejected(_ key: ObjectKey, _ rejected: ChildRejected) async throws {
        let message = "the API server refused the \(rejected.child.type.kind) \(rejected.child.name) built from this spec: \(rejected.message). Correct the spec (a new TrainingJob: the spec is immutable)"
        let fresh = try await client.get(.trainingJobs, namespace: key.namespace, name: key.name)
        // Decoded, never defaulted: an empty status written here would restart a finished job (see TrainingJob).
        var status = try TrainingJob(fresh).status
        var conditions = status.conditions ?? []
        let now = Timestamp.format(clock.wallNow)
        for type in ["Invalid", "Stalled"] {
            conditions.set(Condition(type: type, status: .true, reason: ChildRejection.reason, message: message, observedGeneration: fresh.generation), now: now)
        }
        conditions.set(Condition(type: "Ready", status: .false, reason: ChildRejection.reason, message: message, observedGeneration: fresh.generation), now: now)
        conditions.remove(type: "Admitted")
        status.conditions = conditions
        status.phase = .invalid
        status.gpus = 0
        var updated = fresh
        updated["status"] = try JSONValue(encoding: status).droppingNulls()
        _ = try await client.updateStatus(.trainingJobs, updated)
        await events.record(regarding: fresh, type: "Warning", reason: ChildRejection.reason, note: message, action: "Reconcile")
        for pod in rejected.created where pod.type == .pods {
            try await client.delete(.pods, namespace: key.namespace, name: pod.name)
        }
    }

    /// Starts following the metrics replica's log once its container exists; returns what is known so far.
    func followMetrics(_ job: TrainingJob, pods: [JSONValue]) async -> MetricsSnapshot? {
        guard !(job.status.phase?.isFinished ?? false) else { return nil }
        let attempt = (job.status.restarts ?? 0) + (job.status.evictionRestarts ?? 0)
        let replica = job.spec.metrics?.replica ?? 0
        let pod = pods.map { ObservedPod($0, attemptAnnotation: TrainingPods.attemptAnnotation) }
            .first { $0.attempt == attempt && $0.index == replica && !$0.deleting && $0.state != .pending }
        guard let pod else { return await metrics.snapshot(for: job.key) }
        await metrics.ensureFollowing(job, pod: pod.name, attempt: attempt, podFinished: pod.finished)
        // A finished metrics replica: read its log to the end before the job's result is written from it.
        if pod.finished, await metrics.snapshot(for: job.key)?.complete != true {
            _ = await metrics.waitUntilComplete(job.key, timeout: metricsDrainTimeout)
        }
        return await metrics.snapshot(for: job.key)
    }

    /// Deletes the dataset DaemonSets of a namespace that no unfinished job needs any more.
    func sweepDatasetCaches(namespace: String) async throws {
        let caches = await self.caches.daemonSets.list(namespace: namespace)
        guard !caches.isEmpty else { return }
        var needed = Set<String>()
        // Finished jobs need no cache, and are packed (TrainingJobWatches.trainingJobPacking): skipped unread.
        for object in await self.caches.trainingJobs.list(namespace: namespace, includingSettled: false) {
            guard let job = try? TrainingJob(object), job.deletionTimestamp == nil, !(job.status.phase?.isFinished ?? false),
                  let uri = DatasetCache.uri(of: job) else { continue }
            needed.insert(DatasetCache.daemonSetName(uri))
        }
        for ds in caches where ds.labels[DatasetCache.label] != nil {
            guard let name = ds.name, !needed.contains(name) else { continue }
            logger.info("removing a dataset cache no job needs", metadata: ["daemonset": "\(namespace)/\(name)"])
            try await client.delete(.daemonSets, namespace: namespace, name: name,
                                    options: DeleteOptions(propagationPolicy: .background, preconditionUID: ds.uid))
        }
    }

    /// Whether this job may start now: the ledger's decision, computed over every cached TrainingJob only when
    /// the last computation no longer holds (AdmissionLedger).
    func admissionDecision(for job: TrainingJob, platform: PlatformConfigSpec) async -> GangAdmission.Decision {
        if job.labels[GantryLabels.kueueQueueName] != nil { return .admitted }  // Kueue admits through spec.suspend
        if job.status.conditions?.isTrue("Admitted") == true { return .admitted }
        let now = clock.wallNow.timeIntervalSince1970
        let exhausted = BudgetStanding.exhaustedNamespaces(spec: platform, status: await OperatorCaches.platformStatus(from: caches.platformConfigs),
                                                           now: clock.wallNow)
        if let known = await admission.currentDecision(for: job.key, settings: platform.effectiveGPU, exhausted: exhausted, now: now) { return known }
        // Finished jobs and pods compete for and hold nothing; the stores keep them packed and skip them unread
        // (TrainingJobWatches.trainingJobPacking, podPacking).
        return await admission.decision(for: job.key, jobs: await caches.trainingJobs.list(includingSettled: false),
                                        pods: await caches.pods.list(includingSettled: false),
                                        nodes: await caches.nodes.list(), platform: platform, exhausted: exhausted, now: now)
    }

    /// Last log lines of this attempt's finished pods (and, when the job is being stopped, its running ones)
    /// not yet kept in status: read once, before the pods are deleted.
    func tails(of pods: [JSONValue], job: TrainingJob, includeRunning: Bool) async -> [String: [String]] {
        var result: [String: [String]] = [:]
        let kept = Set((job.status.replicaStatuses ?? []).filter { $0.lastLogLines != nil }.map(\.podName))
        for pod in pods {
            let observed = ObservedPod(pod, attemptAnnotation: TrainingPods.attemptAnnotation)
            guard observed.finished || (includeRunning && observed.state == .running), !kept.contains(observed.name) else { continue }
            var lines: [String] = []
            do {
                for try await line in client.logs(namespace: job.namespace, pod: observed.name, container: TrainingPods.containerName,
                                                  tailLines: Self.logTailLines) {
                    lines.append(line)
                }
            } catch {
                logger.debug("could not read the log of a finished pod", metadata: ["pod": "\(observed.name)", "error": "\(error)"])
            }
            result[observed.name] = lines
        }
        return result
    }

    /// A stored object that does not decode (the CRD's schema was bypassed or is older): say so in status.
    func writeUndecodable(_ object: JSONValue, message: String) async throws {
        var status = (try? (object["status"] ?? .emptyObject).decode(TrainingJobStatus.self)) ?? TrainingJobStatus()
        var conditions = status.conditions ?? []
        let now = Timestamp.format(clock.wallNow)
        conditions.set(Condition(type: "Invalid", status: .true, reason: "InvalidSpec", message: message, observedGeneration: object.generation), now: now)
        conditions.set(Condition(type: "Stalled", status: .true, reason: "InvalidSpec", message: message, observedGeneration: object.generation), now: now)
        status.conditions = conditions
        status.observedGeneration = object.generation
        var updated = object
        updated["status"] = try JSONValue(encoding: status).droppingNulls()
        if updated != object { _ = try await client.updateStatus(.trainingJobs, updated) }
    }
}
