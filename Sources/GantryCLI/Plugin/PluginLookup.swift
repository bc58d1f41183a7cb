import ArgumentParser
import GantryAPI
import GantryControllers
import KubeClient
import KubeCore

/// The reads the plugin's verbs share: an object named `KIND/NAME` or by name alone, and its children.
enum PluginLookup {
    /// The object `reference` names. A bare name is looked for among every namespaced kind; found in more than
    /// one, the user is asked to say which.
    static func object(_ client: KubeClient, namespace: String, reference: String, fallback: GantryKind? = nil) async throws -> (GantryKind, JSONValue) {
        let (kind, name) = try GantryKind.reference(reference, fallback: fallback)
        if let kind {
            let scope = kind.resource.namespaced ? namespace : nil
            guard let object = try await getIfFound(client, kind, scope, name) else {
                let hint = reference.contains("/") ? "" : " (another kind? name it as KIND/NAME, e.g. notebook/\(name))"
                throw PluginError("\(kind.resource.singularName) \"\(name)\" not found" + (scope.map { " in namespace \"\($0)\"" } ?? "") + hint)
            }
            return (kind, object)
        }
        var found: [(GantryKind, JSONValue)] = []
        for kind in GantryKind.all where kind.resource.namespaced {
            if let object = try await getIfFound(client, kind, namespace, name) { found.append((kind, object)) }
        }
        guard found.count == 1, let only = found.first else {
            if found.isEmpty { throw PluginError("no Gantry object named \"\(name)\" in namespace \"\(namespace)\"") }
            let options = found.map { "\($0.0.resource.singularName)/\(name)" }.joined(separator: ", ")
            throw PluginError("\"\(name)\" names several objects in namespace \"\(namespace)\": say which, e.g. \(options)")
        }
        return only
    }

    static func getIfFound(_ client: KubeClient, _ kind: GantryKind, _ namespace: String?, _ name: String) async throws -> JSONValue? {
        do {
            return try await client.get(kind.resource, namespace: namespace, name: name)
        } catch let error as APIError where error.code == 404 && error.reason == "NotFound" {
            return nil
        }
    }

    /// The label selector every child of `object` carries (ChildMetadata).
    static func childSelector(_ kind: GantryKind, _ object: JSONValue) -> String {
        "\(GantryLabels.kind)=\(kind.resource.kind.lowercased()),\(GantryLabels.instance)=\(ChildNaming.labelValue(object.name ?? ""))"
    }

    /// Kinds a Gantry object may have as children.
    static let childTypes: [ResourceType] = [.pods, .services, .configMaps, .secrets, .persistentVolumeClaims, .trainingJobs]

    /// The children of `object`: objects carrying its labels and owned by it (its uid, so an older object of the
    /// same name does not count), plus a TrainingJob's record, which has no owner on purpose.
    static func children(_ client: KubeClient, _ kind: GantryKind, _ object: JSONValue) async throws -> [(kind: String, object: JSONValue)] {
        guard let namespace = object.namespace else { return [] }
        let selector = childSelector(kind, object)
        let record = object[path: "status", "recordRef"]?.stringValue
        var children: [(kind: String, object: JSONValue)] = []
        for type in childTypes {
            let items: [JSONValue]
            do {
                items = try await client.listAll(type, namespace: namespace, options: ListOptions(labelSelector: selector)).items
            } catch let error as APIError where error.code == 403 {
                // A viewer may not list Secrets: the rest of the summary is still worth having.
                RecordsCommand.warn("\(type.plural) not shown: \(error.message)")
                continue
            }
            for item in items where item.ownerReferences.contains(where: { $0.uid == object.uid }) || (type == .configMaps && item.name == record) {
                children.append((type.kind, item))
            }
        }
        return children
    }
}

extension ResourceType {
    /// `trainingjob`, as kubectl names a kind in messages.
    var singularName: String { kind.lowercased() }
}
