import Foundation
import KubeCore

/// Validation, defaulting and pruning of custom resources from a CRD's `openAPIV3Schema`.
/// Implemented by Schema/ (StructuralSchema); kept behind this protocol so wiring it in is one line
/// (`makeCustomResourceSchema`).
protocol CustomResourceSchema: Sendable {
    /// `old` is the stored object on updates (transition rules, ratcheting).
    func validate(_ object: JSONValue, old: JSONValue?) -> [APIStatusError.Cause]
    /// A `/status` write: `object` as it would be stored (the stored spec, the written status).
    func validateStatus(_ object: JSONValue, old: JSONValue) -> [APIStatusError.Cause]
    func applyDefaults(to object: inout JSONValue)
    /// Removes unknown fields; answers the removed paths (e.g. `spec.foo`).
    func prune(_ object: inout JSONValue) -> [String]
}

/// Builds the schema checker for one CRD version (a schema StructuralSchema refuses never gets here: the CRD
/// itself is rejected by `validateCRD`).
func makeCustomResourceSchema(_ openAPIV3Schema: JSONValue) -> (any CustomResourceSchema)? {
    guard let schema = try? StructuralSchema(json: openAPIV3Schema) else { return FallbackPruningSchema(openAPIV3Schema) }
    return StructuralSchemaChecker(schema: schema)
}

/// Schema/ (StructuralSchema): kube-apiserver's apiextensions validation, defaulting and pruning.
struct StructuralSchemaChecker: CustomResourceSchema {
    let schema: StructuralSchema
    func validate(_ object: JSONValue, old: JSONValue?) -> [APIStatusError.Cause] {
        let errors = old.map { schema.validateUpdate(object, old: $0) } ?? schema.validate(object)
        return errors.map { APIStatusError.Cause(field: $0.field, reason: $0.reason, message: $0.message) }
    }
    func validateStatus(_ object: JSONValue, old: JSONValue) -> [APIStatusError.Cause] {
        schema.validateStatusUpdate(object, old: old).map { APIStatusError.Cause(field: $0.field, reason: $0.reason, message: $0.message) }
    }
    func applyDefaults(to object: inout JSONValue) { schema.applyDefaults(to: &object) }
    func prune(_ object: inout JSONValue) -> [String] { schema.prune(&object) }
}

/// Last resort for a schema that could not be loaded: prunes fields not declared under `properties` (honouring
/// `x-kubernetes-preserve-unknown-fields` and `additionalProperties`) and validates nothing else.
struct FallbackPruningSchema: CustomResourceSchema {
    let schema: JSONValue
    init(_ schema: JSONValue) { self.schema = schema }

    func validate(_ object: JSONValue, old: JSONValue?) -> [APIStatusError.Cause] { [] }
    func validateStatus(_ object: JSONValue, old: JSONValue) -> [APIStatusError.Cause] { [] }
    func applyDefaults(to object: inout JSONValue) {}

    func prune(_ object: inout JSONValue) -> [String] {
        var removed: [String] = []
        for top in ["spec", "status"] where object[top] != nil {
            guard let sub = schema[path: "properties", top] else { continue }
            var v = object[top] ?? .null
            Self.prune(&v, sub, path: top, removed: &removed)
            object[top] = v
        }
        // Unknown top-level fields (besides apiVersion/kind/metadata) are pruned too.
        if let props = schema["properties"]?.objectValue, schema["x-kubernetes-preserve-unknown-fields"]?.boolValue != true,
           let o = object.objectValue {
            for key in o.keys where !["apiVersion", "kind", "metadata"].contains(key) && props[key] == nil {
                object[key] = nil
                removed.append(key)
            }
        }
        return removed.sorted()
    }

    static func prune(_ value: inout JSONValue, _ schema: JSONValue, path: String, removed: inout [String]) {
        if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true { return }
        switch value {
        case .object(var o):
            if let props = schema["properties"]?.objectValue {
                for key in o.keys.sorted() {
                    if let sub = props[key] {
                        var child = o[key] ?? .null
                        prune(&child, sub, path: "\(path).\(key)", removed: &removed)
                        o[key] = child
                    } else if schema["additionalProperties"] == nil {
                        o[key] = nil
                        removed.append("\(path).\(key)")
                    }
                }
            } else if let add = schema["additionalProperties"], add.objectValue != nil {
                for key in o.keys.sorted() {
                    var child = o[key] ?? .null
                    prune(&child, add, path: "\(path).\(key)", removed: &removed)
                    o[key] = child
                }
            }
            value = .object(o)
        case .array(var a):
            if let items = schema["items"] {
                for i in a.indices { prune(&a[i], items, path: "\(path)[\(i)]", removed: &removed) }
            }
            value = .array(a)
        default:
            break
        }
    }
}

/// Serving custom resources from CustomResourceDefinitions (apiextensions.k8s.io/v1): a CRD's kinds are served as
/// soon as it is stored; its status carries `NamesAccepted` and `Established` (what `kubectl wait` checks).
extension ObjectStore {
    func validateCRD(_ crd: JSONValue) throws(APIStatusError) {
        let name = crd.name ?? ""
        var causes: [APIStatusError.Cause] = []
        let group = crd[path: "spec", "group"]?.stringValue ?? ""
        let plural = crd[path: "spec", "names", "plural"]?.stringValue ?? ""
        if group.isEmpty { causes.append(.required("spec.group")) }
        if plural.isEmpty { causes.append(.required("spec.names.plural")) }
        if crd[path: "spec", "names", "kind"]?.stringValue?.isEmpty ?? true { causes.append(.required("spec.names.kind")) }
        let scope = crd[path: "spec", "scope"]?.stringValue ?? ""
        if scope != "Namespaced" && scope != "Cluster" {
            causes.append(.init(field: "spec.scope", reason: "FieldValueNotSupported",
                                message: "Unsupported value: \"\(scope)\": supported values: \"Cluster\", \"Namespaced\""))
        }
        let versions = crd[path: "spec", "versions"]?.arrayValue ?? []
        if versions.isEmpty { causes.append(.required("spec.versions")) }
        let storage = versions.filter { $0["storage"]?.boolValue == true }.count
        if !versions.isEmpty && storage != 1 {
            causes.append(.invalid("spec.versions", "[]apiextensions.CustomResourceDefinitionVersion{...}",
                                   "must have exactly one version marked as storage version"))
        }
        for (i, version) in versions.enumerated() {
            guard let schema = version[path: "schema", "openAPIV3Schema"] else { continue }
            do {
                _ = try StructuralSchema(json: schema)
            } catch {
                causes.append(.init(field: "spec.versions[\(i)].schema.openAPIV3Schema", reason: "FieldValueInvalid",
                                    message: "Invalid value: \(error.path): \(error.message)"))
            }
        }
        if !group.isEmpty, !plural.isEmpty, name != "\(plural).\(group)" {
            causes.append(.invalid("metadata.name", "\"\(name)\"", "must be spec.names.plural+\".\"+spec.group"))
        }
        if !causes.isEmpty {
            throw .invalid(kind: "CustomResourceDefinition", group: "apiextensions.k8s.io", name: name, causes: causes)
        }
    }

    func crdStatus(_ crd: JSONValue) -> JSONValue {
        let now = JSONValue.string(Timestamp.format(Date()))
        func condition(_ type: String, _ reason: String, _ message: String) -> JSONValue {
            ["type": .string(type), "status": "True", "reason": .string(reason), "message": .string(message),
             "lastTransitionTime": now]
        }
        let storage = (crd[path: "spec", "versions"]?.arrayValue ?? []).first { $0["storage"]?.boolValue == true }?["name"]
        var stored = crd[path: "status", "storedVersions"]?.arrayValue ?? []
        if let storage, !stored.contains(storage) { stored.append(storage) }
        // Keep transition times of conditions that stay True.
        let old = crd[path: "status", "conditions"]?.arrayValue ?? []
        func keep(_ c: JSONValue) -> JSONValue {
            if let prior = old.first(where: { $0["type"] == c["type"] && $0["status"] == c["status"] }) {
                var c = c
                c["lastTransitionTime"] = prior["lastTransitionTime"]
                return c
            }
            return c
        }
        return [
            "conditions": [
                keep(condition("NamesAccepted", "NoConflicts", "no conflicts found")),
                keep(condition("Established", "InitialNamesAccepted", "the initial names have been accepted")),
            ],
            "acceptedNames": crd[path: "spec", "names"] ?? .emptyObject,
            "storedVersions": .array(stored),
        ]
    }

    /// Registers (or re-registers) the served versions of a CRD.
    func crdChanged(_ crd: JSONValue, old: JSONValue?) {
        if let old { unregister(old) }
        guard crd.deletionTimestamp == nil || true else { return }
        let spec = crd["spec"] ?? .emptyObject
        let group = spec["group"]?.stringValue ?? ""
        let names = spec["names"] ?? .emptyObject
        for version in spec["versions"]?.arrayValue ?? [] where version["served"]?.boolValue ?? true {
            guard let vname = version["name"]?.stringValue, let kind = names["kind"]?.stringValue,
                  let plural = names["plural"]?.stringValue else { continue }
            var subresources: [String] = []
            if version[path: "subresources", "status"] != nil { subresources.append("status") }
            if version[path: "subresources", "scale"] != nil { subresources.append("scale") }
            let columns = (version["additionalPrinterColumns"]?.arrayValue ?? []).compactMap { c -> PrinterColumn? in
                guard let n = c["name"]?.stringValue, let p = c["jsonPath"]?.stringValue else { return nil }
                return PrinterColumn(name: n, type: c["type"]?.stringValue ?? "string", jsonPath: p,
                                     description: c["description"]?.stringValue ?? "",
                                     priority: Int(c["priority"]?.intValue ?? 0), format: c["format"]?.stringValue ?? "")
            }
            var info = ResourceInfo(
                group: group, version: vname, kind: kind, plural: plural,
                singular: names["singular"]?.stringValue ?? kind.lowercased(),
                namespaced: spec["scope"]?.stringValue != "Cluster",
                shortNames: names["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                categories: names["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                subresources: subresources, printerColumns: columns, isCustom: true,
                scaleSpecReplicasPath: version[path: "subresources", "scale", "specReplicasPath"]?.stringValue,
                scaleStatusReplicasPath: version[path: "subresources", "scale", "statusReplicasPath"]?.stringValue,
                scaleLabelSelectorPath: version[path: "subresources", "scale", "labelSelectorPath"]?.stringValue)
            info.selectableFields = (version["selectableFields"]?.arrayValue ?? []).compactMap {
                $0["jsonPath"]?.stringValue.map { String($0.drop { $0 == "." }) }
            }
            served[Self.servedKey(info)] = info
            if let schema = version[path: "schema", "openAPIV3Schema"] {
                schemas["\(info.resourceKey)/\(vname)"] = makeCustomResourceSchema(schema)
                fieldSchemas["\(info.resourceKey)/\(vname)"] = schema
            }
        }
    }

    func unregister(_ crd: JSONValue) {
        let group = crd[path: "spec", "group"]?.stringValue ?? ""
        let plural = crd[path: "spec", "names", "plural"]?.stringValue ?? ""
        for (key, info) in served where info.isCustom && info.group == group && info.plural == plural {
            served[key] = nil
            schemas["\(info.resourceKey)/\(info.version)"] = nil
            fieldSchemas["\(info.resourceKey)/\(info.version)"] = nil
        }
    }

    /// Deleting a CRD deletes all its custom resources and stops serving them.
    func crdDeleted(_ crd: JSONValue) {
        let group = crd[path: "spec", "group"]?.stringValue ?? ""
        let plural = crd[path: "spec", "names", "plural"]?.stringValue ?? ""
        let key = group.isEmpty ? plural : "\(plural).\(group)"
        for (_, obj) in objects[key] ?? [:] {
            _ = try? commit(.deleted, resource: key, object: obj, old: obj)
        }
        objects[key] = nil
        orderedKeys[key] = nil
        unregister(crd)
    }

    /// Rebuilds the registry from stored CRDs (after loading persisted data).
    func reloadCRDs() {
        for (_, crd) in objects["customresourcedefinitions.apiextensions.k8s.io"] ?? [:] { crdChanged(crd, old: nil) }
    }
}
