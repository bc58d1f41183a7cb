import Foundation
import GantryAPI
import KubeCore

/// The text of `kubectl gantry status`: what the object is doing, what is wrong with it and why (every condition
/// that says so, with reason and message), its children and its recent Warning Events. Pure: objects in, text out.
struct StatusSummary {
    var kind: GantryKind
    var object: JSONValue
    /// Children as (kind, object): list items carry no `kind` of their own.
    var children: [(kind: String, object: JSONValue)]
    var events: [JSONValue]
    var now: Date

    /// Conditions whose True means trouble (kstatus `Stalled`, and the terminal or degraded states of the kinds).
    static let troubleWhenTrue: Set<String> = ["Stalled", "Failed", "Invalid", "Degraded"]

    /// Wrong: a trouble condition that is True, or any condition whose status is Unknown (the controller could not tell).
    static func isWrong(_ condition: JSONValue) -> Bool {
        let status = condition["status"]?.stringValue
        return status == "Unknown" || (status == "True" && troubleWhenTrue.contains(condition["type"]?.stringValue ?? ""))
    }

    func render() -> String {
        let status = object["status"] ?? .emptyObject
        let conditions = status["conditions"]?.arrayValue ?? []
        var lines = ["\(kind.kind) \(object.namespace.map { "\($0)/" } ?? "")\(object.name ?? "")"]
        var facts = facts(status)
        let generation = object[path: "metadata", "generation"]?.intValue, observed = status["observedGeneration"]?.intValue
        if let generation, observed != generation {
            facts.append(("Not yet seen", "generation \(generation) (the controller last acted on \(observed.map(String.init) ?? "none"))"))
        }
        // Values aligned after the labels (a long label, e.g. a budget's namespace, just pushes its value along).
        lines += facts.map { label, value in "  \(label):" + String(repeating: " ", count: max(1, 16 - label.count)) + value }

        let wrong = conditions.filter(Self.isWrong)
        lines.append(wrong.isEmpty ? "Nothing wrong." : "Wrong:")
        lines += wrong.map { "  ✗ " + Self.describe($0) }
        let progress = conditions.filter { $0["type"]?.stringValue == "Reconciling" && $0["status"]?.stringValue == "True" }
        if !progress.isEmpty {
            lines.append("In progress:")
            lines += progress.map { "  … " + Self.describe($0) }
        }
        // Ready follows Stalled when something is wrong; said on its own only when nothing is.
        if wrong.isEmpty, let ready = conditions.first(where: { $0["type"]?.stringValue == "Ready" }) {
            lines.append("  " + Self.describe(ready))
        }

        lines.append(children.isEmpty ? "Children: none" : "Children:")
        let childRows = children.sorted { ($0.kind, $0.object.name ?? "") < ($1.kind, $1.object.name ?? "") }
            .map { ["  \($0.kind)/\($0.object.name ?? "")", Self.childState($0.kind, $0.object)] }
        if !childRows.isEmpty { lines += Self.rows(childRows) }

        let warnings = events.filter { $0["type"]?.stringValue == "Warning" }
            .sorted { Self.eventTime($0) > Self.eventTime($1) }.prefix(10)
        lines.append(warnings.isEmpty ? "Warning events: none" : "Warning events (newest first):")
        let eventRows = warnings.map { e -> [String] in
            let count = e[path: "series", "count"]?.intValue.map { " (×\($0))" } ?? ""
            return ["  \(HumanDuration.since(Self.eventTime(e), now: now)) ago", e["reason"]?.stringValue ?? "-",
                    (e["note"]?.stringValue ?? "") + count]
        }
        if !eventRows.isEmpty { lines += Self.rows(eventRows) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Aligned rows without trailing blanks (a child with no state of its own ends at its name).
    static func rows(_ cells: [[String]]) -> [String] {
        TextTable.render(cells).split(separator: "\n").map(\.withoutTrailingBlanks)
    }

    /// `Ready=False (Queued): waiting for 2 GPUs`.
    static func describe(_ condition: JSONValue) -> String {
        let head = "\(condition["type"]?.stringValue ?? "?")=\(condition["status"]?.stringValue ?? "?")"
        let reason = condition["reason"]?.stringValue.map { " (\($0))" } ?? ""
        let message = condition["message"]?.stringValue.flatMap { $0.isEmpty ? nil : ": \($0)" } ?? ""
        return head + reason + message
    }

    /// When an event last happened: its series' last observation, else its time, else its creation.
    static func eventTime(_ event: JSONValue) -> String {
        event[path: "series", "lastObservedTime"]?.stringValue ?? event["eventTime"]?.stringValue
            ?? event["deprecatedLastTimestamp"]?.stringValue ?? event[path: "metadata", "creationTimestamp"]?.stringValue ?? ""
    }

    /// A child's state in a word or two: a pod's phase (and why it waits), a claim's phase, a trial's phase.
    static func childState(_ kind: String, _ child: JSONValue) -> String {
        let status = child["status"] ?? .emptyObject
        if kind == "Pod", let waiting = status["containerStatuses"]?.arrayValue?.compactMap({ $0[path: "state", "waiting", "reason"]?.stringValue }).first {
            return "\(status["phase"]?.stringValue ?? "Pending") (\(waiting))"
        }
        if child[path: "metadata", "deletionTimestamp"] != nil { return "Terminating" }
        return status["phase"]?.stringValue ?? ""
    }

    /// The lines that say what this kind is doing, label and value.
    func facts(_ s: JSONValue) -> [(String, String)] {
        let t = ObjectTable.text
        var facts: [(String, String)] = []
        func add(_ label: String, _ value: String?) { if let value, value != "-" { facts.append((label, value)) } }
        add("Phase", t(s["phase"]))
        switch kind.resource {
        case .trainingJobs:
            if (s["requestedGPUs"]?.intValue ?? 0) > 0 || (s["gpus"]?.intValue ?? 0) > 0 { add("GPUs", ObjectTable.gpus(held: s["gpus"], of: s["requestedGPUs"]) + " (held/requested)") }
            add("Replicas ready", t(s["readyReplicas"]))
            if let best = s[path: "metrics", "best"] {
                add("Best", ObjectTable.metric(best["name"], best["value"]) + (best["step"].map { " at step \(t($0))" } ?? ""))
            }
            add("Step", t(s[path: "metrics", "step"]))
            if let queue = s["queue"] { add("Queue", "position \(t(queue["position"]))" + (queue["reason"]?.stringValue.map { ": \($0)" } ?? "")) }
            add("Restarts", t(s["restarts"]))
            add("Experiment", object.labels[GantryLabels.experiment])
            add("Record", s["recordRef"]?.stringValue)
        case .experiments:
            let trials = s["trials"] ?? .emptyObject
            add("Trials", "\(t(trials["created"]))/\(t(s[path: "search", "maxTrials"])) created, \(t(trials["running"])) running, "
                + "\(t(trials["succeeded"])) succeeded, \(t(trials["earlyStopped"])) stopped early, \(t(trials["failed"])) failed")
            if let best = s["bestTrial"] {
                let params = (best["parameters"]?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\(t($0.value))" }
                add("Best trial", "\(t(best["name"])): " + ObjectTable.metric(object[path: "spec", "objective", "metric"], best["value"])
                    + (params.isEmpty ? "" : " with " + params.joined(separator: ", ")))
            }
        case .inferenceServices:
            add("URL", s["url"]?.stringValue)
            add("Replicas ready", s["readyReplicas"].map { "\(t($0))/\(t(s["replicas"]))" })
            add("Active", s["activeRevision"].map { "\(t($0["hash"])) in \(t($0["color"])) (\(t($0["image"])))" })
            add("Candidate", s["candidate"].map { c in "\(t(c[path: "revision", "hash"])) \(t(c["phase"]))" + (c["message"]?.stringValue.map { ": \($0)" } ?? "") })
            add("Previous", s["previousRevision"].map { "\(t($0["hash"])) (\(t($0["image"])))" + (s["warmUntil"]?.stringValue.map { ", warm until \($0)" } ?? "") })
            add("Last swap", s["lastSwap"].map { "\(t($0["from"])) → \(t($0["to"])) (\(t($0["reason"]))) \(HumanDuration.since($0["at"]?.stringValue, now: now)) ago" })
        case .notebooks:
            add("GPUs", t(s["gpus"]))
            add("URL", s["url"]?.stringValue)
            add("Last activity", s["lastActivity"]?.stringValue.map { "\(HumanDuration.since($0, now: now)) ago" })
            add("Idle timeout", s[path: "culling", "idleTimeoutSeconds"].map { "\(t($0))s" })
        default:
            for usage in s["budgets"]?.arrayValue ?? [] {
                add("Budget \(t(usage["namespace"]))", "\(t(usage["usedGPUHours"]))/\(t(usage["gpuHoursPerMonth"])) GPU-hours (\(t(usage["state"])))")
            }
            add("Idle GPU pods", s["idleGPUs"].map { "\($0.arrayValue?.count ?? 0)" })
        }
        add("Age", HumanDuration.since(object[path: "metadata", "creationTimestamp"]?.stringValue, now: now))
        return facts
    }
}
