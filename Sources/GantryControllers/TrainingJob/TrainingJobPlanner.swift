import Foundation
import GantryAPI
import KubeCore

/// The TrainingJob state machine as a pure function: observation in, plan (writes + status) out.
/// Idempotent and level-triggered: planning again from the state the plan produces asks for nothing new.
public enum TrainingJobPlanner {
    public static func plan(_ o: TrainingJobObservation) -> TrainingJobPlan {
        let job = o.job
        let gpuSettings = o.platform.effectiveGPU
        let placement = GPUPlacement(request: job.spec.gpu, settings: gpuSettings)
        var status = job.status
        let nowText = Timestamp.format(Date(timeIntervalSince1970: o.now))
        var plan = TrainingJobPlan(status: status)
        var conditions = status.conditions ?? []
        let generation = job.generation
        func set(_ type: String, _ value: Condition.Status, _ reason: String, _ message: String) {
            conditions.set(Condition(type: type, status: value, reason: reason, message: message, observedGeneration: generation), now: nowText)
        }

        let attempt = (status.restarts ?? 0) + (status.evictionRestarts ?? 0)
        let observed = o.pods.map { ObservedPod($0, attemptAnnotation: TrainingPods.attemptAnnotation) }
        let replicas = job.spec.effectiveReplicas
        let requested = placement.countPerPod * replicas
        status.requestedGPUs = requested
        let podPolicy = job.spec.finishedPodPolicy ?? o.platform.effectiveFinishedPodPolicy
        status.appliedDefaults = AppliedDefaults(
            gpuResourceName: placement.resourceName, tolerations: placement.tolerations.isEmpty ? nil : placement.tolerations,
            finishedPodPolicy: podPolicy.rawValue, namespaceGPUQuota: o.platform.quota(for: job.namespace),
            securityContext: o.platform.effectivePodPolicy.effectiveSecurityContext.rawValue)
        status.observedGeneration = generation
        status.recordRef = TrainingRecord.name(job)

        func finish(_ plan: inout TrainingJobPlan) -> TrainingJobPlan {
            // GPUS is what the job holds now: nothing while it waits, is suspended or has finished.
            status.gpus = status.phase == .admitted || status.phase == .running ? requested : 0
            status.conditions = conditions
            plan.status = status
            return plan
        }

        // Deleted: the record outlives the job (cancelled runs stay in the experiment history); the finalizer
        // goes once the record exists. The pods go with garbage collection.
        if job.deletionTimestamp != nil {
            guard o.hasFinalizer else { return finish(&plan) }
            if !o.recordExists {
                var final = status
                final.replicaStatuses = TrainingRecord.replicaStatuses(observed, logTails: o.logTails, previous: status.replicaStatuses)
                if let snapshot = o.metrics { final.metrics = MetricsStatus.keepingFuller(status.metrics, snapshot.metrics) }
                plan.create.append(TrainingRecord.configMap(job, status: final, pods: observed, deleted: true))
            }
            plan.removeFinalizer = true
            return finish(&plan)
        }
        // The finalizer comes before any child: a job deleted from here on still leaves its record.
        if !o.hasFinalizer && !(status.phase?.isFinished ?? false) { plan.addFinalizer = true }

        // TensorBoard sits beside the job for its whole life, finished or not (it holds no GPU).
        if let board = job.spec.tensorboard, !board.logDir.isEmpty {
            if !o.tensorboardPodExists { plan.create.append(TensorBoardChildren.pod(job, board)) }
            if !o.tensorboardServiceExists { plan.create.append(TensorBoardChildren.service(job)) }
        }

        // Finished: free GPUs (pods deleted after their facts were kept), write the record, honour the TTL.
        if let phase = status.phase, phase.isFinished {
            plan.deletePods = podsToFree(observed, policy: podPolicy)
            if o.serviceExists { plan.deleteServices.append(TrainingPods.serviceName(job)) }
            if !o.recordExists { plan.create.append(TrainingRecord.configMap(job, status: status, pods: observed)) }
            if let ttl = job.spec.ttlSecondsAfterFinished, let done = status.completionTime.flatMap(Timestamp.parse) {
                let due = done.timeIntervalSince1970 + Double(ttl)
                if o.now >= due { plan.deleteJob = true } else { plan.requeue(after: due - o.now) }
            }
            return finish(&plan)
        }

        // A child the API server refused (422) cannot be created by retrying: the job stays Invalid for this
        // generation, its admission is released and its pods go (see TrainingJobReconciler.markChildRejected).
        if let rejected = conditions[type: "Invalid"], rejected.status == .true, rejected.reason == ChildRejection.reason,
           rejected.observedGeneration == generation {
            set("Ready", .false, rejected.reason, rejected.message)
            set("Reconciling", .false, rejected.reason, "waiting for a corrected spec")
            set("Stalled", .true, rejected.reason, rejected.message)
            conditions.remove(type: "Admitted")
            status.phase = .invalid
            plan.deletePods = observed.filter { !$0.deleting }.map(\.name)
            return finish(&plan)
        }

        // Semantic validation, before admission only (the spec is immutable afterwards, and running work is
        // never stopped because nodes or quotas changed): no children for an invalid spec; the condition names
        // the field, the numbers and the fix. Re-checked on every change, so a new node pool clears it.
        let alreadyAdmitted = conditions.isTrue("Admitted")
        if !alreadyAdmitted {
            let problems = TrainingJobValidation.problems(job, placement: placement, nodes: o.nodes, platform: o.platform)
            if let first = problems.first {
                let message = problems.map(\.message).joined(separator: "; ")
                if conditions[type: "Invalid"]?.status != .true || conditions[type: "Invalid"]?.message != message {
                    plan.event("Warning", first.reason, message)
                }
                set("Invalid", .true, first.reason, message)
                set("Stalled", .true, first.reason, message)
                set("Ready", .false, first.reason, message)
                set("Reconciling", .false, first.reason, "waiting for a corrected spec")
                conditions.remove(type: "Admitted")
                status.queue = nil
                status.phase = .invalid
                plan.deletePods = observed.filter { !$0.deleting }.map(\.name)
                return finish(&plan)
            }
            conditions.remove(type: "Invalid")
            conditions.remove(type: "Stalled")
            if status.phase == .invalid { status.phase = nil }
        }

        // Suspended (by the user, or by Kueue until it admits): no pods, state kept.
        if job.spec.suspend == true {
            plan.deletePods = observed.filter { !$0.deleting }.map(\.name)
            if status.phase != .suspended { plan.event("Normal", "Suspended", "job suspended; its pods are deleted and its GPUs freed") }
            status.phase = .suspended
            set("Admitted", .false, "Suspended", "spec.suspend is true")
            set("Running", .false, "Suspended", "spec.suspend is true")
            set("Ready", .false, "Suspended", "spec.suspend is true")
            set("Reconciling", .false, "Suspended", "spec.suspend is true")
            status.readyReplicas = "0/\(replicas)"
            return finish(&plan)
        }

        // Admission: quota and whole-gang capacity (Kueue's label hands admission to Kueue via suspend).
        if !alreadyAdmitted {
            switch o.admission {
            case .queued(let position, let reason):
                if status.phase != .queued { plan.event("Normal", "Queued", reason) }
                status.phase = .queued
                status.queue = QueueStatus(position: position, reason: reason)
                set("Admitted", .false, "Queued", reason)
                set("Ready", .false, "Queued", reason)
                set("Reconciling", .true, "Queued", "waiting for admission: \(reason)")
                status.readyReplicas = "0/\(replicas)"
                return finish(&plan)
            case .admitted:
                status.queue = nil
                status.phase = .admitted
                set("Admitted", .true, "Admitted", "\(requested) GPUs for \(replicas) replica(s) fit the quota and free capacity")
                plan.event("Normal", "Admitted", "admitted with \(requested) GPUs")
            }
        }

        let current = observed.filter { $0.attempt == attempt && !$0.deleting }
        let stale = observed.filter { $0.attempt != attempt || $0.deleting }

        // A replica failed: restart the whole gang, or fail the job.
        if let failed = current.first(where: { $0.state == .failed }) {
            let exit = failed.exitCode.map { "exit code \($0)" } ?? (failed.reason ?? "failed")
            status.replicaStatuses = TrainingRecord.replicaStatuses(current, logTails: o.logTails, previous: status.replicaStatuses)
            if failed.disrupted {
                status.evictionRestarts = (status.evictionRestarts ?? 0) + 1
                plan.event("Warning", "GangRestart", "replica \(failed.index ?? -1) (\(failed.name)) was disrupted (\(failed.reason ?? "evicted")); restarting all replicas, not counted against backoffLimit")
            } else if let code = failed.exitCode, job.spec.failurePolicy?.permanentExitCodes?.contains(code) == true {
                return terminal(&plan, &status, &conditions, .failed, "PermanentExitCode",
                                "replica \(failed.index ?? -1) (\(failed.name)) exited with \(code), listed in spec.failurePolicy.permanentExitCodes", observed, o, nowText, generation)
            } else if (status.restarts ?? 0) >= job.spec.effectiveBackoffLimit {
                return terminal(&plan, &status, &conditions, .failed, "BackoffLimitExceeded",
                                "replica \(failed.index ?? -1) (\(failed.name)) failed (\(exit)) after \(status.restarts ?? 0) restarts; spec.backoffLimit is \(job.spec.effectiveBackoffLimit)", observed, o, nowText, generation)
            } else {
                status.restarts = (status.restarts ?? 0) + 1
                plan.event("Warning", "GangRestart", "replica \(failed.index ?? -1) (\(failed.name)) failed (\(exit)); restarting all replicas (restart \(status.restarts ?? 0) of \(job.spec.effectiveBackoffLimit))")
            }
            plan.deletePods = current.map(\.name)
            set("Running", .false, "Restarting", "restarting all replicas after a replica failure")
            set("Ready", .false, "Restarting", "restarting all replicas")
            set("Reconciling", .true, "Restarting", "restarting all replicas")
            status.phase = .admitted
            return finish(&plan)
        }

        // Metrics and early stopping: a fired rule stops the run (pods deleted gracefully: a checkpoint can be
        // written in the termination grace period) and the record keeps the rule, step and values.
        if let snapshot = o.metrics {
            status.metrics = MetricsStatus.keepingFuller(status.metrics, snapshot.metrics)
            if let stop = snapshot.earlyStop {
                status.earlyStop = stop
                return terminal(&plan, &status, &conditions, .earlyStopped, "EarlyStopped",
                                "stopped by the \(stop.rule) rule at step \(stop.step ?? 0): \(stop.message)", observed, o, nowText, generation)
            }
        }

        // Replicas vanished while the gang was running (deleted by someone, lost with their node): a distributed
        // job cannot continue with a hole, so restart the gang; like an eviction, it does not count.
        let present = Set(current.compactMap(\.index))
        if status.phase == .running, stale.isEmpty, present.count < replicas {
            let missing = (0..<replicas).filter { !present.contains($0) }.map { TrainingPods.podName(job, $0) }
            status.evictionRestarts = (status.evictionRestarts ?? 0) + 1
            plan.event("Warning", "GangRestart", "\(missing.joined(separator: ", ")) disappeared (deleted, or lost with its node); restarting all replicas, not counted against backoffLimit")
            plan.deletePods = current.map(\.name)
            set("Running", .false, "Restarting", "replica pods disappeared; restarting all replicas")
            set("Ready", .false, "Restarting", "restarting all replicas")
            set("Reconciling", .true, "Restarting", "restarting all replicas")
            status.phase = .admitted
            return finish(&plan)
        }

        // Every replica succeeded.
        if current.count == replicas, current.allSatisfy({ $0.state == .succeeded }) {
            return terminal(&plan, &status, &conditions, .succeeded, "Completed", "all \(replicas) replica(s) succeeded", observed, o, nowText, generation)
        }

        // Deadlines.
        if let deadline = job.spec.activeDeadlineSeconds, let start = status.startTime.flatMap(Timestamp.parse) {
            let due = start.timeIntervalSince1970 + Double(deadline)
            if o.now >= due {
                return terminal(&plan, &status, &conditions, .failed, "DeadlineExceeded", "the job ran longer than spec.activeDeadlineSeconds (\(deadline)s)", observed, o, nowText, generation)
            }
            plan.requeue(after: due - o.now)
        }
        let allRunning = current.count == replicas && current.allSatisfy { $0.state == .running || $0.state == .succeeded }
        if !allRunning, let deadline = job.spec.startupDeadlineSeconds,
           let admittedAt = conditions[type: "Admitted"]?.lastTransitionTime, let since = Timestamp.parse(admittedAt) {
            let due = since.timeIntervalSince1970 + Double(deadline)
            if o.now >= due {
                let stuck = current.filter { $0.state == .pending }
                let diagnosis = stuck.first.map { "pod \($0.name): \($0.startupProblem ?? "not started")" } ?? "replica pods were not created"
                return terminal(&plan, &status, &conditions, .failed, "StartupDeadlineExceeded",
                                "not all replicas started within spec.startupDeadlineSeconds (\(deadline)s); \(diagnosis)", observed, o, nowText, generation)
            }
            plan.requeue(after: due - o.now)
        }

        // Dataset cache on the nodes: created once per dataset, shared with every job that reads it.
        let datasetURI = DatasetCache.uri(of: job)
        if let uri = datasetURI, !o.datasetCacheExists {
            plan.create.append(DatasetCache.daemonSet(namespace: job.namespace, uri: uri, placement: placement,
                                                      productLabel: gpuSettings.effectiveProductLabel))
        }

        // Converge children: wait for the previous attempt's pods to go (same names), then create the gang.
        if TrainingPods.needsService(job), !o.serviceExists { plan.create.append(TrainingPods.desiredService(job)) }
        if job.spec.framework == .mpi, !o.hostfileExists { plan.create.append(TrainingPods.desiredHostfile(job, placement: placement)) }
        if stale.isEmpty {
            for index in 0..<replicas where !present.contains(index) {
                var pod = TrainingPods.desiredPod(job, index: index, attempt: attempt, placement: placement,
                                                  security: o.platform.effectivePodPolicy.effectiveSecurityContext)
                if let uri = datasetURI { DatasetCache.attach(to: &pod, uri: uri, readyNodes: o.datasetCacheReadyNodes) }
                plan.create.append(pod)
            }
        } else {
            plan.deletePods += stale.filter { !$0.deleting }.map(\.name)
        }

        // Progress and status.
        let ready = current.filter(\.ready).count
        let running = current.filter { $0.state == .running }.count
        status.readyReplicas = "\(ready)/\(replicas)"
        status.replicas = ReplicaCounts(total: replicas, active: current.filter { !$0.finished }.count, ready: ready,
                                        succeeded: current.filter { $0.state == .succeeded }.count, failed: 0)
        if allRunning && running > 0 {
            if status.phase != .running { plan.event("Normal", "Running", "all \(replicas) replica(s) are running") }
            status.phase = .running
            if status.startTime == nil { status.startTime = nowText }
            set("Running", .true, "AllReplicasRunning", "\(running) of \(replicas) replica(s) running, \(ready) ready")
            set("Ready", .true, "Running", "training is running")
            set("Reconciling", .false, "Running", "all replicas are running")
        } else {
            let problem = current.compactMap { p in p.startupProblem.map { "pod \(p.name): \($0)" } }.first
            status.phase = .admitted
            set("Running", .false, "Starting", problem ?? "\(running) of \(replicas) replica(s) running")
            set("Ready", .false, "Starting", problem ?? "replicas are starting")
            set("Reconciling", .true, "Starting", problem ?? "replicas are starting")
        }
        // gpuHours is written when the job ends: a value that changes every reconcile would make every
        // reconcile write status, and every status write wake another reconcile.
        return finish(&plan)
    }

    /// Moves the job to a finished phase: keep each replica's facts in status, free GPUs, write the record.
    static func terminal(_ plan: inout TrainingJobPlan, _ status: inout TrainingJobStatus, _ conditions: inout [Condition],
                         _ phase: TrainingJobStatus.Phase, _ reason: String, _ message: String, _ pods: [ObservedPod],
                         _ o: TrainingJobObservation, _ now: String, _ generation: Int64) -> TrainingJobPlan {
        func set(_ type: String, _ value: Condition.Status, _ reason: String, _ message: String) {
            conditions.set(Condition(type: type, status: value, reason: reason, message: message, observedGeneration: generation), now: now)
        }
        status.phase = phase
        status.completionTime = now
        let total = o.job.spec.effectiveReplicas
        status.readyReplicas = "0/\(total)"  // the pods are being stopped: nothing of a finished job is ready
        status.replicas = ReplicaCounts(total: total, active: 0, ready: 0,
                                        succeeded: pods.filter { $0.state == .succeeded }.count,
                                        failed: pods.filter { $0.state == .failed }.count)
        status.replicaStatuses = TrainingRecord.replicaStatuses(pods.filter { !$0.deleting || $0.finished }, logTails: o.logTails, previous: status.replicaStatuses)
        if let start = status.startTime.flatMap(Timestamp.parse), let end = Timestamp.parse(now) {
            status.gpuHours = Double(status.requestedGPUs ?? 0) * max(0, end.timeIntervalSince1970 - start.timeIntervalSince1970) / 3600
        }
        set("Running", .false, reason, message)
        // `Complete` is true for every end (kubectl wait --for=condition=Complete); `Ready` stays true for a
        // run that ended as designed (succeeded, or stopped early: a normal sweep result, healthy for Flux and
        // Argo CD); only a failure needs a human, so only a failure is `Stalled`.
        set("Complete", .true, reason, message)
        set("Reconciling", .false, reason, message)
        switch phase {
        case .succeeded, .earlyStopped:
            set(phase == .succeeded ? "Succeeded" : "EarlyStopped", .true, reason, message)
            set("Ready", .true, reason, message)
            conditions.remove(type: "Stalled")
            plan.event("Normal", reason, message)
        default:
            set("Failed", .true, reason, message)
            set("Ready", .false, reason, message)
            set("Stalled", .true, reason, message)
            plan.event("Warning", reason, message)
        }
        if o.serviceExists { plan.deleteServices.append(TrainingPods.serviceName(o.job)) }
        plan.deletePods = podsToFree(pods, policy: o.job.spec.finishedPodPolicy ?? o.platform.effectiveFinishedPodPolicy)
        if !o.recordExists { plan.create.append(TrainingRecord.configMap(o.job, status: status, pods: pods)) }
        status.gpus = 0
        status.queue = nil
        status.conditions = conditions
        plan.status = status
        return plan
    }

    /// Pods of a finished job to delete: every pod still running (a stopped or failed job must not hold GPUs),
    /// and the terminated ones too unless the platform keeps them.
    static func podsToFree(_ pods: [ObservedPod], policy: PlatformConfigSpec.FinishedPodPolicy) -> [String] {
        pods.filter { !$0.deleting && (policy == .delete || !$0.finished) }.map(\.name)
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
