import KubeCore

/// Strategic merge patch for the built-in kinds we serve
/// (https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/): like a JSON merge
/// patch, except that lists with a merge key merge element by element, lists of primitives marked `merge` union,
/// and the directives `$patch: delete|replace`, `$retainKeys`, `$setElementOrder/<field>` and
/// `$deleteFromPrimitiveList/<field>` are honoured (ordering directives are accepted and ignored).
enum StrategicMerge {
    /// Merge keys by field name, from the `patchMergeKey` tags of k8s.io/api (core/v1, apps/v1).
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

    static func apply(_ patch: JSONValue, to target: JSONValue) throws(JSONPatch.Failure) -> JSONValue {
        try merge(patch, into: target, field: "")
    }

    static func merge(_ patch: JSONValue, into target: JSONValue, field: String) throws(JSONPatch.Failure) -> JSONValue {
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
            case .object:
                let merged = try merge(value, into: existing, field: key)
                if merged.isNull { result[key] = nil } else { result[key] = merged }
            case .array(let items):
                result[key] = try mergeList(items, into: existing.arrayValue ?? [], field: key)
            default:
                result[key] = value
            }
        }
        return .object(result)
    }

    static func mergeList(_ items: [JSONValue], into existing: [JSONValue], field: String) throws(JSONPatch.Failure) -> JSONValue {
        if mergedPrimitiveLists.contains(field) {
            var out = existing
            for item in items where !out.contains(item) { out.append(item) }
            return .array(out)
        }
        guard let key = mergeKeys[field], !key.isEmpty else { return .array(items) }
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
                out[index] = try merge(item, into: out[index], field: field)
            } else {
                var clean = item
                clean["$patch"] = nil
                out.append(try merge(clean, into: .emptyObject, field: field))
            }
        }
        return .array(out)
    }
}
