import ArgumentParser
import Foundation
import KubeClient
import KubeCore

/// `kubectl gantry get [KIND]`: Gantry's objects with the columns users scan for; every kind without KIND.
struct GetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "List Gantry objects: phase, GPUs, best metric, revisions, last activity, age.",
        discussion: "KIND is trainingjobs, experiments, inferenceservices, notebooks or platformconfigs (singular and short names work: gtj, gex, gis, gnb, gpc). Without KIND every kind is listed, one table each, kinds with no objects left out.")

    @Argument(help: "The kind to list (default: every Gantry kind).")
    var kind: String?

    @Argument(help: "Names to show (default: all of the kind).")
    var names: [String] = []

    @OptionGroup var cluster: ClusterOptions

    @Flag(name: [.customShort("A"), .long], help: "List the objects of every namespace.")
    var allNamespaces = false

    func validate() throws {
        if let kind { _ = try GantryKind.named(kind) }
        if kind == nil && !names.isEmpty { throw ValidationError("names need a KIND first, e.g. `get trainingjobs mnist`") }
    }

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let kinds = try kind.map { [try GantryKind.named($0)] } ?? GantryKind.all
        let scope = allNamespaces ? nil : namespace
        var tables: [String] = []
        var missing = false
        for kind in kinds {
            let objects: [JSONValue]
            do {
                objects = try await client.listAll(kind.resource, namespace: scope).items
            } catch let error as APIError where self.kind == nil && (error.code == 404 || error.code == 403) {
                // Listing everything: a kind this cluster lacks or this user may not read is said, not fatal.
                FileHandle.standardError.write(Data("warning: \(kind.resource.plural): \(Self.explain(error))\n".utf8))
                continue
            }
            let shown = (names.isEmpty ? objects : objects.filter { names.contains($0.name ?? "") })
                .sorted { ($0.namespace ?? "", $0.name ?? "") < ($1.namespace ?? "", $1.name ?? "") }
            for name in names where !shown.contains(where: { $0.name == name }) {
                FileHandle.standardError.write(Data("Error from server (NotFound): \(kind.resource.plural).\(kind.resource.group) \"\(name)\" not found\n".utf8))
                missing = true
            }
            if shown.isEmpty { continue }
            let table = ObjectTable.render(kind, shown, now: Date(), withNamespace: allNamespaces)
            // Several kinds: each table is titled with its kind, as `kubectl get gantry` separates them.
            tables.append(kinds.count > 1 ? "\(kind.resource.plural).\(kind.resource.group):\n" + table : table)
        }
        // As kubectl: the notice goes to stderr, so a script reading stdout sees no rows; a name not found fails
        // (after the rows of those that were found).
        if tables.isEmpty && names.isEmpty {
            let place = scope.map { "in \($0) namespace" } ?? "in any namespace"
            FileHandle.standardError.write(Data("No Gantry resources found \(place).\n".utf8))
        }
        print(tables.joined(separator: "\n"), terminator: "")
        if missing { throw ExitCode(1) }
    }

    static func explain(_ error: APIError) -> String {
        error.code == 404 ? "the CRD is not installed (kubectl apply -k crds/)" : "not allowed to list (\(error.message))"
    }
}
