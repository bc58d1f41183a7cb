import Foundation
import GantryControllers

/// The columns of `gantry records` for a set of rows: the table (aligned like kubectl's, `-o wide` adds
/// provenance) and CSV (every column, raw values). Pure: rows in, text out.
struct RecordTable: Sendable {
    var hyperparameterKeys: [String]
    var withNamespace: Bool
    var wide: Bool

    init(_ rows: [RecordRow], withNamespace: Bool, wide: Bool) {
        hyperparameterKeys = RecordListing.hyperparameterKeys(rows)
        self.withNamespace = withNamespace
        self.wide = wide
    }

    static let leadingHeaders = ["NAMESPACE", "JOB", "EXPERIMENT"]
    static let trailingHeaders = ["OBJECTIVE", "VALUE", "PHASE", "GPU-HOURS", "FINISHED", "GOAL", "IMAGE", "IMAGE-ID", "GIT-COMMIT", "NODES", "REASON"]

    /// Hyperparameter columns are named as their environment variables without `HP_` (`batch-size` is
    /// `BATCH_SIZE`), so the table reads like the pods' env; one that collides with a fixed column keeps the prefix.
    var hyperparameterHeaders: [String] {
        hyperparameterKeys.map { key in
            let name = TrainingPods.envName(key)
            return Self.leadingHeaders.contains(name) || Self.trailingHeaders.contains(name) || name == "BEST" ? "HP_" + name : name
        }
    }

    // MARK: - Table

    func header() -> [String] {
        var h = [""] + (withNamespace ? ["NAMESPACE"] : []) + ["JOB", "EXPERIMENT"] + hyperparameterHeaders
        h += ["OBJECTIVE", "PHASE", "GPU-HOURS", "FINISHED"]
        if wide { h += ["GOAL", "IMAGE", "IMAGE-ID", "GIT-COMMIT", "NODES", "REASON"] }
        return h
    }

    func cells(_ r: RecordRow) -> [String] {
        var c = [r.isBest ? "*" : ""] + (withNamespace ? [r.namespace] : []) + [r.job, r.experiment ?? "-"]
        c += hyperparameterKeys.map { r.hyperparameters[$0] ?? "-" }
        let objective = r.objective.map { "\($0.metric)=\(Self.format(r.value))" } ?? "-"
        c += [objective, r.phase ?? "-", Self.format(r.gpuHours), r.completionTime ?? "-"]
        if wide {
            c += [Self.goal(r.objective) ?? "-", r.image ?? "-", r.imageDigest ?? "-", r.gitCommit ?? "-",
                  r.nodes.isEmpty ? "-" : r.nodes.joined(separator: ","), r.reason ?? "-"]
        }
        return c
    }

    func render(_ rows: [RecordRow]) -> String {
        if rows.isEmpty { return "No records found.\n" }
        return TextTable.render([header()] + rows.map(cells))
    }

    // MARK: - CSV

    /// RFC 4180: CRLF line ends, a header row, every column of `-o wide` plus the namespace; the objective split
    /// into metric and full-precision value; absent values empty (not `-`), so spreadsheets read them as blanks.
    func csv(_ rows: [RecordRow]) -> String {
        var lines = [["BEST", "NAMESPACE", "JOB", "EXPERIMENT"] + hyperparameterHeaders + Self.trailingHeaders]
        for r in rows {
            var c = [r.isBest ? "*" : "", r.namespace, r.job, r.experiment ?? ""]
            c += hyperparameterKeys.map { r.hyperparameters[$0] ?? "" }
            c += [r.objective?.metric ?? "", r.value.map { "\($0)" } ?? "", r.phase ?? "", r.gpuHours.map { "\($0)" } ?? "",
                  r.completionTime ?? "", Self.goal(r.objective) ?? "", r.image ?? "", r.imageDigest ?? "", r.gitCommit ?? "",
                  r.nodes.joined(separator: ","), r.reason ?? ""]
            lines.append(c)
        }
        return lines.map { $0.map(Self.csvField).joined(separator: ",") + "\r\n" }.joined()
    }

    /// A field is quoted when it holds a comma, a quote, CR or LF; quotes inside are doubled.
    static func csvField(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" || $0 == "\r\n" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: - Values

    static func goal(_ objective: RecordObjective?) -> String? {
        objective.map { $0.assumed ? "\($0.goal.rawValue) (assumed)" : $0.goal.rawValue }
    }

    static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.4g", value)
    }
}
