import ArgumentParser
import Foundation
import GantryAPI
import KubeClient
import GantryControllers
import KubeCore

/// Reads an InferenceService's status, and writes one of the annotations its controller acts on. Neither command
/// writes `spec`, so a GitOps tool comparing the manifest's fields has nothing to revert.
enum RolloutAnnotation {
    static func status(_ client: KubeClient, _ namespace: String, _ name: String) async throws -> (JSONValue, InferenceServiceStatus) {
        let object = try await client.get(.inferenceServices, namespace: namespace, name: name)
        return (object, try (object["status"] ?? .emptyObject).decode(InferenceServiceStatus.self))
    }

    static func set(_ client: KubeClient, _ namespace: String, _ name: String, _ key: String, _ value: String) async throws {
        _ = try await client.patch(.inferenceServices, namespace: namespace, name: name,
                                   patch: ["metadata": ["annotations": [key: .string(value)]]], patchType: .merge)
    }
}

/// `gantry promote NAME`: swap to a candidate waiting in AwaitingPromotion (rollout.autoPromote: false).
struct PromoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "promote",
        abstract: "Move an InferenceService's alias to its candidate waiting for promotion.",
        discussion: "Writes the annotation gantry.dev/promote=<candidate revision> (metadata, not spec); the controller swaps once that revision is ready.")

    @Argument(help: "The InferenceService.")
    var name: String

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let (_, status) = try await RolloutAnnotation.status(client, namespace, name)
        guard let candidate = status.candidate else {
            throw ValidationError("\(namespace)/\(name) has no candidate: nothing to promote (the alias serves \(status.activeRevision?.hash ?? "nothing"))")
        }
        guard candidate.phase == .awaitingPromotion || candidate.phase == .progressing else {
            throw ValidationError("the candidate \(candidate.revision.hash) is \(candidate.phase.rawValue): \(candidate.message ?? "it cannot be promoted")")
        }
        try await RolloutAnnotation.set(client, namespace, name, InferenceServicePlanner.promoteAnnotation, candidate.revision.hash)
        print("promoting \(candidate.revision.hash) (\(candidate.revision.image)) in \(candidate.revision.color.rawValue); the alias moves once it is ready")
    }
}

/// `gantry rollback NAME`: back to the previous revision while it is still warm, without a new pod.
struct RollbackCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Move an InferenceService's alias back to its previous revision while that one is still up.",
        discussion: "Writes the annotation gantry.dev/rollback=<previous revision> (metadata, not spec). The service then stays on that revision, Stalled with reason RolledBack, until the spec is reverted (in Git) or the annotation removed: `kubectl annotate gis NAME gantry.dev/rollback-` rolls forward again.")

    @Argument(help: "The InferenceService.")
    var name: String

    @OptionGroup var cluster: ClusterOptions

    func run() async throws {
        let (client, namespace) = try cluster.connect()
        let (_, status) = try await RolloutAnnotation.status(client, namespace, name)
        guard let previous = status.previousRevision,
              let until = status.warmUntil.flatMap(Timestamp.parse), until > Date() else {
            throw ValidationError("\(namespace)/\(name) has no previous revision still up (rollout.scaleDownDelaySeconds has passed): revert the spec to roll back; that starts a new rollout")
        }
        try await RolloutAnnotation.set(client, namespace, name, InferenceServicePlanner.rollbackAnnotation, previous.hash)
        print("rolling back to \(previous.hash) (\(previous.image)) in \(previous.color.rawValue), warm until \(Timestamp.format(until)); the spec still names \(status.activeRevision?.hash ?? "?"): revert it in Git, or `kubectl annotate inferenceservice \(name) \(InferenceServicePlanner.rollbackAnnotation)-` to roll forward")
    }
}
