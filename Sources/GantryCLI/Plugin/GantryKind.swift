import ArgumentParser
import GantryAPI
import KubeCore

/// A Gantry kind as users name it on the command line: plural, singular, short name or kind, any case, with or
/// without the group (`trainingjobs`, `trainingjob.gantry.dev`, `gtj`, `TrainingJob`), as `kubectl get` accepts.
struct GantryKind: Sendable, Hashable {
    var resource: ResourceType
    /// Every accepted spelling, lowercased; read from the CRDs Gantry installs, so they cannot disagree.
    var names: Set<String>

    var kind: String { resource.kind }

    /// In the order `get` lists them.
    static let all: [GantryKind] = [ResourceType.trainingJobs, .experiments, .inferenceServices, .notebooks, .platformConfigs].map { type in
        let crd = CRDBuilder.all.first { $0[path: "spec", "names", "plural"]?.stringValue == type.plural }
        let names = crd?[path: "spec", "names"]
        var spellings = [type.plural, type.kind] + [names?["singular"]?.stringValue].compactMap { $0 }
        spellings += names?["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let lowered = Set(spellings.map { $0.lowercased() })
        return GantryKind(resource: type, names: lowered.union(lowered.map { "\($0).\(GantryGroup.name)" }))
    }

    static let trainingJob = all[0]

    static func named(_ text: String) throws -> GantryKind {
        guard let kind = all.first(where: { $0.names.contains(text.lowercased()) }) else {
            throw ValidationError("unknown kind \"\(text)\": use one of \(all.map(\.resource.plural).joined(separator: ", "))")
        }
        return kind
    }

    /// `KIND/NAME`, or `NAME` alone meaning `fallback` (nil: to be looked up among every kind).
    static func reference(_ text: String, fallback: GantryKind? = nil) throws -> (kind: GantryKind?, name: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where !text.isEmpty: return (fallback, text)
        case 2 where !parts[1].isEmpty: return (try named(parts[0]), parts[1])
        default: throw ValidationError("\"\(text)\" is neither NAME nor KIND/NAME (e.g. trainingjob/mnist)")
        }
    }
}
