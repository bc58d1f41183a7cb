@testable import GantryAPI
@testable import GantryControllers

extension FuzzEntry {
    /// A training log read for metrics, line by line, as the metrics collector does: the first byte picks the
    /// format (key=value or JSON) and whether lines carry the `timestamps=true` prefix; lines without metrics are skipped (the outcome is an error when none had any); each metric line is folded
    /// into the job's series and the early-stopping rules are evaluated on it (their messages format the values).
    public static let metricLines = FuzzEntry(name: "MetricLines") { bytes in
        guard let first = bytes.first else { return .value }
        let format: MetricsSource.Format = first & 1 == 0 ? .keyValue : .json
        let timestamps = first & 2 != 0
        var series = MetricSeries(metric: "loss", goal: first & 4 == 0 ? .minimize : .maximize, minDelta: 0.001)
        let rules = EarlyStopping(metric: "loss", goal: series.goal, patience: .init(evaluations: 3, minDelta: 0.001),
                                  threshold: .init(bound: 1, startStep: 2), median: .init(minTrials: 1, startStep: 0),
                                  stopOnDivergence: first & 8 != 0)
        var peer = MetricSeries(metric: "loss", goal: series.goal)
        var last: LogTime?
        var metricLines = 0
        for raw in UnsafeRawBufferPointer(rebasing: bytes.dropFirst()).text.split(separator: "\n") {
            var line = raw
            if timestamps {
                guard let space = line.firstIndex(of: " "), let time = LogTime(line[..<space]) else { continue }
                if let last, time <= last { continue }
                last = time
                line = line[line.index(after: space)...]
            }
            guard let parsed = MetricLine.parse(String(line), format: format, stepKey: "step") else { continue }
            metricLines += 1
            peer.record(parsed)
            guard let value = series.record(parsed) else { continue }
            let peers = [EarlyStoppingRules.Peer(name: "peer", history: peer.history, lastStep: peer.step)]
            _ = EarlyStoppingRules.evaluate(series, lastValue: value, rules: rules, peers: peers)
        }
        _ = series.status  // what the status write would carry
        return metricLines > 0 ? .value : .error("no metric line")
    }
}
