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
    public let clock: any RuntimeClock
    let logger = Logger(label: "gantry.trainingjob")
    /// Queued jobs look again this often: admission depends on other jobs and on nodes.
    let queuedRecheck: Duration = .seconds(5)
    static let logTailLines = 20

    public init(client: KubeClient, caches: OperatorCaches, events: EventRecorder, metrics: MetricsCollector, clock: any RuntimeClock) {
        self.client = client
        self.caches = caches
        self.events = events
        self.metrics = metrics
        self.clock = clock
    }

    public func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let object = await caches.trainingJobs.get(key), object.deletionTimestamp == nil else {
            await metrics.forget(key)
            try await sweepDatasetCaches(namespace: key.namespace ?? "default")
            return .done  // gone or going: garbage collection removes the children
        }
        let job: TrainingJob
        do {
            job = try TrainingJob(object)
        } catch {
            try await writeUndecodable(object, message: "\(error)")
            return .done
        }

        let platform = await caches.platform()
        let nodes = await caches.nodes.list()
        let owned = await caches.pods.owned(by: job.uid)
        // Replicas are what the state machine counts; the TensorBoard pod is a side child.
        let pods = owned.filter { $0.labels[GantryLabels.role] != TensorBoardChildren.role }
        let tensorboardPodExists = owned.count != pods.count
        let tensorboardServiceExists = await caches.services.get(ObjectKey(namespace: job.namespace, name: TensorBoardChildren.name(job))) != nil
        let ns = job.namespace
        let serviceExists = await caches.services.get(ObjectKey(namespace: ns, name: TrainingPods.serviceName(job))) != nil
        let hostfileExists = await caches.configMaps.get(ObjectKey(namespace: ns, name: TrainingPods.hostfileName(job))) != nil
        let recordExists = await caches.configMaps.get(ObjectKey(namespace: ns, name: TrainingRecord.name(job))) != nil
        let admission = await admissionDecision(for: job, platform: platform, nodes: nodes)
        let logTails = await tails(of: pods, job: job)
        let snapshot = await followMetrics(job, pods: pods)

        var observation = TrainingJobObservation(
            job: job, pods: pods, serviceExists: serviceExists, hostfileExists: hostfileExists, recordExists: recordExists,
            platform: platform, nodes: nodes, admission: admission, logTails: logTails, metrics: snapshot,
            now: clock.wallNow.timeIntervalSince1970)
        if let uri = DatasetCache.uri(of: job),
           let ds = await caches.daemonSets.get(ObjectKey(namespace: ns, name: DatasetCache.daemonSetName(uri))) {
            observation.datasetCacheExists = true
            observation.datasetCacheReadyNodes = DatasetCache.readyNodes(pods: await caches.pods.owned(by: ds.uid ?? ""))
        }
        observation.tensorboardPodExists = tensorboardPodExists
        observation.tensorboardServiceExists = tensorboardServiceExists
        let plan = TrainingJobPlanner.plan(observation)
        try await apply(plan, job: job, object: object)
        if plan.status.phase?.isFinished == true {
            await metrics.stopFollowing(key)
            try await sweepDatasetCaches(namespace: ns)
        }

        if plan.deleteJob { return .done }
        if let after = plan.requeueAfter { return .requeue(after: .milliseconds(Int64(after * 1000))) }
        if plan.status.phase == .queued { return .requeue(after: queuedRecheck) }
        return .done
    }

    /// Status first: a transition that deletes pods (finish, gang restart, suspend) must be on record before
    /// the pods go, or a failed status write would let the next reconcile see "no pods" and start them again.
    /// A stale cached object makes the write answer 409, and the queue's backoff retries from fresh state.
    func apply(_ plan: TrainingJobPlan, job: TrainingJob, object: JSONValue) async throws {
        if plan.status != job.status {
            var updated = object
            updated["status"] = try JSONValue(encoding: plan.status).droppingNulls()
            _ = try await client.updateStatus(.trainingJobs, updated)
        }
        for child in plan.create {
            let type: ResourceType
            switch child.kind {
            case "Pod": type = .pods
            case "Service": type = .services
            case "DaemonSet": type = .daemonSets
            default: type = .configMaps
            }
            do {
                _ = try await client.create(type, child, namespace: job.namespace)
            } catch let error as APIError where error.isAlreadyExists {
                // The cache was behind; the next event brings the object in.
            }
        }
        for name in plan.deletePods {
            try await client.delete(.pods, namespace: job.namespace, name: name)
        }
        for event in plan.events {
            await events.record(regarding: object, type: event.type, reason: event.reason, note: event.note, action: "Reconcile")
        }
        if plan.deleteJob {
            try await client.delete(.trainingJobs, namespace: job.namespace, name: job.name,
                                    options: DeleteOptions(propagationPolicy: .background, preconditionUID: job.uid))
        }
    }

    /// Starts following the metrics replica's log once its container exists; returns what is known so far.
    func followMetrics(_ job: TrainingJob, pods: [JSONValue]) async -> MetricsSnapshot? {
        guard !(job.status.phase?.isFinished ?? false) else { return nil }
        let attempt = (job.status.restarts ?? 0) + (job.status.evictionRestarts ?? 0)
        let replica = job.spec.metrics?.replica ?? 0
        let pod = pods.map { ObservedPod($0, attemptAnnotation: TrainingPods.attemptAnnotation) }
            .first { $0.attempt == attempt && $0.index == replica && !$0.deleting && $0.state != .pending }
        if let pod { await metrics.ensureFollowing(job, pod: pod.name, attempt: attempt) }
        return await metrics.snapshot(for: job.key)
    }

    /// Deletes the dataset DaemonSets of a namespace that no unfinished job needs any more.
    func sweepDatasetCaches(namespace: String) async throws {
        let caches = await self.caches.daemonSets.list(namespace: namespace)
        guard !caches.isEmpty else { return }
        var needed = Set<String>()
        for object in await self.caches.trainingJobs.list(namespace: namespace) {
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

    /// Whether this job may start now, decided over every TrainingJob in the cache (pure GangAdmission).
    func admissionDecision(for job: TrainingJob, platform: PlatformConfigSpec, nodes: [JSONValue]) async -> GangAdmission.Decision {
        if job.labels[GantryLabels.kueueQueueName] != nil { return .admitted }  // Kueue admits through spec.suspend
        if job.status.conditions?.isTrue("Admitted") == true { return .admitted }
        let settings = platform.effectiveGPU
        var candidates: [GangAdmission.Candidate] = []
        var used: [String: [String: Int]] = [:]
        for object in await caches.trainingJobs.list() {
            guard let other = try? TrainingJob(object), other.deletionTimestamp == nil,
                  other.spec.suspend != true, !(other.status.phase?.isFinished ?? false),
                  other.labels[GantryLabels.kueueQueueName] == nil else { continue }
            let placement = GPUPlacement(request: other.spec.gpu, settings: settings)
            let pods = await caches.pods.owned(by: other.uid).filter { ObservedPod($0, attemptAnnotation: TrainingPods.attemptAnnotation).finished == false }
            var bound = 0
            for pod in pods {
                guard let node = pod[path: "spec", "nodeName"]?.stringValue, let resource = placement.resourceName else { continue }
                used[node, default: [:]][resource, default: 0] += placement.countPerPod
                bound += 1
            }
            let admitted = other.status.conditions?.isTrue("Admitted") == true
            let waiting = admitted ? nil : other.status.conditions?[type: "Admitted"].flatMap { Timestamp.parse($0.lastTransitionTime) }?.timeIntervalSince1970
            candidates.append(.init(job: other, placement: placement, tolerations: placement.tolerations + (other.spec.tolerations ?? []),
                                    admitted: admitted, boundPods: bound, waitingSince: waiting))
        }
        let decisions = GangAdmission.decide(candidates: candidates, nodes: nodes, usedGPUs: used, platform: platform,
                                             now: clock.wallNow.timeIntervalSince1970)
        return decisions[job.key] ?? .queued(position: 0, reason: "not yet considered")
    }

    /// Last log lines of this attempt's finished pods not yet kept in status (read once, before deletion).
    func tails(of pods: [JSONValue], job: TrainingJob) async -> [String: [String]] {
        var result: [String: [String]] = [:]
        let kept = Set((job.status.replicaStatuses ?? []).filter { $0.lastLogLines != nil }.map(\.podName))
        for pod in pods {
            let observed = ObservedPod(pod, attemptAnnotation: TrainingPods.attemptAnnotation)
            guard observed.finished, !kept.contains(observed.name) else { continue }
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
