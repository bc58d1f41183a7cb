import Metrics

/// Publishes snapshots as gauges, and integrates allocated GPUs into GPU-seconds. A label set once published
/// stays at 0 when it empties (a namespace's last job finished: dashboards show 0, not a gap) until `clear()`,
/// which removes every gauge (leadership lost: a standby shows no levels it does not watch, so sums across
/// replicas count the leader once). Owned by one task (PlatformMetrics.run).
struct PlatformGauges {
    let factory: any MetricsFactory
    let transitions: PlatformTransitions
    private var published: [String: Set<[LabelPair]>] = [:]
    private var known: Set<PlatformSnapshot.KindInNamespace> = []
    /// What was allocated since the last snapshot, and when that snapshot was taken.
    private var allocated: [PlatformSnapshot.KindInNamespace: Int] = [:]
    private var since: Duration?

    struct LabelPair: Hashable { var name, value: String }

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.transitions = PlatformTransitions(factory: factory)
    }

    /// Adds the GPU-seconds held since the last snapshot (levels change only at events, and every event brings
    /// a snapshot, so the sum is exact to the refresh delay), then shows `snapshot`.
    mutating func publish(_ snapshot: PlatformSnapshot, at now: Duration) {
        integrate(until: now)
        allocated = snapshot.allocatedGPUs
        for place in Set(snapshot.requestedGPUs.keys).union(snapshot.allocatedGPUs.keys) where !known.contains(place) {
            known.insert(place)
            FloatingPointCounter(label: PlatformMetricNames.gpuSeconds, dimensions: Self.dimensions(place), factory: factory).increment(by: 0.0)
            transitions.initialize(kind: place.kind, namespace: place.namespace)
        }
        var levels: [String: [[LabelPair]: Double]] = [:]
        for (key, count) in snapshot.workloads {
            levels[PlatformMetricNames.workloads, default: [:]][Self.labels(key.place) + [LabelPair(name: "phase", value: key.phase)]] = Double(count)
        }
        for (place, count) in snapshot.requestedGPUs { levels[PlatformMetricNames.gpusRequested, default: [:]][Self.labels(place)] = Double(count) }
        for (place, count) in snapshot.allocatedGPUs { levels[PlatformMetricNames.gpusAllocated, default: [:]][Self.labels(place)] = Double(count) }
        for (namespace, count) in snapshot.queuedTrainingJobs {
            levels[PlatformMetricNames.queueLength, default: [:]][[LabelPair(name: "namespace", value: namespace)]] = Double(count)
        }
        for name in Set(levels.keys).union(published.keys) {
            let current = levels[name] ?? [:]
            for labels in published[name, default: []] where current[labels] == nil { gauge(name, labels).record(0) }
            for (labels, value) in current { gauge(name, labels).record(value) }
            published[name, default: []].formUnion(current.keys)
        }
    }

    /// Counts the GPU-seconds up to `now` at the levels last published (nothing changed since).
    mutating func advance(to now: Duration) { integrate(until: now) }

    /// Counts the GPU-seconds up to `now`, then removes every gauge published.
    mutating func clear(at now: Duration) {
        integrate(until: now)
        for (name, sets) in published { for labels in sets { gauge(name, labels).destroy() } }
        published = [:]
        allocated = [:]
        since = nil
    }

    private mutating func integrate(until now: Duration) {
        defer { since = now }
        guard let since, now > since else { return }
        let seconds = Double((now - since).components.seconds) + Double((now - since).components.attoseconds) / 1e18
        for (place, gpus) in allocated where gpus > 0 {
            FloatingPointCounter(label: PlatformMetricNames.gpuSeconds, dimensions: Self.dimensions(place), factory: factory)
                .increment(by: Double(gpus) * seconds)
        }
    }

    private func gauge(_ name: String, _ labels: [LabelPair]) -> Gauge {
        Gauge(label: name, dimensions: labels.map { ($0.name, $0.value) }, factory: factory)
    }

    static func labels(_ place: PlatformSnapshot.KindInNamespace) -> [LabelPair] {
        [LabelPair(name: "namespace", value: place.namespace), LabelPair(name: "kind", value: place.kind)]
    }

    static func dimensions(_ place: PlatformSnapshot.KindInNamespace) -> [(String, String)] {
        labels(place).map { ($0.name, $0.value) }
    }
}
