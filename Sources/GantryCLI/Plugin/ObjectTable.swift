import Foundation
import GantryAPI
import KubeCore

/// The columns of `kubectl gantry get` for one kind: what a user scans for (phase, GPUs, the best metric with
/// its name, the serving and candidate revisions, last activity, age). Pure: objects in, rows out; read from
/// the JSON so an object whose status an older controller wrote still gets a row.
enum ObjectTable {
    static func header(_ kind: GantryKind, withNamespace: Bool) -> [String] {
        let columns: [String]
        switch kind.resource {
        case .trainingJobs: columns = ["NAME", "PHASE", "READY", "GPUS", "BEST", "STEP", "EXPERIMENT", "AGE"]
        case .experiments: columns = ["NAME", "PHASE", "TRIALS", "RUNNING", "BEST-TRIAL", "BEST", "AGE"]
        case .inferenceServices: columns = ["NAME", "READY", "ACTIVE", "CANDIDATE", "PREVIOUS", "LAST-SWAP", "AGE"]
        case .notebooks: columns = ["NAME", "PHASE", "GPUS", "LAST-ACTIVITY", "AGE"]
        default: columns = ["NAME", "READY", "BUDGETS", "IDLE-GPU-PODS", "AGE"]
        }
        return (withNamespace && kind.resource.namespaced ? ["NAMESPACE"] : []) + columns
    }

    static func row(_ kind: GantryKind, _ object: JSONValue, now: Date, withNamespace: Bool) -> [String] {
        let status = object["status"] ?? .emptyObject
        let age = HumanDuration.since(object[path: "metadata", "creationTimestamp"]?.stringValue, now: now)
        let name = object.name ?? "-"
        let cells: [String]
        switch kind.resource {
        case .trainingJobs:
            cells = [name, text(status["phase"]), text(status["readyReplicas"]), gpus(held: status["gpus"], of: status["requestedGPUs"]),
                     metric(status[path: "metrics", "best", "name"], status[path: "metrics", "best", "value"]),
                     text(status[path: "metrics", "step"]), object.labels[GantryLabels.experiment] ?? "-", age]
        case .experiments:
            let created = status[path: "trials", "created"]?.intValue, max = status[path: "search", "maxTrials"]?.intValue
            let trials = created.map { c in max.map { "\(c)/\($0)" } ?? "\(c)" } ?? "-"
            cells = [name, text(status["phase"]), trials, text(status[path: "trials", "running"]), text(status[path: "bestTrial", "name"]),
                     metric(object[path: "spec", "objective", "metric"], status[path: "bestTrial", "value"]), age]
        case .inferenceServices:
            let ready = status["readyReplicas"].map { r in "\(text(r))/\(text(status["replicas"]))" } ?? "-"
            let active = status[path: "activeRevision", "hash"]?.stringValue.map { h in "\(h) (\(text(status["activeColor"])))" } ?? "-"
            let candidate = status[path: "candidate", "revision", "hash"]?.stringValue.map { h in "\(h) \(text(status[path: "candidate", "phase"]))" } ?? "-"
            let swap = status[path: "lastSwap", "at"]?.stringValue.map { at in
                "\(HumanDuration.since(at, now: now)) ago (\(text(status[path: "lastSwap", "reason"])))"
            } ?? "-"
            cells = [name, ready, active, candidate, text(status[path: "previousRevision", "hash"]), swap, age]
        case .notebooks:
            let activity = status["lastActivity"]?.stringValue.map { "\(HumanDuration.since($0, now: now)) ago" } ?? "-"
            cells = [name, text(status["phase"]), text(status["gpus"]), activity, age]
        default:
            let budgets = status["budgets"]?.arrayValue ?? []
            let exhausted = budgets.filter { $0["state"]?.stringValue == NamespaceUsage.State.exhausted.rawValue }.count
            let budgetText = budgets.isEmpty ? "-" : "\(budgets.count) namespaces" + (exhausted > 0 ? ", \(exhausted) exhausted" : "")
            let ready = status["conditions"]?.arrayValue?.first { $0["type"]?.stringValue == "Ready" }?["status"]
            cells = [name, text(ready), budgetText, text(status["idleGPUs"].map { JSONValue.int(Int64($0.arrayValue?.count ?? 0)) }), age]
        }
        return (withNamespace && kind.resource.namespaced ? [object.namespace ?? "-"] : []) + cells
    }

    static func render(_ kind: GantryKind, _ objects: [JSONValue], now: Date, withNamespace: Bool) -> String {
        TextTable.render([header(kind, withNamespace: withNamespace)] + objects.map { row(kind, $0, now: now, withNamespace: withNamespace) })
    }

    // MARK: - Cells

    /// A scalar as text; `-` when absent (kubectl prints `<none>`, but `-` keeps narrow columns readable).
    static func text(_ value: JSONValue?) -> String {
        guard let value, value != .null else { return "-" }
        if let s = value.stringValue { return s }
        if case .double(let d) = value { return RecordTable.format(d) }
        return value.serialized()
    }

    /// `held/requested` GPUs: a queued job holds 0 of what it asks for.
    static func gpus(held: JSONValue?, of requested: JSONValue?) -> String {
        guard let requested, requested != .null else { return text(held) }
        return "\(held.map(text) ?? "0")/\(text(requested))"
    }

    /// `loss=0.0912`: a value is meaningless without the metric it is of.
    static func metric(_ name: JSONValue?, _ value: JSONValue?) -> String {
        guard let value = value?.doubleValue else { return "-" }
        return "\(name?.stringValue ?? "value")=\(RecordTable.format(value))"
    }
}
