import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// One reading of the autoscaler's metric (spec.autoscaling), ready for HPA's arithmetic (Autoscaler).
public enum AutoscalingReading: Sendable, Hashable {
    /// The serving pods' values (counters already turned into per-second rates), and how many pods gave none
    /// (not running yet, not answering, no sample, a counter seen for the first time).
    case pods([Double], missing: Int)
    /// The value read from `metricsFrom` (the series' samples summed; queueAge and Value: the highest).
    case service(Double)
    /// A counter read for the first time: its rate needs a second reading (no decision, nothing wrong).
    case warmingUp(String)
}

/// The last value of each counter the autoscaler reads, to turn counters into per-second rates. Kept in memory (a
/// restarted operator needs two readings for a rate again, as an HPA's metrics pipeline does); a counter that went
/// down (its pod restarted) gives no rate until its next reading.
public actor CounterRates {
    private var last: [String: (value: Double, at: Date)] = [:]
    public init() {}

    /// The per-second rate since the previous value of `key`, or nil on its first sighting or after a reset.
    public func rate(_ key: String, value: Double, at now: Date) -> Double? {
        let previous = last[key]
        last[key] = (value, now)
        if last.count > 10_000 { last = last.filter { now.timeIntervalSince($0.value.at) < 600 } }
        guard let previous, value >= previous.value else { return nil }
        let elapsed = now.timeIntervalSince(previous.at)
        guard elapsed > 0.05 else { return nil }
        return (value - previous.value) / elapsed
    }
}

/// Reads spec.autoscaling's metric: from the serving colour's pods through the pod proxy (as the analysis does,
/// ServingMetrics), from `metricsFrom` through the service proxy, or from the platform's Prometheus (`query`).
public enum AutoscalingMetrics {
    public static func read(_ service: InferenceService, _ revision: InferenceServiceStatus.Revision?, replicas: Int,
                            rates: CounterRates, client: KubeClient, prometheus: PrometheusMetrics, platform: PlatformConfigSpec,
                            now: Date = Date()) async -> Result<AutoscalingReading, MetricsReadFailure> {
        guard let autoscaling = service.spec.autoscaling else { return .failure(MetricsReadFailure(message: "no spec.autoscaling")) }
        if let query = autoscaling.query {
            return await prometheus.autoscalingValue(autoscaling, query: query, service, revision, platform: platform)
        }
        let name = autoscaling.effectiveMetricName
        guard let selector = PrometheusSelector(name) else {
            return .failure(MetricsReadFailure(message: "spec.autoscaling.metricName \(name) is not a metric selector"))
        }
        let highest = autoscaling.effectiveTargetType == .value
        if let source = autoscaling.metricsFrom {
            let text: String
            switch await ServingMetrics.scrape(.services, namespace: service.namespace, name: source.service, port: source.port,
                                               path: source.effectivePath, client: client) {
            case .failure(let failure): return .failure(failure)
            case .success(let body): text = body
            }
            let samples = PrometheusText.values(selector, in: text)
            guard !samples.isEmpty else {
                return .failure(MetricsReadFailure(message: "Service \(source.service) \(source.effectivePath) has no \(name) sample"))
            }
            let value = highest ? (samples.max() ?? 0) : samples.reduce(0, +)
            guard autoscaling.readsRate else { return .success(.service(value)) }
            guard let rate = await rates.rate("\(service.namespace)/service/\(source.service)/\(name)", value: value, at: now) else {
                return .success(.warmingUp("\(name) read once from Service \(source.service); its rate needs a second reading"))
            }
            return .success(.service(rate))
        }
        guard let revision, replicas > 0 else { return .success(.pods([], missing: 0)) }
        let cpuRequest = autoscaling.metric == .cpu ? service.spec.resources?.cpu.flatMap(cores) : nil
        if autoscaling.metric == .cpu && cpuRequest == nil {
            return .failure(MetricsReadFailure(message: "metric cpu needs spec.resources.cpu (the target is a percentage of it)"))
        }
        let scraped = await ServingMetrics.scrapePods(service, revision, replicas: replicas, port: autoscaling.port ?? service.spec.effectivePort,
                                                      path: autoscaling.effectivePath, client: client)
        var values: [Double] = []
        var missing = 0
        var firstSightings = 0
        var failures: [String] = []
        for (pod, result) in scraped {
            guard case .success(let text) = result else {
                if case .failure(let failure) = result { failures.append(failure.message) }
                missing += 1
                continue
            }
            let samples = PrometheusText.values(selector, in: text)
            guard !samples.isEmpty else {
                failures.append("pod \(pod) has no \(name) sample")
                missing += 1
                continue
            }
            var value = highest ? (samples.max() ?? 0) : samples.reduce(0, +)
            if autoscaling.readsRate {
                guard let rate = await rates.rate("\(service.namespace)/pod/\(pod)/\(name)", value: value, at: now) else {
                    firstSightings += 1
                    missing += 1
                    continue
                }
                value = rate
            }
            if let cpuRequest { value = value / cpuRequest * 100 }
            values.append(value)
        }
        if values.isEmpty {
            if firstSightings > 0 && failures.isEmpty { return .success(.warmingUp("\(name) read once from the serving pods; its rate needs a second reading")) }
            return .failure(MetricsReadFailure(message: failures.first ?? "no serving pod gave \(name)"))
        }
        return .success(.pods(values, missing: missing))
    }

    /// A CPU quantity in cores: `2`, `0.5`, `500m`.
    public static func cores(_ quantity: String) -> Double? {
        if quantity.hasSuffix("m") { return Double(quantity.dropLast()).map { $0 / 1000 } }
        return Double(quantity)
    }
}
