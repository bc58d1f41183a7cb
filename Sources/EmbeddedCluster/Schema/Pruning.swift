import KubeCore

/// Removal of fields the schema does not specify (apiextensions schema/pruning/algorithm.go), returning the
/// removed paths in kube's spelling (`spec.foo`, `spec.list[0].bar`), sorted, for `fieldValidation=Strict|Warn`.
enum Pruner {
    /// Fields of `metav1.ObjectMeta`: the API server decodes `metadata` into it, which drops anything else
    /// (at the root and, via objectmeta.Coerce, in embedded resources).
    static let objectMetaFields: Set<String> = [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
        "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
        "ownerReferences", "finalizers", "managedFields",
    ]
    static let metaFields: Set<String> = ["apiVersion", "kind", "metadata"]

    static func prune(_ x: inout JSONValue, node: SchemaNode?, at path: FieldPath, isRoot: Bool) -> [String] {
        var removed: [String] = []
        // PruneWithOptions: the resource root is treated as an embedded resource.
        prune(&x, node, path, embedded: isRoot || (node?.embeddedResource ?? false), &removed)
        return removed.sorted()
    }

    private static func record(_ p: FieldPath, _ key: String, _ out: inout [String]) {
        let parent = p.openAPI
        out.append(parent.isEmpty ? key : parent + "." + key)
    }

    private static func prune(_ x: inout JSONValue, _ s: SchemaNode?, _ p: FieldPath, embedded: Bool, _ out: inout [String]) {
        if let s, s.preserveUnknownFields {
            skipPrune(&x, s, p, embedded: embedded, &out)
            return
        }
        switch x {
        case .object(var o):
            guard let s else {
                for key in o.keys { record(p, key, &out) }
                x = .emptyObject
                return
            }
            for key in Array(o.keys) {
                guard var value = o[key] else { continue }
                if embedded && metaFields.contains(key) {
                    if key == "metadata" { pruneMetadata(&value, p.child(key), &out) }
                    o[key] = value
                    continue
                }
                if let sub = s.properties[key] {
                    prune(&value, sub, p.child(key), embedded: sub.embeddedResource, &out)
                    o[key] = value
                } else if let sub = s.additionalSchema {
                    prune(&value, sub, p.key(key), embedded: sub.embeddedResource, &out)
                    o[key] = value
                } else if s.additionalProperties != nil {
                    // `additionalProperties: true` has no schema: kube prunes the value with a nil schema, which
                    // keeps scalars and empties objects (algorithm.go prune(v, nil)).
                    prune(&value, nil, p.key(key), embedded: false, &out)
                    o[key] = value
                } else {
                    record(p, key, &out)
                    o[key] = nil
                }
            }
            x = .object(o)
        case .array(var a):
            for i in a.indices {
                prune(&a[i], s?.items, p.index(i), embedded: s?.items?.embeddedResource ?? false, &out)
            }
            x = .array(a)
        default:
            break
        }
    }

    /// Under x-kubernetes-preserve-unknown-fields unknown fields stay, but specified ones are still pruned inside.
    private static func skipPrune(_ x: inout JSONValue, _ s: SchemaNode, _ p: FieldPath, embedded: Bool, _ out: inout [String]) {
        switch x {
        case .object(var o):
            for key in Array(o.keys) {
                guard var value = o[key] else { continue }
                if embedded && metaFields.contains(key) {
                    if key == "metadata" { pruneMetadata(&value, p.child(key), &out) }
                } else if let sub = s.properties[key] {
                    prune(&value, sub, p.child(key), embedded: sub.embeddedResource, &out)
                } else if s.additionalProperties != nil {
                    let sub = s.additionalSchema
                    prune(&value, sub, p.key(key), embedded: sub?.embeddedResource ?? false, &out)
                }
                o[key] = value
            }
            x = .object(o)
        case .array(var a):
            if let items = s.items {
                for i in a.indices {
                    skipPrune(&a[i], items, p.index(i), embedded: items.embeddedResource, &out)
                }
            }
            x = .array(a)
        default:
            break
        }
    }

    private static func pruneMetadata(_ x: inout JSONValue, _ p: FieldPath, _ out: inout [String]) {
        guard case .object(var o) = x else { return }
        for key in Array(o.keys) where !objectMetaFields.contains(key) {
            record(p, key, &out)
            o[key] = nil
        }
        x = .object(o)
    }
}
