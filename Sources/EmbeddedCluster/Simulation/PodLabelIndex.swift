import KubeCore

/// The pods of one simulation pass, indexed by namespace and label pair, so that a Service's backends are found
/// from its selector's rarest pair instead of a scan of every pod. The Endpoints and EndpointSlice passes ran that
/// scan once per Service every pass: with one headless Service per training job it made the embedded cluster's
/// CPU per pod grow with the number of jobs (docs/benchmarks.md, burst).
struct PodLabelIndex {
    private struct Pair: Hashable {
        var namespace: String
        var key: String
        var value: String
    }

    private let pods: [JSONValue]
    /// Each pod's labels, read once (`JSONValue.labels` builds a dictionary per call).
    private let labels: [[String: String]]
    /// Positions in `pods`, ascending, of the pods carrying each pair.
    private let positions: [Pair: [Int]]

    init(_ pods: [JSONValue]) {
        self.pods = pods
        var labels: [[String: String]] = []
        labels.reserveCapacity(pods.count)
        var positions: [Pair: [Int]] = [:]
        for (i, pod) in pods.enumerated() {
            let podLabels = pod.labels
            labels.append(podLabels)
            let namespace = pod.namespace ?? ""
            for (key, value) in podLabels {
                positions[Pair(namespace: namespace, key: key, value: value), default: []].append(i)
            }
        }
        self.labels = labels
        self.positions = positions
    }

    /// The pods of `namespace` whose labels include every pair of `selector` (a non-empty `matchLabels`), in
    /// the order they were given.
    func selecting(namespace: String, _ selector: [String: String]) -> [JSONValue] {
        let lists = selector.map { positions[Pair(namespace: namespace, key: $0.key, value: $0.value)] ?? [] }
        guard let rarest = lists.min(by: { $0.count < $1.count }), !rarest.isEmpty else { return [] }
        return rarest.filter { i in selector.allSatisfy { labels[i][$0.key] == $0.value } }.map { pods[$0] }
    }
}
