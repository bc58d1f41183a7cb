import ArgumentParser
import Foundation
import KubeClient
import KubeCore

/// `kubectl gantry status [KIND/]NAME`: a readable summary of one object and whatever is wrong with it.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Summarise one object: phase, what is wrong and why, children, recent Warning events.",
        discussion: "NAME alone is looked for among every namespaced Gantry kind; KIND/NAME (trainingjob/mnist, gis/api) says which.")

    @Argument(help: "The object: NAME or KIND/NAME.")
    var reference: String

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let (kind, object) = try await PluginLookup.object(client, namespace: namespace, reference: reference)
        let children = try await PluginLookup.children(client, kind, object)
        let selector = "regarding.name=\(object.name ?? ""),regarding.kind=\(kind.kind)"
        var events: [JSONValue] = []
        do {
            events = try await client.listAll(.events, namespace: object.namespace, options: ListOptions(fieldSelector: selector)).items
                .filter { $0[path: "regarding", "uid"]?.stringValue.map { $0 == object.uid } ?? true }
        } catch let error as APIError where error.code == 403 {
            RecordsCommand.warn("events not shown: \(error.message)")
        }
        print(StatusSummary(kind: kind, object: object, children: children, events: events, now: Date()).render(), terminator: "")
    }
}
