import KubeCore

/// How a write changes `metadata.managedFields`.
enum FieldTracking: Sendable {
    /// In-process writers (the simulation): the entries as the object carries them, else as stored.
    case keep
    /// A create, update or patch through the API by this field manager (operation Update).
    case update(manager: String)
    /// Server-side apply: the entries it worked out (Apply.swift).
    case applied([ManagedFieldsEntry])
}

extension ObjectStore {
    /// The object typed for ownership by its kind's schema (TypedFields).
    func typedFields(_ info: ResourceInfo, _ obj: JSONValue, scope: UpdateScope) -> TypedFields {
        let schema: JSONValue?
        if info.isCustom {
            schema = fieldSchemas["\(info.resourceKey)/\(info.version)"]
        } else {
            schema = BuiltinSchemas.vendored.definitionName(info).map {
                BuiltinSchemas.vendored.resolve(["$ref": .string("#/components/schemas/" + $0)]).schema
            }
        }
        let part: TypedFields.OwnedPart = scope == .status ? .status : info.hasStatus ? .main : .all
        return TypedFields(obj, schema: schema, builtin: !info.isCustom, part: part)
    }

    /// Sets the managedFields of an object about to be stored (`old`: the stored one, nil on create).
    func trackFields(_ info: ResourceInfo, _ obj: inout JSONValue, old: JSONValue?, scope: UpdateScope, _ tracking: FieldTracking) {
        switch tracking {
        case .keep:
            if obj[path: "metadata", "managedFields"] == nil { obj[path: "metadata", "managedFields"] = old?[path: "metadata", "managedFields"] }
        case .applied(let entries):
            ManagedFields.write(ManagedFields.capUpdateManagers(entries), into: &obj)
        case .update(let manager):
            let base = ManagedFields.base(request: obj, live: old, subresource: scope == .status)
            let entries = ManagedFields.recordUpdate(base, manager: manager, apiVersion: info.apiVersion,
                                                     subresource: scope == .status ? "status" : "",
                                                     old: old.map { typedFields(info, $0, scope: scope) },
                                                     new: typedFields(info, obj, scope: scope))
            ManagedFields.write(ManagedFields.capUpdateManagers(entries), into: &obj)
        }
    }
}
