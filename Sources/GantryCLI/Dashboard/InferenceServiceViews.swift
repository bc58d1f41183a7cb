import Foundation
import GantryAPI
import KubeCore

struct InferenceServiceListRow: Sendable, Hashable {
    var namespace: String
    var name: String
    var link: String
    var url: String
    var active: String
    var ready: String
    var candidate: String
    var lastSwap: String
}

struct RevisionRow: Sendable, Hashable {
    var role: String
    var hash: String
    var color: String
    var image: String
    var model: String
    var source: String
}

struct HistoryRow: Sendable, Hashable {
    var time: String
    var type: String
    var reason: String
    var note: String
    var isWarning: Bool
}

struct InferenceServicePage: Sendable, Hashable {
    var title: String
    var facts: [Fact]
    var revisions: [RevisionRow]
    var candidate: [Fact]
    var hasCandidate: Bool
    /// The service's Events (rollouts, validations, swaps, rollbacks), newest first; Events expire (one hour by default).
    var history: Section<HistoryRow>
    var conditions: [ConditionRow]
}

enum InferenceServiceViews {
    static func revision(_ revision: InferenceServiceStatus.Revision?) -> String {
        guard let revision else { return "-" }
        return "\(revision.hash) (\(revision.color.rawValue)) \(revision.image)"
    }

    static func swap(_ swap: InferenceServiceStatus.Swap?) -> String {
        guard let swap else { return "-" }
        return "\(swap.reason) \(swap.from ?? "-") → \(swap.to) at \(swap.at)"
    }

    static func list(_ objects: [JSONValue]) -> [InferenceServiceListRow] {
        objects.compactMap { try? InferenceService($0) }.map { service in
            let status = service.status
            return InferenceServiceListRow(
                namespace: service.namespace, name: service.name, link: DashboardLinks.inferenceService(service.namespace, service.name),
                url: status.url ?? "-", active: revision(status.activeRevision),
                ready: "\(status.readyReplicas ?? 0)/\(status.replicas ?? 0)",
                candidate: status.candidate.map { "\($0.revision.hash) \($0.phase.rawValue)" } ?? "-", lastSwap: swap(status.lastSwap))
        }.sorted { DashboardFormat.inOrder(($0.namespace, $0.name), ($1.namespace, $1.name)) }
    }

    static func page(_ object: JSONValue, events: Listing) throws -> InferenceServicePage {
        let service = try InferenceService(object)
        let status = service.status
        let facts = [Fact("Namespace", service.namespace), Fact("URL", status.url), Fact("Serving colour", status.activeColor?.rawValue),
                     Fact("Ready replicas", "\(status.readyReplicas ?? 0)/\(status.replicas ?? 0)"),
                     Fact("Last swap", swap(status.lastSwap)), Fact("Previous kept warm until", status.warmUntil),
                     Fact("Analysis", status.analysis.map { "\($0.phase.rawValue) for \($0.revision)" + ($0.message.map { ": \($0)" } ?? "") })]
        func row(_ role: String, _ r: InferenceServiceStatus.Revision?) -> RevisionRow? {
            guard let r else { return nil }
            let source = r.source.map { s in
                "TrainingJob \(s.trainingJob) (\(s.phase))" + (s.bestMetric.map { ", \($0.name) \(DashboardFormat.value($0.value))" } ?? "")
            }
            return RevisionRow(role: role, hash: r.hash, color: r.color.rawValue, image: r.image, model: r.modelVersion ?? "-", source: source ?? "-")
        }
        let revisions = [row("Active", status.activeRevision), row("Previous", status.previousRevision),
                         row("Candidate", status.candidate?.revision)].compactMap { $0 }
        var candidate: [Fact] = []
        if let c = status.candidate {
            candidate = [Fact("Revision", c.revision.hash), Fact("Phase", c.phase.rawValue), Fact("Ready", "\(c.ready)/\(c.desired)"),
                         Fact("Started", c.startedAt), Fact("Reason", c.reason), Fact("Message", c.message),
                         Fact("Validation", c.validation.map { ($0.passed ? "passed" : "failed") + " at \($0.at)" })]
        }
        let rows = events.items.filter { Event(json: $0).regarding.uid == service.uid }.map(Self.historyRow)
            .sorted { $0.time > $1.time }
        return InferenceServicePage(title: "InferenceService \(service.name)", facts: facts, revisions: revisions, candidate: candidate,
                                    hasCandidate: !candidate.isEmpty, history: Section(rows, from: events),
                                    conditions: ConditionRow.rows(status.conditions, generation: service.generation))
    }

    static func historyRow(_ object: JSONValue) -> HistoryRow {
        let event = Event(json: object)
        let time = object[path: "series", "lastObservedTime"]?.stringValue ?? event.eventTime ?? object.creationTimestamp ?? "-"
        return HistoryRow(time: time, type: event.type ?? "-", reason: event.reason ?? "-", note: event.note ?? "",
                          isWarning: event.type == "Warning")
    }
}
