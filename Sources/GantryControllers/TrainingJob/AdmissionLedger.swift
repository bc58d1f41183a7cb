import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// Admission decisions kept between reconciles, so a burst of N jobs costs O(N) admission work instead of
/// re-decoding and re-walking every TrainingJob in every reconcile (issue #8, item 15).
///
/// The store stays the source of truth: a full computation lists the cached jobs and decodes only those whose
/// resourceVersion changed. Watch events only say whether the last computation still holds:
/// - a new queued job that sorts after every job already considered is decided by continuing the last pass;
/// - a queued job becoming admitted as decided changes nobody else's decision;
/// - anything else that frees or takes capacity (a job finishing, suspended, deleted, invalid, resumed, a
///   priority change, nodes, the PlatformConfig) makes the next decision compute afresh.
/// Starvation depends on time, and bound pods may sit on other nodes than best fit assumed, so a computation
/// older than `maxAge` is redone too (queued jobs look again every few seconds anyway).
public actor AdmissionLedger {
    struct Entry {
        var resourceVersion: String?
        /// The decoded job, kept only while it competes: a finished job's decoded copy would cost as much memory
        /// as its cached object again, for a reconcile that rarely comes.
        var job: TrainingJob?
        /// Competes for admission: not finished, suspended, invalid, deleting or left to Kueue.
        var active: Bool
        var admitted: Bool
        var priority: Int?

        init(resourceVersion: String?, job: TrainingJob) {
            self.resourceVersion = resourceVersion
            active = Self.competes(job)
            admitted = job.status.conditions?.isTrue("Admitted") == true
            priority = job.spec.priority
            self.job = active ? job : nil
        }

        static func competes(_ job: TrainingJob) -> Bool {
            job.deletionTimestamp == nil && job.spec.suspend != true && !(job.status.phase?.isFinished ?? false)
                && job.status.phase != .invalid && job.labels[GantryLabels.kueueQueueName] == nil
        }
    }

    private var entries: [ObjectKey: Entry] = [:]
    /// The keys of the entries that compete: a computation walks these, not every job ever seen (10,000 finished
    /// jobs cost a full computation nothing but their count).
    private var activeKeys: Set<ObjectKey> = []
    private var decisions: [ObjectKey: GangAdmission.Decision] = [:]
    private var pass: AdmissionPass?
    private var computedAt: Double?
    private var settings = GPUSettings()
    /// Budgets of the exhausted namespaces the last computation used: a change (exhausted, raised, a new month)
    /// makes the next decision compute afresh.
    private var exhausted: [String: BudgetStanding] = [:]
    private var platformFingerprint: JSONValue?
    let maxAge: Double
    /// Full computations so far (the benchmark and tests read it).
    public private(set) var computations = 0

    public init(maxAge: Double = 5) { self.maxAge = maxAge }

    /// Called for every TrainingJob watch event before its reconcile is queued.
    public func observe(_ event: ReflectorEvent) {
        let object = event.object
        let key = object.objectKey
        guard case .upserted = event, let job = try? TrainingJob(object) else {
            if setEntry(nil, for: key)?.active == true { invalidate() }
            return
        }
        let new = Entry(resourceVersion: object.resourceVersion, job: job)
        let old = setEntry(new, for: key)
        guard pass != nil else { return }
        guard let old else {
            if new.active { append(new) }
            return
        }
        if old.active != new.active || old.priority != new.priority {
            invalidate()
        } else if old.admitted != new.admitted, !(new.admitted && decisions[key] == .admitted) {
            invalidate()
        }
    }

    /// A node event: decisions change only when what admission reads of the node changed (capacity, labels,
    /// taints, schedulability, readiness), not on every status heartbeat.
    public func observeNode(_ event: ReflectorEvent) {
        guard let name = event.object.name else { return }
        guard case .upserted = event else {
            if nodeFingerprints.removeValue(forKey: name) != nil { invalidate() }
            return
        }
        var fingerprint = TrainingJobWatches.nodeFields.project(event.object)
        fingerprint[path: "metadata", "resourceVersion"] = nil
        // Heartbeat times change on every status write; only the condition's status counts.
        let conditions = fingerprint[path: "status", "conditions"]?.arrayValue?.map { c -> JSONValue in
            ["type": c["type"] ?? .null, "status": c["status"] ?? .null]
        }
        fingerprint[path: "status", "conditions"] = conditions.map(JSONValue.array)
        if nodeFingerprints.updateValue(fingerprint, forKey: name) != fingerprint { invalidate() }
    }
    private var nodeFingerprints: [String: JSONValue] = [:]

    /// The job as decoded when its watch event arrived, if `resourceVersion` is still the version seen: a
    /// reconcile woken by a pod event need not decode an unchanged TrainingJob again.
    public func decodedJob(_ key: ObjectKey, resourceVersion: String?) -> TrainingJob? {
        guard let entry = entries[key], resourceVersion != nil, entry.resourceVersion == resourceVersion else { return nil }
        return entry.job
    }

    /// A PlatformConfig event: true when what admission reads of it changed (its spec, or which namespaces are
    /// past their budget), not when only the GPU-hours counted in its status moved on.
    public func observePlatform(_ event: ReflectorEvent, now: Double) -> Bool {
        var fingerprint: JSONValue = .null
        if case .upserted = event {
            let object = event.object
            let spec = (try? (object["spec"] ?? .emptyObject).decode(PlatformConfigSpec.self)) ?? PlatformConfigSpec()
            let status = try? (object["status"] ?? .emptyObject).decode(PlatformConfigStatus.self)
            let budgets = BudgetStanding.exhaustedNamespaces(spec: spec, status: status, now: Date(timeIntervalSince1970: now))
            fingerprint = ["spec": object["spec"] ?? .null, "exhausted": .array(budgets.keys.sorted().map(JSONValue.string))]
        }
        guard fingerprint != platformFingerprint else { return false }
        platformFingerprint = fingerprint
        invalidate()
        return true
    }

    /// Sets (or removes) one entry and keeps `activeKeys` in step; the entry it replaced.
    @discardableResult
    private func setEntry(_ entry: Entry?, for key: ObjectKey) -> Entry? {
        let old = entries[key]
        entries[key] = entry
        if entry?.active == true { activeKeys.insert(key) } else if old?.active == true { activeKeys.remove(key) }
        return old
    }

    /// The PlatformConfig changed: every decision may change.
    public func invalidate() {
        pass = nil
        decisions = [:]
    }

    /// The decision for one job, computing afresh when the last computation no longer holds.
    public func decision(for key: ObjectKey, jobs: [JSONValue], pods: [JSONValue], nodes: [JSONValue],
                         platform: PlatformConfigSpec, exhausted: [String: BudgetStanding] = [:], now: Double) -> GangAdmission.Decision {
        if platform.effectiveGPU != settings { settings = platform.effectiveGPU; invalidate() }
        if !Self.sameBudgets(exhausted, self.exhausted) { self.exhausted = exhausted; invalidate() }
        if let at = computedAt, now - at > maxAge { invalidate() }
        if pass == nil || decisions[key] == nil { compute(jobs: jobs, pods: pods, nodes: nodes, platform: platform, now: now) }
        return decisions[key] ?? .queued(position: 0, reason: "not yet considered")
    }

    /// The decision for one job when the last computation still holds (so the reconciler need not list the
    /// caches), else nil.
    public func currentDecision(for key: ObjectKey, settings current: GPUSettings, exhausted: [String: BudgetStanding] = [:],
                                now: Double) -> GangAdmission.Decision? {
        guard pass != nil, current == settings, Self.sameBudgets(exhausted, self.exhausted), let at = computedAt, now - at <= maxAge else { return nil }
        return decisions[key]
    }

    /// The same namespaces exhausted under the same budgets (the GPU-hours counted move on without changing a decision).
    static func sameBudgets(_ a: [String: BudgetStanding], _ b: [String: BudgetStanding]) -> Bool {
        a.mapValues { [$0.month, String($0.gpuHours)] } == b.mapValues { [$0.month, String($0.gpuHours)] }
    }

    /// `jobs` and `pods` need not hold finished ones (the reconciler leaves them out unread): an entry of a job
    /// not in `jobs` is dropped.
    private func compute(jobs: [JSONValue], pods: [JSONValue], nodes: [JSONValue], platform: PlatformConfigSpec, now: Double) {
        computations += 1
        var seen = Set<ObjectKey>()
        for object in jobs {
            let key = object.objectKey
            seen.insert(key)
            if let entry = entries[key], entry.resourceVersion == object.resourceVersion { continue }
            if let job = try? TrainingJob(object) { setEntry(Entry(resourceVersion: object.resourceVersion, job: job), for: key) }
        }
        if entries.count > seen.count {
            for key in entries.keys where !seen.contains(key) { setEntry(nil, for: key) }
        }

        // GPUs of bound, unfinished pods per node, and how many of each job's pods are bound.
        var uidToEntry: [String: ObjectKey] = [:]
        for key in activeKeys { if let uid = entries[key]?.job?.uid { uidToEntry[uid] = key } }
        var used: [String: [String: Int]] = [:]
        var bound: [ObjectKey: Int] = [:]
        for pod in pods {
            // Finished pods hold nothing (ObservedPod.finished: phase Succeeded or Failed), read without
            // decoding the rest of the pod: with thousands of finished jobs kept, they are most of the cache.
            guard let node = pod[path: "spec", "nodeName"]?.stringValue else { continue }
            if let phase = pod[path: "status", "phase"]?.stringValue, phase == "Succeeded" || phase == "Failed" { continue }
            // The other kinds' pods (InferenceService colours, Notebooks) hold GPUs too: what they ask for counts.
            guard let owner = pod.controllerReference, owner.kind == "TrainingJob" else {
                for (resource, count) in SchedulingRules.extendedRequests(of: Pod(json: pod)) {
                    used[node, default: [:]][resource, default: 0] += count
                }
                continue
            }
            // A job's TensorBoard pod holds no GPU and is not a replica.
            guard pod.labels[GantryLabels.role] != TensorBoardChildren.role, let key = uidToEntry[owner.uid], let job = entries[key]?.job else { continue }
            let placement = GPUPlacement(request: job.spec.gpu, settings: settings)
            guard let resource = placement.resourceName else { continue }
            used[node, default: [:]][resource, default: 0] += placement.countPerPod
            bound[key, default: 0] += 1
        }
        let candidates = activeKeys.compactMap { key in entries[key].flatMap { candidate($0, boundPods: bound[key] ?? 0) } }
        var next = AdmissionPass(nodes: nodes, used: used, platform: platform, exhausted: exhausted, now: now)
        decisions = [:]
        for c in candidates where c.admitted {
            next.hold(c)
            decisions[c.job.key] = .admitted
        }
        for c in candidates.filter({ !$0.admitted }).sorted(by: GangAdmission.order) {
            decisions[c.job.key] = next.consider(c)
        }
        pass = next
        computedAt = now
    }

    /// A new queued job: continue the last pass when it sorts after everything already considered, or when
    /// nothing considered so far waits (then its place in the order changes no decision: every job before and
    /// after it was admitted, and admitted jobs keep their admission). Jobs created in the same second sort by
    /// name, so `run-10` comes before `run-9`: without the second rule a burst recomputed over and over.
    private func append(_ entry: Entry) {
        guard var next = pass, let c = candidate(entry, boundPods: 0) else { return }
        if c.admitted { invalidate(); return }
        if let last = next.last, !GangAdmission.order(last, c), !next.nobodyWaits { invalidate(); return }
        decisions[c.job.key] = next.consider(c)
        pass = next
    }

    /// Nil for an entry that does not compete (it keeps no decoded job).
    private func candidate(_ entry: Entry, boundPods: Int) -> GangAdmission.Candidate? {
        guard let job = entry.job else { return nil }
        let placement = GPUPlacement(request: job.spec.gpu, settings: settings)
        let waiting = entry.admitted ? nil : job.status.conditions?[type: "Admitted"].flatMap { Timestamp.parse($0.lastTransitionTime) }?.timeIntervalSince1970
        return .init(job: job, placement: placement, tolerations: placement.tolerations + (job.spec.tolerations ?? []),
                     admitted: entry.admitted, boundPods: boundPods, waitingSince: waiting)
    }
}
