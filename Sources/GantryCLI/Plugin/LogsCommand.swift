import ArgumentParser
import Foundation
import GantryAPI
import KubeClient
import KubeCore

/// `kubectl gantry logs JOB`: every replica's log, each line prefixed with its pod and container as
/// `kubectl logs -l … --prefix` prints them; `-f` follows them all at once.
struct LogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the logs of every pod of a TrainingJob (or KIND/NAME), each line prefixed with its pod.",
        discussion: "Lines read `[pod/NAME/CONTAINER] text`, as `kubectl logs --prefix` prints them. Without -f the pods are printed one after the other; with -f every container is followed at once, lines interleaved as they come, until all have ended. A finished TrainingJob whose pods were deleted prints the last lines each replica left in status.replicaStatuses.")

    @Argument(help: "The TrainingJob, or KIND/NAME (notebook/alice, inferenceservice/api).")
    var reference: String

    @Flag(name: [.short, .long], help: "Follow the logs until every container ends.")
    var follow = false

    @Option(help: "Lines of each container's log to show from its end (default: all).")
    var tail: Int?

    @Option(name: [.short, .long], help: "Only this container of each pod.")
    var container: String?

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let (kind, object) = try await PluginLookup.object(client, namespace: namespace, reference: reference, fallback: GantryKind.trainingJob)
        let pods = try await client.listAll(.pods, namespace: namespace, options: ListOptions(labelSelector: PluginLookup.childSelector(kind, object))).items
            .filter { pod in pod.ownerReferences.contains { $0.uid == object.uid } }
        let streams = LogPrefix.streams(pods, container: container)
        if streams.isEmpty {
            let kept = LogPrefix.keptLines(object)
            guard !kept.isEmpty else { throw PluginError("\(kind.resource.singularName)/\(object.name ?? "") has no pods, and no log lines kept in its status") }
            FileHandle.standardError.write(Data("no pods left: the last lines each replica logged, from status.replicaStatuses\n".utf8))
            for line in kept { Self.write(line) }
            return
        }
        if follow {
            let tail = self.tail
            try await withThrowingTaskGroup(of: Void.self) { group in
                for stream in streams {
                    group.addTask {
                        for try await line in client.logs(namespace: namespace, pod: stream.pod, container: stream.container, follow: true, tailLines: tail) {
                            Self.write(stream.prefix + line)
                        }
                    }
                }
                try await group.waitForAll()
            }
        } else {
            for stream in streams {
                for try await line in client.logs(namespace: namespace, pod: stream.pod, container: stream.container, tailLines: tail) {
                    Self.write(stream.prefix + line)
                }
            }
        }
    }

    /// One whole line per write(2) on an unbuffered handle: lines of concurrent streams never interleave
    /// mid-line, and a follower piped into another program sees each line as it comes.
    static func write(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

/// Which logs `logs` reads and how their lines are prefixed. Pure.
enum LogPrefix {
    struct Stream: Sendable, Hashable {
        var pod: String
        var container: String
        var prefix: String { "[pod/\(pod)/\(container)] " }
    }

    /// Every container of every pod (or only `container`), pods by name (replica 0 first, as ranks are named).
    static func streams(_ pods: [JSONValue], container: String?) -> [Stream] {
        pods.sorted { ($0.name ?? "") < ($1.name ?? "") }.flatMap { pod in
            (pod[path: "spec", "containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
                .filter { container == nil || $0 == container }
                .map { Stream(pod: pod.name ?? "", container: $0) }
        }
    }

    /// The last lines a finished TrainingJob's replicas left in `status.replicaStatuses`, prefixed with their pod.
    static func keptLines(_ object: JSONValue) -> [String] {
        (object[path: "status", "replicaStatuses"]?.arrayValue ?? []).flatMap { replica in
            let pod = replica["podName"]?.stringValue ?? "replica-\(replica["index"]?.intValue ?? 0)"
            return (replica["lastLogLines"]?.arrayValue ?? []).compactMap(\.stringValue).map { "[pod/\(pod)] \($0)" }
        }
    }
}
