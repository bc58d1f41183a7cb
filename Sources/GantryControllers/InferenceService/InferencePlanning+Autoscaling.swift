import Foundation
import GantryAPI
import KubeCore
import KubeRuntime

/// spec.autoscaling: the serving size follows a metric (Autoscaler's HPA arithmetic on AutoscalingMetrics'
/// readings). The size decided lives in `status.autoscaling.desiredReplicas` (spec is never written), and every
/// live revision has that many replicas, so a candidate starts at the serving colour's current size.
extension InferencePlanning {
    /// The serving size: spec.replicas, or the autoscaler's last decision kept within the spec's bounds (at first,
    /// the size served before autoscaling was turned on, or minReplicas).
    static func servingReplicas(_ service: InferenceService) -> Int {
        guard let autoscaling = service.spec.autoscaling else { return service.spec.effectiveReplicas }
        let decided = service.status.autoscaling?.desiredReplicas ?? service.status.replicas ?? autoscaling.effectiveMinReplicas
        return bounded(decided, autoscaling)
    }

    static func bounded(_ replicas: Int, _ autoscaling: Autoscaling) -> Int {
        min(max(replicas, autoscaling.effectiveMinReplicas), max(autoscaling.maxReplicas, autoscaling.effectiveMinReplicas))
    }

    /// Whether the metric is due for a reading (every intervalSeconds).
    static func autoscalingDue(_ service: InferenceService, now: Date) -> Bool {
        guard let autoscaling = service.spec.autoscaling else { return false }
        guard let last = service.status.autoscaling?.lastCheck.flatMap(Timestamp.parse) else { return true }
        return now.timeIntervalSince(last) >= Double(autoscaling.effectiveIntervalSeconds) - 0.05
    }

    static func metricDescription(_ autoscaling: Autoscaling) -> String {
        if let query = autoscaling.query { return "\(autoscaling.metric.rawValue) (Prometheus: \(query))" }
        let source = autoscaling.metricsFrom.map { " from Service \($0.service)" } ?? ""
        return "\(autoscaling.metric.rawValue) (\(autoscaling.effectiveMetricName)\(autoscaling.readsRate ? " rate" : "")\(source))"
    }

    /// Decides the serving size from this reconcile's reading (if any): HPA's recommendation, stabilized by the
    /// windows, bounded by min and max. Each change of the size is an Event and `status.autoscaling.lastScale`.
    mutating func autoscale() {
        guard let autoscaling = service.spec.autoscaling else {
            status.autoscaling = nil
            return
        }
        let current = replicas
        let before = service.status.autoscaling
        var record = before ?? AutoscalingStatus(metric: Self.metricDescription(autoscaling), target: autoscaling.target,
                                                 desiredReplicas: current, reason: "WithinTolerance", message: "no reading yet")
        record.metric = Self.metricDescription(autoscaling)
        record.target = autoscaling.target
        let interval = Double(autoscaling.effectiveIntervalSeconds)
        defer {
            let next = (record.lastCheck.flatMap(Timestamp.parse).map { $0.addingTimeInterval(interval).timeIntervalSince(now) } ?? interval)
            let wait = max(0.2, next + 0.05)
            plan.requeueAfter = min(plan.requeueAfter ?? .seconds(wait), .seconds(wait))
        }
        // The bounds apply at once (the spec's min or max changed, or the decision predates them).
        let stored = before?.desiredReplicas ?? service.status.replicas ?? current
        if stored != current {
            scaled(&record, from: stored, to: current, reason: current > stored ? "ScaledUp" : "ScaledDown",
                   message: "spec.autoscaling allows \(autoscaling.effectiveMinReplicas)..\(autoscaling.maxReplicas) replicas: \(stored) → \(current)")
        }
        guard let reading = autoscalingReading else {
            status.autoscaling = record
            return
        }
        // Microseconds: the windows and the interval are measured from these (seconds would shorten them by up to 1 s).
        record.lastCheck = Timestamp.formatMicro(now)
        switch reading {
        case .failure(let failure):
            // No value, no decision: the size stays (HPA's ScalingActive False).
            record.currentValue = nil
            if record.reason != "MetricsUnreadable" || record.message != failure.message {
                plan.events.append(PlannedEvent(.warning, "AutoscalingMetricsUnreadable", "\(failure.message); the size stays at \(current)"))
            }
            record.reason = "MetricsUnreadable"
            record.message = failure.message
        case .success(let values):
            guard let (recommendation, value) = Autoscaler.recommend(values, current: current, target: autoscaling.target,
                                                                     tolerance: autoscaling.effectiveTolerance, type: autoscaling.effectiveTargetType) else {
                record.reason = "WithinTolerance"
                if case .warmingUp(let note) = values { record.message = note } else { record.message = "no serving pod gave a value yet" }
                break
            }
            decide(&record, autoscaling, value: value, recommendation: recommendation, current: current)
        }
        status.autoscaling = record
    }

    private mutating func decide(_ record: inout AutoscalingStatus, _ autoscaling: Autoscaling, value: Double, recommendation: Int, current: Int) {
        let up = autoscaling.effectiveScaleUpStabilizationSeconds
        let down = autoscaling.effectiveScaleDownStabilizationSeconds
        let history = record.recommendations ?? []
        let stabilized = Autoscaler.stabilize(recommendation, current: current, history: history, now: now, upWindow: up, downWindow: down)
        // HPA's rate policies after stabilization: a change faster than scaleUp/scaleDown allow is cut to their limit.
        var limited = stabilized
        var rateLimit: String?
        let recent = record.recentScales ?? []
        if stabilized > current, let limit = Autoscaler.scaleUpLimit(current: current, scales: recent, now: now, rules: autoscaling.scaleUp),
           stabilized > limit, limit < autoscaling.maxReplicas {
            limited = limit
            rateLimit = "ScaleUpLimit"
        } else if stabilized < current, let limit = Autoscaler.scaleDownLimit(current: current, scales: recent, now: now, rules: autoscaling.scaleDown),
                  stabilized < limit, limit > autoscaling.effectiveMinReplicas {
            limited = limit
            rateLimit = "ScaleDownLimit"
        }
        let size = Self.bounded(limited, autoscaling)
        record.currentValue = value
        record.recommendation = recommendation
        record.recommendations = Autoscaler.record(.init(at: Timestamp.formatMicro(now), replicas: recommendation), into: history, now: now, upWindow: up, downWindow: down)
        let figures = "\(autoscaling.metric.rawValue) \(Self.number(value))\(autoscaling.effectiveTargetType == .averageValue ? " per replica" : "") against target \(Self.number(autoscaling.target))"
        let policy = rateLimit.map { " (limited by spec.autoscaling.\($0 == "ScaleUpLimit" ? "scaleUp" : "scaleDown").policies)" }
        if size != current {
            let capped = policy ?? (size == autoscaling.maxReplicas && stabilized > size ? " (capped at maxReplicas)"
                : size == autoscaling.effectiveMinReplicas && stabilized < size ? " (held at minReplicas)" : "")
            scaled(&record, from: current, to: size, reason: size > current ? "ScaledUp" : "ScaledDown",
                   message: "\(figures) asks for \(recommendation): \(current) → \(size) replicas\(capped)")
            return
        }
        let (reason, message): (String, String)
        if let rateLimit, let policy {
            // The policies allow no change yet: their period still counts the last changes.
            (reason, message) = (rateLimit, "\(figures) asks for \(recommendation); \(current) kept\(policy)")
        } else if recommendation < current && stabilized >= current && current > autoscaling.effectiveMinReplicas {
            let until = history.compactMap { past in Timestamp.parse(past.at).flatMap { $0 > now.addingTimeInterval(-Double(down)) && past.replicas >= current ? $0 : nil } }.max()
                .map { " until \(Timestamp.format($0.addingTimeInterval(Double(down))))" } ?? ""
            (reason, message) = ("ScaleDownStabilized", "\(figures) asks for \(recommendation); \(current) kept\(until): the scale-down window (scaleDownStabilizationSeconds \(down)) still holds a recommendation of \(current) or more")
        } else if recommendation > current && stabilized <= current && current < autoscaling.maxReplicas {
            (reason, message) = ("ScaleUpStabilized", "\(figures) asks for \(recommendation); \(current) kept: the scale-up window (scaleUpStabilizationSeconds \(up)) still holds a recommendation of \(current) or fewer")
        } else if recommendation > current && current >= autoscaling.maxReplicas {
            (reason, message) = ("AtMaxReplicas", "\(figures) asks for \(recommendation); capped at maxReplicas \(autoscaling.maxReplicas)")
        } else if recommendation < current && current <= autoscaling.effectiveMinReplicas {
            (reason, message) = ("AtMinReplicas", "\(figures) asks for \(recommendation); held at minReplicas \(autoscaling.effectiveMinReplicas)")
        } else {
            (reason, message) = ("WithinTolerance", "\(figures): \(current) replicas (within the tolerance of \(Self.number(autoscaling.effectiveTolerance)))")
        }
        // An Event when a hold or a cap starts, not on every reading.
        if reason != record.reason && ["ScaleDownStabilized", "ScaleUpStabilized", "ScaleUpLimit", "ScaleDownLimit", "AtMaxReplicas"].contains(reason) {
            plan.events.append(PlannedEvent(.normal, reason, message))
        }
        record.reason = reason
        record.message = message
    }

    private mutating func scaled(_ record: inout AutoscalingStatus, from: Int, to: Int, reason: String, message: String) {
        replicas = to
        record.desiredReplicas = to
        record.lastScale = .init(from: from, to: to, at: nowText)
        if let autoscaling = service.spec.autoscaling {
            let kept = Autoscaler.recentScales(record.recentScales ?? [], adding: .init(from: from, to: to, at: Timestamp.formatMicro(now)), now: now, autoscaling)
            record.recentScales = kept.isEmpty ? nil : kept
        }
        record.reason = reason
        record.message = message
        plan.events.append(PlannedEvent(.normal, reason, message))
    }

    static func number(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e12 ? String(Int(x)) : String(format: "%.3g", x)
    }

    /// After a scale-up, until every replica has been ready once: new replicas starting is not a degradation.
    var growing: Bool {
        guard let scale = status.autoscaling?.lastScale, scale.to > scale.from, let at = Timestamp.parse(scale.at) else { return false }
        guard let ready = service.status.conditions?[type: "Ready"], ready.status == .true,
              let since = Timestamp.parse(ready.lastTransitionTime) else { return true }
        return since < at
    }
}
