import KubeCore

/// Strategic merge patch for the built-in kinds we serve
/// (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/): like a JSON merge
/// patch, except that lists with a merge key merge element by element, lists of primitives marked `merge` union,
/// and the directives `$patch: delete|replace`, `$retainKeys`, `$setElementOrder/<field>` and
/// `$deleteFromPrimitiveList/<field>` are honoured (ordering directives are accepted and ignored).
/// Which lists merge, and by which key, comes from the kind's upstream schema (`x-kubernetes-patch-strategy`,
/// `x-kubernetes-patch-merge-key`, Schema/BuiltinSchemas.swift), as kube-apiserver reads it from the Go types' tags;
/// the hand lists below serve only where no schema is known.
enum StrategicMerge {
    /// Merge keys by field name, from the `patchMergeKey` tags of k8s.io/api (core/v1, apps/v1): only for a kind
    /// served without a vendored schema (BuiltinSchemaTests fails for one), where no finer rule is known.
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name",
        "env": "name", "ports": "containerPort", "volumeMounts": "mountPath", "volumeDevices": "devicePath",
        "imagePullSecrets": "name", "hostAliases": "ip", "conditions": "type", "ownerReferences": "uid",
        "tolerations": "key", "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
        "readinessGates": "conditionType", "addresses": "type", "taints": "key", "images": "names",
        "containerStatuses": "name", "initContainerStatuses": "name", "podIPs": "ip", "hostIPs": "ip",
        "subsets": "", "envFrom": "",
    ]
    /// Lists of primitives with `patchStrategy:"merge"` (union instead of replace).
    static let mergedPrimitiveLists: Set<String> = ["finalizers"]

    /// `definition`: the kind's schema (`io.k8s.api.core.v1.Pod`); nil, the hand lists.
    static func apply(_ patch: JSONValue, to target: JSONValue, definition: String? = nil) throws(JSONPatch.Failure) -> JSONValue {
        let schema = definition.map { BuiltinSchemas.vendored.resolve(["$ref": .string("#/components/schemas/" + $0)]).schema }
        return try merge(patch, into: target, field: "", schema: schema)
    }

    /// How a field of an object merges: from the object's schema when known, else from the hand lists by name.
    struct FieldStrategy {
        var merge = false
        var key: String? = nil
        /// `x-kubernetes-patch-strategy: replace` (a PodDisruptionBudget's selector): the value replaces, never merges.
        var replace = false
    }

    static func strategy(_ field: String, in parent: JSONValue?) -> FieldStrategy {
        guard let parent else {
            if mergedPrimitiveLists.contains(field) { return FieldStrategy(merge: true) }
            if let key = mergeKeys[field], !key.isEmpty { return FieldStrategy(merge: true, key: key) }
            return FieldStrategy()
        }
        let property = parent[path: "properties", field]
        let strategies = property?["x-kubernetes-patch-strategy"]?.stringValue?.split(separator: ",") ?? []
        return FieldStrategy(merge: strategies.contains("merge"), key: property?["x-kubernetes-patch-merge-key"]?.stringValue,
                             replace: strategies.contains("replace"))
    }

    /// The schema of a field's value (a property, or a map's values), its reference followed; nil when unknown.
    static func childSchema(_ field: String, in parent: JSONValue?) -> JSONValue? {
        guard let parent else { return nil }
        if let property = parent[path: "properties", field] { return BuiltinSchemas.vendored.resolve(property).schema }
        if let values = parent["additionalProperties"], values.objectValue != nil { return BuiltinSchemas.vendored.resolve(values).schema }
        return nil
    }

    static func merge(_ patch: JSONValue, into target: JSONValue, field: String, schema: JSONValue? = nil) throws(JSONPatch.Failure) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        if p["$patch"]?.stringValue == "replace" {
            var copy = p
            copy["$patch"] = nil
            return .object(copy)
        }
        if p["$patch"]?.stringValue == "delete" { return .null }
        var result = target.objectValue ?? [:]
        if let retain = p["$retainKeys"]?.arrayValue?.compactMap(\.stringValue) {
            for key in result.keys where !retain.contains(key) { result[key] = nil }
        }
        for (key, value) in p {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" || key == "$patch" { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let name = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let drop = value.arrayValue ?? []
                if let list = result[name]?.arrayValue { result[name] = .array(list.filter { !drop.contains($0) }) }
                continue
            }
            if value.isNull { result[key] = nil; continue }
            let existing = result[key] ?? .null
            switch value {
            case .object where strategy(key, in: schema).replace:
                result[key] = try merge(value, into: .emptyObject, field: key, schema: childSchema(key, in: schema))
            case .object:
                let merged = try merge(value, into: existing, field: key, schema: childSchema(key, in: schema))
                if merged.isNull { result[key] = nil } else { result[key] = merged }
            case .array(let items):
                result[key] = try mergeList(items, into: existing.arrayValue ?? [], field: key, parent: schema)
            default:
                result[key] = value
            }
        }
        return .object(result)
    }

    static func mergeList(_ items: [JSONValue], into existing: [JSONValue], field: String, parent: JSONValue?) throws(JSONPatch.Failure) -> JSONValue {
        let rule = strategy(field, in: parent)
        guard rule.merge else { return .array(items) }
        guard let key = rule.key, !key.isEmpty else {
            var out = existing
            for item in items where !out.contains(item) { out.append(item) }
            return .array(out)
        }
        let elementSchema = childSchema(field, in: parent)?["items"].map { BuiltinSchemas.vendored.resolve($0).schema }
        // A `$patch: replace` element replaces the whole list.
        if items.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(items.filter { $0["$patch"]?.stringValue != "replace" })
        }
        var out = existing
        for item in items {
            guard item.objectValue != nil else { out.append(item); continue }
            let id = item[key]
            let index = out.firstIndex { $0[key] == id && id != nil }
            if item["$patch"]?.stringValue == "delete" {
                if let index { out.remove(at: index) }
                continue
            }
            if let index {
                out[index] = try merge(item, into: out[index], field: field, schema: elementSchema)
            } else {
                var clean = item
                clean["$patch"] = nil
                out.append(try merge(clean, into: .emptyObject, field: field, schema: elementSchema))
            }
        }
        return .array(out)
    }
}
