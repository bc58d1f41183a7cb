import Foundation
import KubeClient
import KubeCore
import Logging
import Synchronization

/// Leader election through a `coordination.k8s.io/v1` Lease, with client-go's timing contract: a lease lasts
/// `leaseDuration` (15 s); the leader renews every `retryPeriod` (2 s) and gives up leading if it could not
/// renew for `renewDeadline` (10 s); others try to take the lease every `retryPeriod` once it has not been
/// renewed for `leaseDuration` *as measured by their own clock* (no trust in other machines' clocks).
///
/// Fencing: a leader may be paused (SIGSTOP, a VM freeze, a long GC-like stall) past its lease while another
/// replica takes over; when it wakes its reconciles would go on writing until its renew loop notices. client-go
/// bounds this by cancelling the leading context `renewDeadline` after the last renew; here `holdsLease` turns
/// false at that same instant, counted from when the last successful renew was *sent*, whatever the loops are
/// doing, and the controller's client refuses every write while it is false (`ClientOptions.writeFence`). Since
/// `renewDeadline < leaseDuration`, a write is never sent once another replica may deem the lease expired.
public struct LeaderElector: Sendable {
    public struct Options: Sendable {
        public var namespace: String
        public var name: String
        public var identity: String
        public var leaseDuration: Duration = .seconds(15)
        public var renewDeadline: Duration = .seconds(10)
        public var retryPeriod: Duration = .seconds(2)
        public init(namespace: String, name: String, identity: String) {
            self.namespace = namespace
            self.name = name
            self.identity = identity
        }
    }

    let client: KubeClient
    let options: Options
    let clock: any RuntimeClock
    let logger = Logger(label: "gantry.leader")
    private let leading = LeaseHold()

    /// Whether this replica holds the lease and runs `lead` now. Readiness reads it: a standby replica is
    /// ready (waiting is its job), as controller-runtime's; only the leader waits for its caches.
    public var isLeading: Bool { leading.isLeading }

    /// Whether this replica may write now: it leads and sent its last successful renew less than
    /// `renewDeadline` ago (by its own monotonic clock). The write fence of the controller's client.
    public var holdsLease: Bool { leading.holds(now: clock.now, renewDeadline: options.renewDeadline) }

    public init(client: KubeClient, options: Options, clock: any RuntimeClock = SystemClock()) {
        self.client = client
        self.options = options
        self.clock = clock
    }

    /// Contends for the lease; while leading, runs `lead` (cancelled at once when leadership is lost).
    /// Returns true when the task is cancelled or `lead` ends (after releasing the lease if held), false when
    /// leadership was lost: `lead` is not run a second time, because the caches and queues it built belong to a
    /// term that is over. The caller exits so the replica starts afresh as a standby, as controller-runtime's
    /// manager does ("leader election lost").
    @discardableResult
    public func run(lead: @escaping @Sendable () async -> Void) async -> Bool {
        let observer = LeaseObserver()
        guard await acquire(observer) else { return true }
        logger.info("became leader", metadata: ["lease": "\(options.namespace)/\(options.name)", "identity": "\(options.identity)"])
        leading.setLeading(true)
        defer { leading.setLeading(false) }
        let stillLeading = await withTaskGroup(of: Bool.self) { group -> Bool in
            group.addTask { await lead(); return true }
            group.addTask { await renewLoop(observer) }
            // Whichever ends first decides: leading work finished/cancelled, or renewal failed.
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if Task.isCancelled || stillLeading {
            // Our task is cancelled, and cancellation aborts requests: release from a task that is not.
            let elector = self
            await Task { await elector.release(observer) }.value
            return true
        }
        logger.error("lost leadership; stopped reconciling", metadata: ["lease": "\(options.namespace)/\(options.name)"])
        return false
    }

    /// Tries every retryPeriod until the lease is ours; false if cancelled first.
    func acquire(_ observer: LeaseObserver) async -> Bool {
        while !Task.isCancelled {
            if await tryAcquireOrRenew(observer) { return true }
            do { try await clock.sleep(for: options.retryPeriod) } catch { return false }
        }
        return false
    }

    /// Renews every retryPeriod; returns false once renewals have failed for renewDeadline.
    func renewLoop(_ observer: LeaseObserver) async -> Bool {
        while !Task.isCancelled {
            do { try await clock.sleep(for: options.retryPeriod) } catch { return true }
            if await tryAcquireOrRenew(observer) { continue }
            if !holdsLease { return false }
        }
        return true
    }

    /// One attempt: create the lease, renew ours, or take an expired one. Conflicts mean someone else won.
    public func tryAcquireOrRenew(_ observer: LeaseObserver) async -> Bool {
        let sent = clock.now  // the lease counts from before the request: a slow answer shortens it, never extends it
        let now = clock.wallNow
        let micro = Timestamp.formatMicro(now)
        let seconds = Int64(options.leaseDuration.components.seconds)
        do {
            let lease: Lease
            do {
                lease = try await client.get(Lease.self, namespace: options.namespace, name: options.name)
            } catch let error as APIError where error.isNotFound {
                var fresh = Lease(name: options.name, namespace: options.namespace)
                fresh.spec.holderIdentity = options.identity
                fresh.spec.leaseDurationSeconds = seconds
                fresh.spec.acquireTime = micro
                fresh.spec.renewTime = micro
                fresh.spec.leaseTransitions = 0
                let created = try await client.create(fresh)
                await observer.observed(created, at: clock.now)
                leading.renewed(at: sent)
                return true
            }
            let holder = lease.spec.holderIdentity ?? ""
            let observedAt = await observer.observed(lease, at: clock.now)
            let duration = Duration.seconds(lease.spec.leaseDurationSeconds ?? seconds)
            let ours = holder == options.identity
            if !ours, !holder.isEmpty, clock.now - observedAt < duration { return false }  // held and fresh

            var updated = lease
            updated.spec.holderIdentity = options.identity
            updated.spec.leaseDurationSeconds = seconds
            updated.spec.renewTime = micro
            if !ours {
                updated.spec.acquireTime = micro
                updated.spec.leaseTransitions = (lease.spec.leaseTransitions ?? 0) + 1
            }
            let written = try await client.update(updated)  // carries resourceVersion: a race answers 409
            await observer.observed(written, at: clock.now)
            leading.renewed(at: sent)
            return true
        } catch {
            logger.debug("lease attempt failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives the lease up on clean shutdown so a successor takes over at once instead of after leaseDuration.
    func release(_ observer: LeaseObserver) async {
        do {
            var lease = try await client.get(Lease.self, namespace: options.namespace, name: options.name)
            guard lease.spec.holderIdentity == options.identity else { return }
            lease.spec.holderIdentity = ""
            lease.spec.leaseDurationSeconds = 1
            lease.spec.renewTime = Timestamp.formatMicro(clock.wallNow)
            _ = try await client.update(lease)
            logger.info("released leadership", metadata: ["lease": "\(options.namespace)/\(options.name)"])
        } catch {
            logger.warning("could not release the lease", metadata: ["error": "\(error)"])
        }
    }
}

/// When this replica last saw the lease record change, by its own clock.
public actor LeaseObserver {
    private var record: Lease.Spec?
    private var observedAt: Duration = .zero

    public init() {}

    @discardableResult
    func observed(_ lease: Lease, at now: Duration) -> Duration {
        let spec = lease.spec
        if spec != record {
            record = spec
            observedAt = now
        }
        return observedAt
    }
}

/// Whether `run` leads and when the lease was last renewed; read by the readiness probe and the write fence
/// from any thread.
final class LeaseHold: Sendable {
    private let state = Mutex((leading: false, renewedAt: Duration?.none))
    var isLeading: Bool { state.withLock { $0.leading } }
    func setLeading(_ value: Bool) { state.withLock { $0.leading = value } }
    func renewed(at time: Duration) { state.withLock { $0.renewedAt = max($0.renewedAt ?? time, time) } }

    func holds(now: Duration, renewDeadline: Duration) -> Bool {
        state.withLock { s in
            guard s.leading, let renewedAt = s.renewedAt else { return false }
            return now - renewedAt < renewDeadline
        }
    }
}
