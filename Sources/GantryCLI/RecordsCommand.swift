import ArgumentParser
import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeYAML

/// `gantry records`: the experiment records of TrainingJobs (ConfigMaps `<job>-record`), as a table or YAML/JSON.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "List the experiment records of TrainingJobs: image, hyperparameters, result, GPU-hours, best metric.",
        discussion: "Records are immutable ConfigMaps labelled gantry.dev/record=true; they outlive their jobs and pods.")

    @Option(help: "Path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Option(name: [.short, .long], help: "Namespace (default: the context's namespace).")
    var namespace: String?

    @Flag(name: [.customShort("A"), .long], help: "List records of every namespace.")
    var allNamespaces = false

    @Option(help: "Only records of this experiment (label gantry.dev/experiment).")
    var experiment: String?

    @Option(name: [.short, .long], help: "Output format: table, yaml or json.")
    var output: String = "table"

    func validate() throws {
        guard ["table", "yaml", "json"].contains(output) else { throw ValidationError("--output must be table, yaml or json") }
    }

    func run() async throws {
        let config = try KubeConfig.automatic(path: kubeconfig, context: context)
        let client = try KubeClient(config: config)
        var selector = "gantry.dev/record=true"
        if let experiment { selector += ",\(GantryLabels.experiment)=\(experiment)" }
        let list = try await client.listAll(.configMaps, namespace: allNamespaces ? nil : (namespace ?? config.namespace),
                                            options: ListOptions(labelSelector: selector))
        let records = list.items.compactMap { cm -> JSONValue? in
            guard let text = cm[path: "data", "record.json"]?.stringValue, var record = try? JSONValue.parse(text) else { return nil }
            record["namespace"] = record["namespace"] ?? cm.namespace.map(JSONValue.string)
            return record
        }.sorted { ($0["completionTime"]?.stringValue ?? "") < ($1["completionTime"]?.stringValue ?? "") }
        switch output {
        case "yaml": print(YAML.emitDocuments(records), terminator: "")
        case "json": print(JSONValue.array(records).serialized())
        default: print(RecordTable.render(records, withNamespace: allNamespaces), terminator: "")
        }
    }
}

/// The `gantry records` table, aligned like kubectl's.
enum RecordTable {
    static func render(_ records: [JSONValue], withNamespace: Bool) -> String {
        var rows: [[String]] = [(withNamespace ? ["NAMESPACE"] : []) + ["JOB", "EXPERIMENT", "PHASE", "BEST", "GPU-HOURS", "IMAGE", "FINISHED"]]
        for r in records {
            let best = r[path: "metrics", "best"].map { b in "\(b["name"]?.stringValue ?? "")=\(format(b["value"]?.doubleValue))" } ?? "-"
            let row = [r["job"]?.stringValue ?? "-", r["experiment"]?.stringValue ?? "-", r["phase"]?.stringValue ?? "-", best,
                       format(r["gpuHours"]?.doubleValue), r["image"]?.stringValue ?? "-", r["completionTime"]?.stringValue ?? "-"]
            rows.append((withNamespace ? [r["namespace"]?.stringValue ?? "-"] : []) + row)
        }
        if rows.count == 1 { return "No records found.\n" }
        let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0) }.joined()
        }.joined(separator: "\n") + "\n"
    }

    static func format(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "-" }
        return String(format: "%.4g", value)
    }
}
