import KubeCore
import Logging
import Metrics

/// What a reflector tells its controller after updating the store.
public enum ReflectorEvent: Sendable {
    case upserted(JSONValue, old: JSONValue?)
    case deleted(JSONValue)
}

/// Keeps a `Store` equal to the server's state of one resource: list, then watch from the list's
/// resourceVersion, resume after a dropped stream from the last version seen, re-list on 410 Gone
/// (API-SEMANTICS rules 1-6). Its loop is an explicit state machine so each transition is testable.
public struct Reflector: Sendable {
    public enum State: Sendable, Equatable {
        /// Needs a complete list (start, or after 410).
        case listing
        /// Streaming from this resource version.
        case watching(resourceVersion: String)
        /// Waiting before retrying after an error; `relist` tells what comes after.
        case backingOff(attempt: Int, relist: Bool, resumeFrom: String?)
    }

    public struct Options: Sendable {
        /// The server ends each watch after this many seconds (jittered per watch; must stay below 295).
        public var watchTimeoutRange: ClosedRange<Int> = 240...290
        /// A stream silent for its timeout plus this margin is dead (a half-open connection).
        public var silenceMargin: Duration = .seconds(30)
        public var initialBackoff: Duration = .milliseconds(800)
        public var maxBackoff: Duration = .seconds(30)
        /// A watch that stayed healthy this long resets the backoff.
        public var healthyResetAfter: Duration = .seconds(120)
        /// Within a streak of failures, one warning per this interval (the others at debug level), so an
        /// outage is visible at the default level without flooding the log.
        public var failureLogInterval: Duration = .seconds(60)
        public init() {}
    }

    let source: any ListerWatcher
    let store: Store
    let options: Options
    let clock: any RuntimeClock
    let logger: Logger
    let onEvent: @Sendable (ReflectorEvent) async -> Void
    let streak: FailureStreak

    public init(source: any ListerWatcher, store: Store, options: Options = .init(), clock: any RuntimeClock = SystemClock(),
                logger: Logger = Logger(label: "gantry.reflector"), onEvent: @escaping @Sendable (ReflectorEvent) async -> Void) {
        self.source = source
        self.store = store
        self.options = options
        self.clock = clock
        self.logger = logger
        self.onEvent = onEvent
        self.streak = FailureStreak(resetAfter: options.healthyResetAfter, logInterval: options.failureLogInterval)
    }

    /// Runs until the task is cancelled.
    public func run() async {
        for reason in Self.restartReasons {
            Counter(label: "gantry_watch_restarts_total", dimensions: [("resource", source.description), ("reason", reason)]).increment(by: 0)
        }
        var state = State.listing
        while !Task.isCancelled {
            state = await step(state)
        }
    }

    /// One transition of the state machine.
    public func step(_ state: State) async -> State {
        switch state {
        case .listing:
            do {
                // Each page is projected (and settled objects packed) as it arrives: the list's peak is one page
                // of full objects, not all of them.
                let store = self.store
                let (items, rv) = try await source.listAll(projecting: store.fieldMask) { store.prepare($0, projected: store.fieldMask != nil) }
                let vanished = await store.replace(prepared: items)
                for object in vanished { await onEvent(.deleted(object)) }
                // A re-list may have missed updates: hand every object to the controller (level-triggered), as
                // the store keeps it (projected: handlers read only what their informer's readers declared).
                for item in items { await onEvent(.upserted(item.object, old: nil)) }
                return .watching(resourceVersion: rv)
            } catch {
                if Task.isCancelled { return .listing }  // shutting down: not a failure to report
                let failure = streak.failed(at: clock.now)
                reportListFailure(error, failure)
                return .backingOff(attempt: failure.attempt, relist: true, resumeFrom: nil)
            }

        case .watching(let rv):
            return await watch(from: rv)

        case .backingOff(let attempt, let relist, let resumeFrom):
            let delay = backoff(attempt: attempt)
            do { try await clock.sleep(for: delay) } catch { return state }
            if relist { return .listing }
            return resumeFrom.map { .watching(resourceVersion: $0) } ?? .listing
        }
    }

    func backoff(attempt: Int) -> Duration {
        let base = options.initialBackoff * Double(1 << UInt64(min(attempt, 10)))
        let capped = min(base, options.maxBackoff)
        // Jitter of up to +/-20% spreads reconnects of many replicas after a server restart.
        return capped * Double.random(in: 0.8...1.2)
    }

    /// Streams one watch; returns the next state.
    func watch(from resourceVersion: String) async -> State {
        let timeout = Int.random(in: options.watchTimeoutRange)
        let progress = WatchProgress(clock: clock, resourceVersion: resourceVersion)
        let started = clock.now
        let store = self.store
        let onEvent = self.onEvent
        Counter(label: "gantry_watch_starts_total", dimensions: [("resource", source.description)]).increment()
        do {
            // Objects projected while parsed, as the list's items were: the handlers see what the store keeps.
            let mask = Self.watchMask(store.fieldMask)
            let stream = mask.map { source.watch(resourceVersion: resourceVersion, timeoutSeconds: timeout, projecting: $0) }
                ?? source.watch(resourceVersion: resourceVersion, timeoutSeconds: timeout)
            let outcome = try await consume(stream: stream, timeout: timeout, progress: progress) { event in
                switch event {
                case .added(let object), .modified(let object):
                    let old = await store.upsert(object, projected: mask != nil)
                    await onEvent(.upserted(object, old: old))
                    return object.resourceVersion
                case .deleted(let object):
                    let removed = await store.remove(object.objectKey)
                    await onEvent(.deleted(removed ?? object))
                    return object.resourceVersion
                case .bookmark(let rv):
                    return rv
                case .error(let error):
                    throw error
                }
            }
            let lastRV = await progress.resourceVersion
            switch outcome {
            case .ended:
                return .watching(resourceVersion: lastRV)  // normal server timeout: resume, no re-list (rule 5)
            case .silent:
                let failure = streak.failed(at: clock.now)
                log(failure, "watch stream silent past its timeout; reconnecting", ["resource": "\(source.description)"])
                restarted("silent")
                return .backingOff(attempt: failure.attempt, relist: false, resumeFrom: lastRV)
            }
        } catch let error as APIError where error.isGone {
            logger.info("resource version too old; re-listing", metadata: ["resource": "\(source.description)"])
            restarted("gone")
            return .listing
        } catch {
            let lastRV = await progress.resourceVersion
            if Task.isCancelled { return .watching(resourceVersion: lastRV) }
            restarted("error")
            // A watch that failed soon after it opened starts its streak one step up.
            let healthy = clock.now - started >= options.healthyResetAfter
            let failure = streak.failed(at: clock.now, minimum: healthy ? 0 : 1)
            log(failure, "watch failed", ["resource": "\(source.description)", "error": "\(error)"])
            return .backingOff(attempt: failure.attempt, relist: false, resumeFrom: lastRV)
        }
    }

    /// The store's mask, when it keeps what the watch itself reads of an event's object (its name and resource
    /// version); nil otherwise: the events are then parsed whole and the store projects them. The namespace is
    /// not probed: a cluster-scoped kind has none, and a namespaced kind's mask keeps it already (the store keys
    /// its listed items, masked while parsed, by it).
    static func watchMask(_ mask: FieldMask?) -> FieldMask? {
        guard let mask else { return nil }
        let probe: JSONValue = ["metadata": ["name": "n", "resourceVersion": "1"]]
        return mask.project(probe) == probe ? mask : nil
    }

    /// A failed LIST: a 404 means the server does not serve the resource at all (a CRD not installed), which
    /// no retry fixes until someone acts, so it says what to do.
    func reportListFailure(_ error: any Error, _ failure: FailureStreak.Failure) {
        if let api = error as? APIError, api.isNotFound {
            let hint = source.notServedHint ?? "is its CustomResourceDefinition installed?"
            log(failure, "the API server does not serve \(source.description) (404 on list): \(hint)",
                ["resource": "\(source.description)"])
        } else {
            log(failure, "list failed", ["resource": "\(source.description)", "error": "\(error)"])
        }
    }

    /// A warning for the first failure of a streak and then one per `failureLogInterval`, debug otherwise.
    func log(_ failure: FailureStreak.Failure, _ message: String, _ metadata: Logger.Metadata) {
        var metadata = metadata
        metadata["retryAttempt"] = "\(failure.attempt)"
        if failure.log {
            if failure.suppressed > 0 { metadata["failuresSinceLastWarning"] = "\(failure.suppressed)" }
            logger.warning("\(message)", metadata: metadata)
        } else {
            logger.debug("\(message)", metadata: metadata)
        }
    }

    /// The reasons `restarted` counts, each series created at 0 when the reflector starts.
    static let restartReasons = ["silent", "gone", "error"]

    func restarted(_ reason: String) {
        Counter(label: "gantry_watch_restarts_total", dimensions: [("resource", source.description), ("reason", reason)]).increment()
    }

    enum StreamOutcome { case ended, silent }

    /// Consumes `stream`, calling `handle` per event (which returns the event's resource version); gives up
    /// when no event arrived for the watch timeout plus a margin (a dead, half-open connection).
    func consume(
        stream: WatchEvents, timeout: Int, progress: WatchProgress,
        handle: @escaping @Sendable (WatchEvent) async throws -> String?
    ) async throws -> StreamOutcome {
        let limit = Duration.seconds(timeout) + options.silenceMargin
        let clock = self.clock
        return try await withThrowingTaskGroup(of: StreamOutcome.self) { group in
            group.addTask {
                for try await event in stream {
                    let rv = try await handle(event)
                    await progress.record(rv)
                }
                return .ended
            }
            group.addTask {
                while true {
                    try Task.checkCancellation()
                    let idle = await progress.idle()
                    if idle >= limit { return .silent }
                    try await clock.sleep(for: limit - idle)
                }
            }
            guard let first = try await group.next() else { return .ended }
            group.cancelAll()
            return first
        }
    }
}

/// The last resource version seen and when, shared by a watch's consumer and its silence watchdog.
actor WatchProgress {
    private let clock: any RuntimeClock
    private var last: Duration
    private(set) var resourceVersion: String

    init(clock: any RuntimeClock, resourceVersion: String) {
        self.clock = clock
        self.resourceVersion = resourceVersion
        last = clock.now
    }

    func record(_ rv: String?) {
        last = clock.now
        if let rv { resourceVersion = rv }
    }

    func idle() -> Duration { clock.now - last }
}
