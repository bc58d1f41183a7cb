import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeRuntime
import Logging

/// Follows the metrics replica's log of each running TrainingJob (pod `log` API, `follow=true`, over libcurl),
/// folds metric lines into a `MetricSeries` and evaluates the early-stopping rules on every new value.
///
/// It never writes to the API: it asks the controller to reconcile the job (at once when a rule fires, so the
/// stop is prompt; at most every `statusInterval` otherwise) and the reconciler reads `snapshot(for:)`.
/// The reconciler stays the single writer of the job's status and pods.
public actor MetricsCollector {
    struct Follow {
        var pod: String
        var attempt: Int
        /// Which read of the log this is: a superseded read (cancelled, but still draining) must not write
        /// into its successor's series or mark it complete.
        var id: UUID
        var task: Task<Void, Never>
        var series: MetricSet
        var stop: EarlyStopStatus?
        var lastNotified: Duration
        var dirty: Bool
        var experiment: String?
        var namespace: String
        /// What the set tracks: a changed `earlyStopping` re-reads the log for the new metric.
        var signature: [String]
        /// The log stream ended by itself (the container ended): the series holds the whole run.
        var complete = false
        /// Started on a finished pod: one read of the whole log, no retry (it is readable now or never).
        var finishedPod = false
        /// A reconcile already waited for this follow to complete: never block a second one.
        var waited = false
        /// Streaming (`follow=true`) or polling (past `maxStreams` running jobs).
        var polled = false
        /// A notification is due at the end of the current status interval (lines arrived since the last one).
        var flushScheduled = false
    }

    let client: KubeClient
    let clock: any RuntimeClock
    let notify: @Sendable (ObjectKey) async -> Void
    /// Other trials' histories for the median rule, from the cache (finished jobs keep theirs in status).
    let peersFromCache: @Sendable (_ namespace: String, _ experiment: String) async -> [(key: ObjectKey, peer: EarlyStoppingRules.Peer)]
    let statusInterval: Duration
    let logger = Logger(label: "gantry.metrics")
    private var follows: [ObjectKey: Follow] = [:]
    private var rules: [ObjectKey: EarlyStopping] = [:]
    /// Log streams open at most: one stream per running job does not scale to thousands of jobs (the API server
    /// holds each one open, 100 per HTTP/2 connection). Jobs past the bound are polled every `pollInterval`
    /// with `sinceTime`, so their metrics and early stopping lag by up to that much.
    let maxStreams: Int
    let pollInterval: Duration
    /// All polled jobs share this many log reads per second: one request per job every `pollInterval` grows
    /// with the number of jobs (936 polled jobs made 187 log reads a second, as many requests as a burst's pod
    /// creates), so past `maxPollsPerSecond × pollInterval` polled jobs each one is read less often, in turn.
    private var pollBudget: TokenBucket
    private var openStreams = 0

    public init(client: KubeClient, clock: any RuntimeClock, statusInterval: Duration = .seconds(5),
                maxStreams: Int = 64, pollInterval: Duration = .seconds(5), maxPollsPerSecond: Double = 20,
                peersFromCache: @escaping @Sendable (String, String) async -> [(key: ObjectKey, peer: EarlyStoppingRules.Peer)],
                notify: @escaping @Sendable (ObjectKey) async -> Void) {
        self.client = client
        self.clock = clock
        self.statusInterval = statusInterval
        self.maxStreams = max(1, maxStreams)
        self.pollInterval = pollInterval
        let pollRate = max(0.1, maxPollsPerSecond)
        pollBudget = TokenBucket(qps: pollRate, burst: max(1, Int(pollRate)), now: .now)
        self.peersFromCache = peersFromCache
        self.notify = notify
    }

    public func snapshot(for key: ObjectKey) -> MetricsSnapshot? {
        guard let f = follows[key] else { return nil }
        return MetricsSnapshot(metrics: f.series.status, earlyStop: f.stop, complete: f.complete)
    }

    /// Waits (at most `timeout`) until the followed log has been read to its end. Used before a finished job's
    /// results are written: after a controller restart the follower starts from the log's beginning, and the
    /// record must not be written from a half-read log.
    public func waitUntilComplete(_ key: ObjectKey, timeout: Duration) async -> Bool {
        guard let f = follows[key] else { return false }
        if f.complete || f.waited { return f.complete }
        follows[key]?.waited = true
        let task = f.task
        let clock = self.clock
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await task.value; return true }
            group.addTask { try? await clock.sleep(for: timeout); return false }
            // Awaiting a task's value ignores cancellation: on timeout the follow itself is cancelled, so the
            // group (which waits for every child) can end.
            if await group.next() == false { task.cancel() }
            group.cancelAll()
        }
        return follows[key]?.complete == true
    }

    func markComplete(_ key: ObjectKey, id: UUID) {
        guard follows[key]?.id == id else { return }
        follows[key]?.complete = true
    }

    /// Starts following `pod` for this job's attempt unless already doing so. Idempotent: called by every reconcile.
    /// `podFinished`: the container has ended; a follow begun while it ran and not yet complete is started over
    /// as one read of the whole log, which then ends instead of retrying.
    public func ensureFollowing(_ job: TrainingJob, pod: String, attempt: Int, podFinished: Bool = false) {
        let key = job.key
        let series = MetricSet(job.spec)
        // earlyStopping may change while the job runs: new thresholds apply to the next value at once.
        rules[key] = job.spec.earlyStopping
        // A polled job takes a stream as soon as one is free (its log is read again from the start).
        if let f = follows[key], f.pod == pod, f.attempt == attempt, f.signature == series.signature,
           f.complete || f.finishedPod || !podFinished, !(f.polled && openStreams < maxStreams) { return }
        follows[key]?.task.cancel()
        rules[key] = job.spec.earlyStopping
        let format = job.spec.metrics?.format ?? .keyValue
        let stepKey = job.spec.metrics?.stepKey ?? "step"
        let client = self.client
        let namespace = job.namespace
        let id = UUID()
        // A finished pod's log is one short read; only live follows count against the bound.
        let polled = !podFinished && openStreams >= maxStreams
        let pollInterval = self.pollInterval
        if !podFinished && !polled { openStreams += 1 }
        let task = polled ? Task { [weak self] in
            await Self.poll(client: client, namespace: namespace, pod: pod, every: pollInterval,
                            turn: { [weak self] in await self?.pollTurn() ?? .zero }) { [weak self] line in
                guard let parsed = MetricLine.parse(line, format: format, stepKey: stepKey) else { return }
                await self?.record(parsed, key: key, id: id)
            }
        } : Task { [weak self] in
            // Retried while the pod lives: the log may not exist before the container starts.
            reading: while !Task.isCancelled {
                do {
                    for try await line in client.logs(namespace: namespace, pod: pod, container: TrainingPods.containerName, follow: true) {
                        guard let parsed = MetricLine.parse(line, format: format, stepKey: stepKey) else { continue }
                        await self?.record(parsed, key: key, id: id)
                    }
                    await self?.markComplete(key, id: id)
                    break reading  // the container ended: its log is complete
                } catch let error as APIError where error.isNotFound {
                    break reading
                } catch {
                    if Task.isCancelled || podFinished { break reading }
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
            if !podFinished { await self?.streamClosed() }
        }
        follows[key] = Follow(pod: pod, attempt: attempt, id: id, task: task, series: series, stop: nil, lastNotified: .zero, dirty: false,
                              experiment: job.labels[GantryLabels.experiment], namespace: job.namespace, signature: series.signature,
                              finishedPod: podFinished, polled: polled)
    }

    private func streamClosed() { openStreams = max(0, openStreams - 1) }

    /// How long a polled job waits for its next read under the shared budget.
    private func pollTurn() -> Duration { pollBudget.reserve(now: .now) }

    /// Reads a running container's log every `every` (later when `turn` says the shared budget is spent), from the second of the last line seen (`sinceTime` has
    /// second precision), skipping lines up to that line by their nanosecond timestamps. Ends when cancelled:
    /// the reconciler starts a full read once the pod has finished.
    static func poll(client: KubeClient, namespace: String, pod: String, every: Duration,
                     turn: @Sendable () async -> Duration, _ handle: @Sendable (String) async -> Void) async {
        var last: LogTime?
        while !Task.isCancelled {
            let wait = await turn()
            if wait > .zero { try? await Task.sleep(for: wait) }
            do {
                let since = last.map { Timestamp.format(Date(timeIntervalSince1970: Double($0.seconds))) }
                for try await line in client.logs(namespace: namespace, pod: pod, container: TrainingPods.containerName,
                                                  sinceTime: since, timestamps: true) {
                    guard let space = line.firstIndex(of: " "), let time = LogTime(line[..<space]) else { continue }
                    if let last, time <= last { continue }
                    last = time
                    await handle(String(line[line.index(after: space)...]))
                }
            } catch {
                // Not started yet, or a passing failure: the next poll reads again from the same point.
            }
            try? await Task.sleep(for: every)
        }
    }

    /// Stops following (job finished or deleted); the last snapshot stays readable until `forget`.
    public func stopFollowing(_ key: ObjectKey) {
        follows[key]?.task.cancel()
    }

    public func forget(_ key: ObjectKey) {
        follows[key]?.task.cancel()
        follows[key] = nil
        rules[key] = nil
    }

    func record(_ line: MetricLine, key: ObjectKey, id: UUID) async {
        guard var f = follows[key], f.id == id, f.stop == nil else { return }
        let value = f.series.record(line)
        f.dirty = true
        if let value, let rules = rules[key] {
            var peers: [EarlyStoppingRules.Peer] = []
            if rules.median != nil, let experiment = f.experiment {
                peers = await peerList(namespace: f.namespace, experiment: experiment, excluding: key)
            }
            if let stop = EarlyStoppingRules.evaluate(f.series.rules, lastValue: value, rules: rules, peers: peers) {
                f.stop = stop
                logger.info("early stopping rule fired", metadata: ["job": "\(key)", "rule": "\(stop.rule)", "step": "\(stop.step ?? 0)"])
            }
        }
        // Re-read: peerList suspended, another line may have been recorded meanwhile.
        guard var current = follows[key], current.id == id else { return }
        current.series = f.series
        current.stop = current.stop ?? f.stop
        current.dirty = true
        let now = clock.now
        let urgent = current.stop != nil
        let due = now - current.lastNotified >= statusInterval
        if urgent || due {
            current.lastNotified = now
            current.dirty = false
        }
        // Lines that arrive within the interval must still reach status when the log then goes quiet (a long
        // evaluation, the end of a run): one notification is scheduled for the interval's end.
        let schedule = !(urgent || due) && !current.flushScheduled
        if schedule { current.flushScheduled = true }
        follows[key] = current
        if urgent || due {
            await notify(key)
        } else if schedule {
            let wait = statusInterval - (now - current.lastNotified)
            let clock = self.clock
            Task { [weak self] in
                try? await clock.sleep(for: wait)
                await self?.flush(key, id: id)
            }
        }
    }

    private func flush(_ key: ObjectKey, id: UUID) async {
        guard var f = follows[key], f.id == id else { return }
        f.flushScheduled = false
        let send = f.dirty
        if send {
            f.dirty = false
            f.lastNotified = clock.now
        }
        follows[key] = f
        if send { await notify(key) }
    }

    /// In-memory series of followed jobs are fresher than their status; others come from the cache.
    func peerList(namespace: String, experiment: String, excluding key: ObjectKey) async -> [EarlyStoppingRules.Peer] {
        var peers: [ObjectKey: EarlyStoppingRules.Peer] = [:]
        for (k, p) in await peersFromCache(namespace, experiment) where k != key { peers[k] = p }
        for (k, f) in follows where k != key && f.namespace == namespace && f.experiment == experiment {
            peers[k] = EarlyStoppingRules.Peer(name: k.name, history: f.series.rules.history, lastStep: f.series.rules.step)
        }
        return Array(peers.values)
    }
}
