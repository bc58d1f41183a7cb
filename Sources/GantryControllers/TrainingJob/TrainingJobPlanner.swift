import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// The TrainingJob state machine as a pure function: observation in, plan (writes + status) out.
/// Idempotent and level-triggered: planning again from the state the plan produces asks for nothing new.
public enum TrainingJobPlanner {
    public static func plan(_ o: TrainingJobObservation) -> TrainingJobPlan {
        var planning = TrainingJobPlanning(o)
        planning.run()
        return planning.finished()
    }

    /// Pods of a finished job to delete: every pod still running (a stopped or failed job must not hold GPUs),
    /// and the terminated ones too unless the platform keeps them.
    static func podsToFree(_ pods: [ObservedPod], policy: PlatformConfigSpec.FinishedPodPolicy) -> [String] {
        pods.filter { !$0.deleting && (policy == .delete || !$0.finished) }.map(\.name)
    }
}

/// One reconcile's working state: what was observed, and the status and plan being built. Each stage of the
/// state machine is a method that either settles the job (returns true: planning stops) or lets the next run.
struct TrainingJobPlanning {
    let o: TrainingJobObservation
    let job: TrainingJob
    let placement: GPUPlacement
    let replicas: Int
    let requested: Int
    let podPolicy: PlatformConfigSpec.FinishedPodPolicy
    let attempt: Int
    let observed: [ObservedPod]
    let nowText: String
    var status: TrainingJobStatus
    var conditions: StatusConditions
    var plan: TrainingJobPlan

    init(_ o: TrainingJobObservation) {
        self.o = o
        job = o.job
        placement = GPUPlacement(request: job.spec.gpu, settings: o.platform.effectiveGPU)
        replicas = job.spec.effectiveReplicas
        requested = placement.countPerPod * replicas
        podPolicy = job.spec.finishedPodPolicy ?? o.platform.effectiveFinishedPodPolicy
        status = job.status
        attempt = (status.restarts ?? 0) + (status.evictionRestarts ?? 0)
        observed = o.pods.map { ObservedPod($0, attemptAnnotation: TrainingPods.attemptAnnotation) }
        nowText = Timestamp.format(Date(timeIntervalSince1970: o.now))
        conditions = StatusConditions(status.conditions, generation: job.generation, now: nowText)
        plan = TrainingJobPlan(status: status)
    }

    /// The plan with the status it leaves. GPUS is what the job holds now: nothing while it waits, is
    /// suspended or has finished.
    func finished() -> TrainingJobPlan {
        var plan = self.plan
        var status = self.status
        status.gpus = status.phase == .admitted || status.phase == .running ? requested : 0
        status.conditions = conditions.list
        plan.status = status
        return plan
    }

    mutating func run() {
        status.requestedGPUs = requested
        status.appliedDefaults = AppliedDefaults(
            gpuResourceName: placement.resourceName, tolerations: placement.tolerations.isEmpty ? nil : placement.tolerations,
            finishedPodPolicy: podPolicy.rawValue, namespaceGPUQuota: o.platform.quota(for: job.namespace),
            securityContext: o.platform.effectivePodPolicy.effectiveSecurityContext.rawValue)
        status.observedGeneration = job.generation
        status.recordRef = TrainingRecord.name(job)

        if job.deletionTimestamp != nil { return planDeletion() }
        // The finalizer comes before any child: a job deleted from here on still leaves its record.
        if !o.hasFinalizer && !(status.phase?.isFinished ?? false) { plan.addFinalizer = true }
        planTensorBoard()
        if let phase = status.phase, phase.isFinished { return planFinished() }
        if keepsChildRejection() { return }
        let alreadyAdmitted = conditions.isTrue("Admitted")
        if !alreadyAdmitted, refusesInvalidSpec() { return }
        if job.spec.suspend == true { return planSuspended() }
        if !alreadyAdmitted, !admit() { return }

        let current = observed.filter { $0.attempt == attempt && !$0.deleting }
        let stale = observed.filter { $0.attempt != attempt || $0.deleting }
        if let failed = current.first(where: { $0.state == .failed }) { return planFailure(failed, current: current) }
        if stopsEarly() { return }
        let present = Set(current.compactMap(\.index))
        if status.phase == .running, stale.isEmpty, present.count < replicas {
            // Replicas vanished while the gang was running (deleted by someone, lost with their node): a
            // distributed job cannot continue with a hole, so restart the gang; like an eviction, it does not count.
            let missing = (0..<replicas).filter { !present.contains($0) }.map { TrainingPods.podName(job, $0) }
            status.evictionRestarts = (status.evictionRestarts ?? 0) + 1
            plan.event(.warning, "GangRestart", "\(missing.joined(separator: ", ")) disappeared (deleted, or lost with its node); restarting all replicas, not counted against backoffLimit")
            return restartGang(current, because: "replica pods disappeared; restarting all replicas")
        }
        if current.count == replicas, current.allSatisfy({ $0.state == .succeeded }) {
            return terminal(.succeeded, "Completed", "all \(replicas) replica(s) succeeded")
        }
        if exceedsDeadline(current) { return }
        let created = converge(current: current, stale: stale, present: present)
        // The pods this plan creates count as pending replicas now, as the Job controller counts its creates
        // as active: the status written with them is the one their arrival in the cache would give.
        reportProgress(current + created)
    }

    // MARK: Stages

    /// Deleted: the record outlives the job (cancelled runs stay in the experiment history); the finalizer
    /// goes once the record exists. The pods go with garbage collection.
    mutating func planDeletion() {
        guard o.hasFinalizer else { return }
        if !o.recordExists {
            var final = status
            final.replicaStatuses = TrainingRecord.replicaStatuses(observed, logTails: o.logTails, previous: status.replicaStatuses)
            if let snapshot = o.metrics { final.metrics = MetricsStatus.keepingFuller(status.metrics, snapshot.metrics) }
            plan.children.add(TrainingRecord.configMap(job, status: final, pods: observed, deleted: true), update: .createOnly)
        }
        plan.removeFinalizer = true
    }

    /// TensorBoard sits beside the job for its whole life, finished or not (it holds no GPU). Its Service is
    /// corrected when edited (Gantry owns its ports and selector).
    mutating func planTensorBoard() {
        guard let board = job.spec.tensorboard, !board.logDir.isEmpty else { return }
        if !o.tensorboardPodExists { plan.children.add(TensorBoardChildren.pod(job, board), update: .createOnly) }
        plan.children.add(TensorBoardChildren.service(job))
    }

    /// Finished: free GPUs (pods deleted after their facts were kept), write the record, honour the TTL.
    mutating func planFinished() {
        plan.deletePods(TrainingJobPlanner.podsToFree(observed, policy: podPolicy), of: job)
        plan.children.prune.insert(.services)  // the headless Service serves nobody any more
        if !o.recordExists { plan.children.add(TrainingRecord.configMap(job, status: status, pods: observed), update: .createOnly) }
        if let ttl = job.spec.ttlSecondsAfterFinished, let done = status.completionTime.flatMap(Timestamp.parse) {
            let due = done.timeIntervalSince1970 + Double(ttl)
            if o.now >= due { plan.deleteJob = true } else { plan.requeue(after: due - o.now) }
        }
    }

    /// A child the API server refused (422) cannot be created by retrying: the job stays Invalid for this
    /// generation, its admission is released and its pods go (see TrainingJobReconciler.markChildRejected).
    mutating func keepsChildRejection() -> Bool {
        guard let rejected = conditions["Invalid"], rejected.status == .true, rejected.reason == ChildRejection.reason,
              rejected.observedGeneration == job.generation else { return false }
        conditions.markStalled(rejected.reason, rejected.message, reconciling: "waiting for a corrected spec")
        conditions.remove("Admitted")
        status.phase = .invalid
        plan.deletePods(observed.filter { !$0.deleting }.map(\.name), of: job)
        return true
    }

    /// Semantic validation, before admission only (the spec is immutable afterwards, and running work is never
    /// stopped because nodes or quotas changed): no children for an invalid spec; the condition names the field,
    /// the numbers and the fix. Re-checked on every change, so a new node pool clears it.
    mutating func refusesInvalidSpec() -> Bool {
        let problems = TrainingJobValidation.problems(job, placement: placement, nodes: o.nodes, platform: o.platform, nodeProblems: o.nodeProblems)
        guard let first = problems.first else {
            conditions.remove("Invalid")
            conditions.remove(ConditionType.stalled)
            if status.phase == .invalid { status.phase = nil }
            return false
        }
        let message = problems.map(\.message).joined(separator: "; ")
        if conditions["Invalid"]?.status != .true || conditions["Invalid"]?.message != message {
            plan.event(.warning, first.reason, message)
        }
        conditions.set("Invalid", .true, first.reason, message)
        conditions.markStalled(first.reason, message, reconciling: "waiting for a corrected spec")
        conditions.remove("Admitted")
        status.queue = nil
        status.phase = .invalid
        plan.deletePods(observed.filter { !$0.deleting }.map(\.name), of: job)
        return true
    }

    /// Suspended (by the user, or by Kueue until it admits): no pods, state kept.
    mutating func planSuspended() {
        plan.deletePods(observed.filter { !$0.deleting }.map(\.name), of: job)
        if status.phase != .suspended { plan.event(.normal, "Suspended", "job suspended; its pods are deleted and its GPUs freed") }
        status.phase = .suspended
        conditions.set("Admitted", .false, "Suspended", "spec.suspend is true")
        conditions.set("Running", .false, "Suspended", "spec.suspend is true")
        conditions.markIdle("Suspended", "spec.suspend is true")
        status.readyReplicas = "0/\(replicas)"
    }

    /// Admission: quota and whole-gang capacity (Kueue's label hands admission to Kueue via suspend). False
    /// while the job waits.
    mutating func admit() -> Bool {
        switch o.admission {
        case .queued(let position, let reason):
            if status.phase != .queued { plan.event(.normal, "Queued", reason) }
            status.phase = .queued
            status.queue = QueueStatus(position: position, reason: reason)
            conditions.set("Admitted", .false, "Queued", reason)
            conditions.markReconciling("Queued", "waiting for admission: \(reason)", ready: reason)
            status.readyReplicas = "0/\(replicas)"
            return false
        case .budgetExhausted(let message):
            if conditions["Admitted"]?.reason != BudgetStanding.reason { plan.event(.warning, BudgetStanding.reason, message) }
            status.phase = .queued
            status.queue = QueueStatus(position: nil, reason: message)
            conditions.set("Admitted", .false, BudgetStanding.reason, message)
            conditions.markReconciling(BudgetStanding.reason, "waiting for GPU-hour budget: \(message)", ready: message)
            status.readyReplicas = "0/\(replicas)"
            return false
        case .admitted:
            status.queue = nil
            status.phase = .admitted
            conditions.set("Admitted", .true, "Admitted", "\(requested) GPUs for \(replicas) replica(s) fit the quota and free capacity")
            plan.event(.normal, "Admitted", "admitted with \(requested) GPUs")
            return true
        }
    }

    /// A replica failed: restart the whole gang, or fail the job.
    mutating func planFailure(_ failed: ObservedPod, current: [ObservedPod]) {
        let replica = "replica \(failed.index ?? -1) (\(failed.name))"
        let exit = failed.exitCode.map { "exit code \($0)" } ?? (failed.reason ?? "failed")
        status.replicaStatuses = TrainingRecord.replicaStatuses(current, logTails: o.logTails, previous: status.replicaStatuses)
        if failed.disrupted {
            status.evictionRestarts = (status.evictionRestarts ?? 0) + 1
            plan.event(.warning, "GangRestart", "\(replica) was disrupted (\(failed.reason ?? "evicted")); restarting all replicas, not counted against backoffLimit")
        } else if let code = failed.exitCode, job.spec.failurePolicy?.permanentExitCodes?.contains(code) == true {
            return terminal(.failed, "PermanentExitCode", "\(replica) exited with \(code), listed in spec.failurePolicy.permanentExitCodes")
        } else if (status.restarts ?? 0) >= job.spec.effectiveBackoffLimit {
            return terminal(.failed, "BackoffLimitExceeded",
                            "\(replica) failed (\(exit)) after \(status.restarts ?? 0) restarts; spec.backoffLimit is \(job.spec.effectiveBackoffLimit)")
        } else {
            status.restarts = (status.restarts ?? 0) + 1
            plan.event(.warning, "GangRestart", "\(replica) failed (\(exit)); restarting all replicas (restart \(status.restarts ?? 0) of \(job.spec.effectiveBackoffLimit))")
        }
        restartGang(current, because: "restarting all replicas after a replica failure")
    }

    /// Deletes the current attempt's pods; the next reconcile creates the next attempt once they are gone.
    mutating func restartGang(_ current: [ObservedPod], because running: String) {
        plan.deletePods(current.map(\.name), of: job)
        conditions.set("Running", .false, "Restarting", running)
        conditions.markReconciling("Restarting", "restarting all replicas")
        status.phase = .admitted
    }

    /// Metrics and early stopping: a fired rule stops the run (pods deleted gracefully: a checkpoint can be
    /// written in the termination grace period) and the record keeps the rule, step and values.
    mutating func stopsEarly() -> Bool {
        guard let snapshot = o.metrics else { return false }
        status.metrics = MetricsStatus.keepingFuller(status.metrics, snapshot.metrics)
        guard let stop = snapshot.earlyStop else { return false }
        status.earlyStop = stop
        terminal(.earlyStopped, "EarlyStopped", "stopped by the \(stop.rule) rule at step \(stop.step ?? 0): \(stop.message)")
        return true
    }

    /// `activeDeadlineSeconds` from the start, `startupDeadlineSeconds` from admission until all replicas run.
    mutating func exceedsDeadline(_ current: [ObservedPod]) -> Bool {
        if let deadline = job.spec.activeDeadlineSeconds, let start = status.startTime.flatMap(Timestamp.parse) {
            let due = start.timeIntervalSince1970 + Double(deadline)
            if o.now >= due {
                terminal(.failed, "DeadlineExceeded", "the job ran longer than spec.activeDeadlineSeconds (\(deadline)s)")
                return true
            }
            plan.requeue(after: due - o.now)
        }
        let allRunning = current.count == replicas && current.allSatisfy { $0.state == .running || $0.state == .succeeded }
        if !allRunning, let deadline = job.spec.startupDeadlineSeconds,
           let admittedAt = conditions["Admitted"]?.lastTransitionTime, let since = Timestamp.parse(admittedAt) {
            let due = since.timeIntervalSince1970 + Double(deadline)
            if o.now >= due {
                let stuck = current.filter { $0.state == .pending }
                let diagnosis = stuck.first.map { "pod \($0.name): \($0.startupProblem ?? "not started")" } ?? "replica pods were not created"
                terminal(.failed, "StartupDeadlineExceeded",
                         "not all replicas started within spec.startupDeadlineSeconds (\(deadline)s); \(diagnosis)")
                return true
            }
            plan.requeue(after: due - o.now)
        }
        return false
    }

    /// Converge children: the dataset cache, the headless Service and MPI hostfile, then the gang, once the
    /// previous attempt's pods (same names) are gone.
    /// Returns the replica pods the plan creates.
    mutating func converge(current: [ObservedPod], stale: [ObservedPod], present: Set<Int>) -> [ObservedPod] {
        let datasetURI = DatasetCache.uri(of: job)
        if let uri = datasetURI, !o.datasetCacheExists {
            // Created once per dataset, shared with every job that reads it.
            plan.children.add(DatasetCache.daemonSet(namespace: job.namespace, uri: uri, placement: placement,
                                                     productLabel: o.platform.effectiveGPU.effectiveProductLabel), update: .createOnly)
        }
        if TrainingPods.needsService(job), !o.serviceExists { plan.children.add(TrainingPods.desiredService(job)) }
        if job.spec.framework == .mpi, !o.hostfileExists {
            plan.children.add(TrainingPods.desiredHostfile(job, placement: placement), update: .createOnly)
        }
        guard stale.isEmpty else {
            plan.deletePods(stale.filter { !$0.deleting }.map(\.name), of: job)
            return []
        }
        var created: [ObservedPod] = []
        for index in 0..<replicas where !present.contains(index) {
            var pod = TrainingPods.desiredPod(job, index: index, attempt: attempt, placement: placement,
                                              security: o.platform.effectivePodPolicy.effectiveSecurityContext)
            if let uri = datasetURI { DatasetCache.attach(to: &pod, uri: uri, readyNodes: o.datasetCacheReadyNodes) }
            plan.children.add(pod, update: .createOnly)
            created.append(ObservedPod(pod.json, attemptAnnotation: TrainingPods.attemptAnnotation))
        }
        return created
    }

    /// Progress and status. gpuHours is written when the job ends: a value that changes every reconcile would
    /// make every reconcile write status, and every status write wake another reconcile.
    mutating func reportProgress(_ current: [ObservedPod]) {
        let ready = current.filter(\.ready).count
        let running = current.filter { $0.state == .running }.count
        let allRunning = current.count == replicas && current.allSatisfy { $0.state == .running || $0.state == .succeeded }
        status.readyReplicas = "\(ready)/\(replicas)"
        status.replicas = ReplicaCounts(total: replicas, active: current.filter { !$0.finished }.count, ready: ready,
                                        succeeded: current.filter { $0.state == .succeeded }.count, failed: 0)
        if allRunning && running > 0 {
            if status.phase != .running { plan.event(.normal, "Running", "all \(replicas) replica(s) are running") }
            status.phase = .running
            if status.startTime == nil { status.startTime = nowText }
            conditions.set("Running", .true, "AllReplicasRunning", "\(running) of \(replicas) replica(s) running, \(ready) ready")
            conditions.markReady("Running", "training is running", settled: "all replicas are running")
        } else {
            let problem = current.compactMap { p in p.startupProblem.map { "pod \(p.name): \($0)" } }.first
            status.phase = .admitted
            conditions.set("Running", .false, "Starting", problem ?? "\(running) of \(replicas) replica(s) running")
            conditions.markReconciling("Starting", problem ?? "replicas are starting")
        }
    }

    /// Moves the job to a finished phase: keep each replica's facts in status, free GPUs, write the record.
    mutating func terminal(_ phase: TrainingJobStatus.Phase, _ reason: String, _ message: String) {
        status.phase = phase
        status.completionTime = nowText
        status.readyReplicas = "0/\(replicas)"  // the pods are being stopped: nothing of a finished job is ready
        status.replicas = ReplicaCounts(total: replicas, active: 0, ready: 0,
                                        succeeded: observed.filter { $0.state == .succeeded }.count,
                                        failed: observed.filter { $0.state == .failed }.count)
        status.replicaStatuses = TrainingRecord.replicaStatuses(observed.filter { !$0.deleting || $0.finished }, logTails: o.logTails,
                                                                previous: status.replicaStatuses)
        if let start = status.startTime.flatMap(Timestamp.parse), let end = Timestamp.parse(nowText) {
            status.gpuHours = Double(status.requestedGPUs ?? 0) * max(0, end.timeIntervalSince1970 - start.timeIntervalSince1970) / 3600
        }
        conditions.set("Running", .false, reason, message)
        // `Complete` is true for every end (kubectl wait --for=condition=Complete); `Ready` stays true for a run
        // that ended as designed (succeeded, or stopped early: a normal sweep result, healthy for Flux and Argo
        // CD); only a failure needs a human, so only a failure is `Stalled`.
        conditions.set("Complete", .true, reason, message)
        switch phase {
        case .succeeded, .earlyStopped:
            conditions.set(phase == .succeeded ? "Succeeded" : "EarlyStopped", .true, reason, message)
            conditions.markReady(reason, message)
            plan.event(.normal, reason, message)
        default:
            conditions.set("Failed", .true, reason, message)
            conditions.markStalled(reason, message)
            plan.event(.warning, reason, message)
        }
        plan.children.prune.insert(.services)
        plan.deletePods(TrainingJobPlanner.podsToFree(observed, policy: podPolicy), of: job)
        if !o.recordExists {
            // The conditions just set are the record's `result` (they reach status only when the plan ends).
            var recorded = status
            recorded.conditions = conditions.list
            plan.children.add(TrainingRecord.configMap(job, status: recorded, pods: observed), update: .createOnly)
        }
        status.queue = nil
    }
}

extension MetricsStatus {
    /// Metrics known so far, never replaced by emptier ones: a follower restarted after a controller restart
    /// starts from nothing and must not wipe what status already holds until it has read further.
    static func keepingFuller(_ known: MetricsStatus?, _ fresh: MetricsStatus?) -> MetricsStatus? {
        guard let fresh else { return known }
        guard let known else { return fresh }
        return (fresh.step ?? -1) >= (known.step ?? -1) ? fresh : known
    }
}

/// A child create answered 422: the job's spec produced an object the API server refuses.
public enum ChildRejection {
    public static let reason = "ChildRejected"
}
