import Foundation
import KubeCore

/// Pieces every dashboard page shows. View models hold display strings only: the templates escape each of them
/// (Mustache's `{{value}}`), so nothing a user wrote reaches the page as markup.

/// One row of a conditions table; `stale` when it was written for an older generation of the spec.
struct ConditionRow: Sendable, Hashable {
    var type: String
    var status: String
    var reason: String
    var message: String
    var since: String
    var stale: Bool
    /// `good`, `bad` or `neutral`: whether this status is what one hopes for, by the condition's polarity
    /// (Ready True is good; Degraded True is bad, Degraded False is not news).
    var tone: String

    static func rows(_ conditions: [Condition]?, generation: Int64) -> [ConditionRow] {
        (conditions ?? []).map { c in
            ConditionRow(type: c.type, status: c.status.rawValue, reason: c.reason, message: c.message,
                         since: c.lastTransitionTime.isEmpty ? "-" : c.lastTransitionTime,
                         stale: (c.observedGeneration ?? generation) < generation, tone: tone(c))
        }
    }

    static let positive: Set<String> = ["Ready", "Available"]
    static let negative: Set<String> = ["Degraded", "Stalled", "Failed", "Invalid"]

    static func tone(_ c: Condition) -> String {
        if positive.contains(c.type) { return c.status == .true ? "good" : c.status == .false ? "bad" : "neutral" }
        if negative.contains(c.type), c.status == .true { return "bad" }
        return "neutral"
    }
}

/// A label and its value, for the facts list at the top of a detail page.
struct Fact: Sendable, Hashable {
    var name: String
    var value: String
    var link: String?

    init(_ name: String, _ value: String?, link: String? = nil) {
        self.name = name
        self.value = value ?? "-"
        self.link = link
    }
}

/// A section that could not be read, or what it holds.
struct Section<Row: Sendable & Hashable>: Sendable, Hashable {
    var rows: [Row]
    var unavailable: Unavailable?
    /// "namespace team-a only" when the listing was narrowed to one namespace.
    var scope: String?
    /// Readable, and nothing there (stored: templates see stored properties only).
    var isEmpty: Bool

    init(_ rows: [Row], from listing: Listing? = nil) {
        self.rows = rows
        unavailable = listing?.unavailable
        scope = listing?.narrowedTo.map { "namespace \($0) only" }
        isEmpty = rows.isEmpty && unavailable == nil
    }

    init(unavailable: Unavailable) {
        rows = []
        self.unavailable = unavailable
        isEmpty = false
    }
}

/// Links between pages: one place, so the routes and the links cannot drift apart.
enum DashboardLinks {
    static func experiment(_ namespace: String, _ name: String) -> String { "/experiments/\(path(namespace))/\(path(name))" }
    static func trainingJob(_ namespace: String, _ name: String) -> String { "/trainingjobs/\(path(namespace))/\(path(name))" }
    static func inferenceService(_ namespace: String, _ name: String) -> String { "/inferenceservices/\(path(namespace))/\(path(name))" }

    /// Names are DNS labels, but a label value (an experiment of records) need not be: percent-encode it.
    static func path(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}

enum DashboardFormat {
    /// A metric value as `gantry records` prints it (4 significant digits).
    static func value(_ value: Double?) -> String { RecordTable.format(value) }

    /// `2026-12-03T18:40:00Z (in 4m 3s)` or `(5s ago)`: the absolute time, and how far it is from `now`.
    static func relative(_ timestamp: String?, now: Date) -> String {
        guard let timestamp else { return "-" }
        guard let date = Timestamp.parse(timestamp) else { return timestamp }
        let seconds = Int(date.timeIntervalSince(now).rounded())
        let span = duration(abs(seconds))
        return seconds >= 0 ? "\(timestamp) (in \(span))" : "\(timestamp) (\(span) ago)"
    }

    static func duration(_ seconds: Int) -> String {
        let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(s)s" }
        return "\(s)s"
    }

    /// By namespace, then name, numbers within names by value (`run-2` before `run-10`), as people count trials.
    static func inOrder(_ a: (namespace: String, name: String), _ b: (namespace: String, name: String)) -> Bool {
        if a.namespace != b.namespace { return a.namespace < b.namespace }
        return a.name.compare(b.name, options: .numeric) == .orderedAscending
    }

    static func hyperparameters(_ values: [String: String]) -> String {
        values.isEmpty ? "-" : values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
    }
}
