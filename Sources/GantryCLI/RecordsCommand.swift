import ArgumentParser
import Foundation
import GantryAPI
import KubeClient
import KubeCore
import KubeYAML

/// `gantry records`: the experiment records of TrainingJobs (immutable ConfigMaps labelled gantry.dev/record=true),
/// as a table with one column per hyperparameter and the best run of each experiment marked, or as YAML/JSON/CSV.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "List the experiment records of TrainingJobs: hyperparameters, objective, result, GPU-hours; the best run marked.",
        // One line per paragraph: ArgumentParser wraps the discussion to the terminal itself.
        discussion: """
            Records are immutable ConfigMaps labelled gantry.dev/record=true; they outlive their jobs and pods.

            The table has one column per hyperparameter of the listed records. `*` marks the best record of each experiment: the best value of its objective (lowest for minimize, highest for maximize) among Succeeded and EarlyStopped runs. Records written before the objective was recorded are judged by their best metric, with goal minimize when it has none, shown as `minimize (assumed)` in -o wide.
            """)

    @Argument(help: "A TrainingJob's name: show its record only (the best mark still compares it with its whole experiment).")
    var name: String?

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("A"), .long], help: "List records of every namespace.")
    var allNamespaces = false

    @Option(help: "Only records of this experiment (label gantry.dev/experiment).")
    var experiment: String?

    @Option(name: [.short, .long], help: "Output format: table, wide (adds goal, image, image digest, git commit, nodes, result reason), yaml, json or csv.")
    var output: String = "table"

    @Option(help: "Row order: objective (each experiment's best first; the default with --experiment), finished (oldest first; the default otherwise) or name.")
    var sortBy: String?

    static let formats = ["table", "wide", "yaml", "json", "csv"]

    func validate() throws {
        guard Self.formats.contains(output) else { throw ValidationError("--output must be one of \(Self.formats.joined(separator: ", "))") }
        if let sortBy, RecordListing.SortKey(rawValue: sortBy) == nil {
            throw ValidationError("--sort-by must be one of \(RecordListing.SortKey.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let scope = allNamespaces ? nil : namespace
        var selector = "gantry.dev/record=true"
        if let experiment { selector += ",\(GantryLabels.experiment)=\(experiment)" }
        let list = try await client.listAll(.configMaps, namespace: scope, options: ListOptions(labelSelector: selector))
        // Every record of the scope is read, even with NAME: the best mark compares a run with its experiment.
        var rows = RecordListing.markingBest(list.items.compactMap(Self.row))
        if let name {
            rows = rows.filter { $0.job == name || $0.annotatedJob == name }
            guard !rows.isEmpty else { throw RecordsError.notFound(job: name, namespace: scope, experiment: experiment) }
        }
        let sortKey = sortBy.flatMap(RecordListing.SortKey.init(rawValue:)) ?? (experiment == nil ? .finished : .objective)
        rows = RecordListing.sorted(rows, by: sortKey)
        switch output {
        case "yaml": print(YAML.emitDocuments(rows.map(\.document)), terminator: "")
        // One job's record is printed as an object, as `kubectl get NAME -o json` does; a listing as an array.
        case "json": print((name != nil && rows.count == 1 ? rows[0].document : JSONValue.array(rows.map(\.document))).serialized())
        case "csv": print(RecordTable(rows, withNamespace: true, wide: true).csv(rows), terminator: "")
        default: print(RecordTable(rows, withNamespace: allNamespaces, wide: output == "wide").render(rows), terminator: "")
        }
    }

    /// The row of one record ConfigMap; nil, with a warning on stderr, when its `record.json` is missing or not
    /// JSON, so one damaged record neither hides the others nor disappears silently.
    static func row(_ configMap: JSONValue) -> RecordRow? {
        let source = "\(configMap.namespace ?? "")/\(configMap.name ?? "")"
        guard let text = configMap[path: "data", "record.json"]?.stringValue else {
            warn("ConfigMap \(source) is labelled gantry.dev/record=true but has no record.json; skipped")
            return nil
        }
        do {
            var document = try JSONValue.parse(text)
            guard document.objectValue != nil else { throw RecordsError.notAnObject }
            // YAML/JSON output names where each record lives even if an older controller left it out.
            document["namespace"] = document["namespace"] ?? configMap.namespace.map(JSONValue.string)
            // The annotation holds the exact job name (the label may be shortened); the document wins when it has one.
            return RecordRow(document: document, configMapNamespace: configMap.namespace,
                             annotatedJob: configMap.annotations[GantryLabels.trainingJob])
        } catch {
            warn("ConfigMap \(source): record.json cannot be read (\(error)); skipped")
            return nil
        }
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }
}

enum RecordsError: Error, CustomStringConvertible {
    case notAnObject
    case notFound(job: String, namespace: String?, experiment: String?)

    var description: String {
        switch self {
        case .notAnObject: return "not a JSON object"
        case .notFound(let job, let namespace, let experiment):
            let place = namespace.map { "in namespace \"\($0)\"" } ?? "in any namespace"
            let of = experiment.map { " of experiment \"\($0)\"" } ?? ""
            return "no record of TrainingJob \"\(job)\"\(of) \(place): a record is written when a job finishes or is deleted"
        }
    }
}
