import ArgumentParser
import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// `gantry gpus`: GPU allocation and utilisation per node and per namespace, idle pods flagged, and each
/// namespace's GPU-hours of the month against its budget (docs/budgets-and-idle-gpus.md).
struct GPUsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gpus",
        abstract: "Show GPU allocation and utilisation per node and namespace, idle pods, and GPU-hour budgets.",
        discussion: """
            Allocation is read from nodes and Gantry's pods now. Utilisation and idle pods come from the controller's last idle-GPU check and GPU-hours from its last accounting (the PlatformConfig's status; both need PlatformConfig spec.idleGPUs or spec.budgets).

            The table lists idle pods only; -o wide lists every pod holding GPUs.
            """)

    @Option(help: "Path of a kubeconfig file (default: $KUBECONFIG or ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Option(name: [.short, .long], help: "Output format: table, wide (every GPU pod) or json.")
    var output: String = "table"

    func validate() throws {
        guard ["table", "wide", "json"].contains(output) else { throw ValidationError("--output must be one of table, wide, json") }
    }

    func run() async throws {
        let client = try KubeClient(config: try KubeConfig.automatic(path: kubeconfig, context: context))
        let nodes = try await client.listAll(.nodes, namespace: nil).items
        let pods = try await client.listAll(.pods, namespace: nil, options: ListOptions(labelSelector: "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)")).items
        let platform: JSONValue?
        do {
            platform = try await client.get(.platformConfigs, namespace: nil, name: PlatformConfigSpec.singletonName)
        } catch let error as APIError where error.code == 404 || error.code == 403 {
            // No PlatformConfig, or a user who may not read it: allocation is still shown.
            platform = nil
        }
        let report = GPUReport(nodes: nodes, pods: pods, platform: platform)
        switch output {
        case "json": print(report.json.serialized())
        default: print(report.render(wide: output == "wide"), terminator: "")
        }
    }
}
