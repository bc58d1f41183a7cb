import DequeModule
import KubeCore

/// A rate-limited work queue of object keys, with controller-runtime's contract:
/// - a key is queued at most once however many events arrive (deduplication);
/// - a key being processed is never handed to a second worker; if it changes meanwhile it is queued again
///   when the first worker calls `done`;
/// - failures back off per key exponentially (5 ms doubling, capped at 1000 s, like client-go's
///   `DefaultTypedItemBasedRateLimiter`), and `forget` resets the count after a success.
public actor WorkQueue<Key: Hashable & Sendable> {
    private var queue: Deque<Key> = []
    private var dirty: Set<Key> = []
    private var processing: Set<Key> = []
    private var failures: [Key: Int] = [:]
    /// Earliest pending delayed add per key: later requests for the same key are folded into it.
    private var delayed: [Key: Duration] = [:]
    private var waiters: Deque<CheckedContinuation<Key?, Never>> = []
    private var shuttingDown = false
    private let clock: any RuntimeClock
    public let baseDelay: Duration
    public let maxDelay: Duration

    public init(clock: any RuntimeClock = SystemClock(), baseDelay: Duration = .milliseconds(5), maxDelay: Duration = .seconds(1000)) {
        self.clock = clock
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public var depth: Int { queue.count }
    public var isShuttingDown: Bool { shuttingDown }

    public func add(_ key: Key) {
        guard !shuttingDown, !dirty.contains(key) else { return }
        dirty.insert(key)
        if processing.contains(key) { return }
        if let waiter = waiters.popFirst() {
            dirty.remove(key)
            processing.insert(key)
            waiter.resume(returning: key)
        } else {
            queue.append(key)
        }
    }

    /// Waits for the next key; nil once the queue is shut down.
    public func next() async -> Key? {
        if let key = queue.popFirst() {
            dirty.remove(key)
            processing.insert(key)
            if queue.isEmpty { releaseCapacity() }
            return key
        }
        if shuttingDown { return nil }
        return await withCheckedContinuation { waiters.append($0) }
    }

    /// A drained queue gives back the room its last burst grew it to (a Set and a Deque keep their capacity
    /// when emptied: after the first reconcile of 10,000 cached objects, about a megabyte each).
    private func releaseCapacity() {
        guard dirty.isEmpty, dirty.capacity > 1024 else { return }
        queue = []
        dirty = []
    }

    /// The worker finished `key` (successfully or not); a change seen meanwhile queues it again.
    public func done(_ key: Key) {
        processing.remove(key)
        if dirty.contains(key) {
            if let waiter = waiters.popFirst() {
                dirty.remove(key)
                processing.insert(key)
                waiter.resume(returning: key)
            } else {
                queue.append(key)
            }
        }
    }

    public func addAfter(_ key: Key, _ delay: Duration) {
        guard !shuttingDown else { return }
        if delay <= .zero { add(key); return }
        let due = clock.now + delay
        if let existing = delayed[key], existing <= due { return }
        delayed[key] = due
        let clock = self.clock
        Task { [weak self] in
            try? await clock.sleep(for: delay)
            await self?.fireDelayed(key, due: due)
        }
    }

    private func fireDelayed(_ key: Key, due: Duration) {
        guard delayed[key] == due else { return }  // superseded by an earlier request, which fired already
        delayed[key] = nil
        add(key)
    }

    /// Queues `key` after its per-key backoff and counts the failure.
    public func addRateLimited(_ key: Key) {
        let n = failures[key, default: 0]
        failures[key] = n + 1
        addAfter(key, backoff(failures: n))
    }

    public func backoff(failures n: Int) -> Duration {
        let exp = min(n, 40)
        let delay = baseDelay * Double(1 << UInt64(min(exp, 62)))
        return min(delay, maxDelay)
    }

    public func failureCount(_ key: Key) -> Int { failures[key, default: 0] }

    public func forget(_ key: Key) { failures[key] = nil }

    /// Stops handing out work: waiting workers get nil; keys being processed may still call `done`.
    public func shutDown() {
        shuttingDown = true
        queue.removeAll()
        dirty.removeAll()
        for waiter in waiters { waiter.resume(returning: nil) }
        waiters.removeAll()
    }
}
