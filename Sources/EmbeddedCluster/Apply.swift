import Foundation
import KubeCore

/// Server-side apply (https://kubernetes.io/docs/reference/using-api/server-side-apply/) over the object's own
/// `metadata.managedFields` (ManagedFields/):
/// - the applier's entry (operation Apply) holds exactly the fields of its applied configuration;
/// - a field another manager owns whose value the apply adds or changes is a 409 conflict unless `force=true`,
///   which takes it from them;
/// - fields the manager applied before but omits now are removed unless another manager owns them (or a field
///   under them);
/// - non-apply writes (POST, PUT, PATCH) record Update entries (ObjectStore+ManagedFields.swift).
/// The merge itself is a strategic merge (built-ins) or a JSON merge (custom resources) of the applied
/// configuration over the live object.
extension ObjectStore {
    /// `check` validates the merged object (custom resource schemas) before it is written.
    func apply(_ info: ResourceInfo, namespace: String?, name: String, patch: JSONValue, manager: String,
               force: Bool, scope: UpdateScope, dryRun: Bool,
               check: (@Sendable (inout JSONValue, JSONValue?) throws(APIStatusError) -> Void)? = nil) throws(APIStatusError) -> (JSONValue, created: Bool) {
        var intent = patch
        intent["apiVersion"] = .string(info.storageAPIVersion)
        intent["kind"] = .string(info.kind)
        intent.name = name
        if info.namespaced { intent.namespace = namespace }
        var mine = ManagedFieldsEntry(manager: manager, operation: ManagedFieldsEntry.apply, apiVersion: info.apiVersion,
                                      subresource: scope == .status ? "status" : "", time: ManagedFields.now(),
                                      fields: typedFields(info, intent, scope: scope).members)
        guard let current = get(info.resourceKey, namespace: namespace, name: name) else {
            guard scope != .status else { throw .notFound(info.qualifiedName, name, group: info.group, kind: info.plural) }
            try check?(&intent, nil)
            return (try create(info, intent, scope: .main, dryRun: dryRun, tracking: .applied([mine])), true)
        }
        var entries = ManagedFields.decode(current) ?? []
        let previous = entries.first { $0.sameManager(as: mine) }
        // Merge the intent over the live object.
        var merged: JSONValue
        var patchBody = intent
        patchBody[path: "metadata", "resourceVersion"] = nil
        if info.supportsStrategicMerge {
            merged = (try? StrategicMerge.apply(patchBody, to: current, definition: BuiltinSchemas.vendored.definitionName(info)))
                ?? MergePatch.apply(patchBody, to: current)
        } else {
            merged = MergePatch.apply(patchBody, to: current)
        }
        // Conflicts: fields another manager owns that this apply adds or changes. kubectl's last-applied
        // annotation is bookkeeping of client-side apply, not a field users fight over.
        let (added, modified, _) = TypedFields.compare(typedFields(info, current, scope: scope), typedFields(info, merged, scope: scope))
        let changed = added.union(modified)
        let lastApplied: OwnedPath = [.field("metadata"), .field("annotations"), .field("kubectl.kubernetes.io/last-applied-configuration")]
        var conflicts: [(manager: String, path: OwnedPath)] = []
        for (i, e) in entries.enumerated() where !e.sameManager(as: mine) {
            let taken = e.fields.intersection(changed).members.filter { $0 != lastApplied }
            conflicts += taken.map { (manager: e.manager, path: $0) }
            entries[i].fields = e.fields.subtracting(FieldSet(members: Set(taken)))
        }
        if !conflicts.isEmpty && !force && !upgradesClientSideApply(info, current, manager: manager, conflicts: conflicts.map(\.path), scope: scope) {
            throw Self.applyConflict(conflicts, info, name: name)
        }
        // Drop what this manager applied before and no longer applies, unless someone (this apply included) still
        // owns it or a field under it.
        let owners = entries.filter { !$0.sameManager(as: mine) } + [mine]
        let dropped = (previous?.fields ?? FieldSet()).subtracting(mine.fields).members.sorted { $0.count > $1.count }
        for path in dropped where !owners.contains(where: { $0.fields.touches(path) }) {
            merged.remove(fieldPath: path)
        }
        // A no-op apply keeps its entry's time, so nothing is written (no new resourceVersion).
        if let previous, previous.fields == mine.fields, conflicts.isEmpty, Self.sameIgnoringManagedFields(merged, current) {
            mine.time = previous.time
        }
        entries.removeAll { $0.sameManager(as: mine) }
        entries.append(mine)
        if let rv = patch.resourceVersion, !rv.isEmpty { merged.resourceVersion = rv } else { merged.resourceVersion = current.resourceVersion }
        try check?(&merged, current)
        return (try update(info, merged, scope: scope, dryRun: dryRun, tracking: .applied(entries)), false)
    }

    /// fieldmanager's lastAppliedManager: kubectl's first server-side apply of an object it applied client-side
    /// takes over, without conflict, the fields its last-applied annotation names.
    func upgradesClientSideApply(_ info: ResourceInfo, _ live: JSONValue, manager: String, conflicts: [OwnedPath], scope: UpdateScope) -> Bool {
        guard manager == "kubectl", let text = live.annotations["kubectl.kubernetes.io/last-applied-configuration"],
              let lastApplied = try? JSONValue.parse(text), lastApplied.objectValue != nil else { return false }
        let allowed = typedFields(info, lastApplied, scope: scope).members
        return conflicts.allSatisfy(allowed.contains)
    }

    static func sameIgnoringManagedFields(_ a: JSONValue, _ b: JSONValue) -> Bool {
        var x = a, y = b
        x[path: "metadata", "managedFields"] = nil
        y[path: "metadata", "managedFields"] = nil
        return x == y
    }

    static func applyConflict(_ found: [(manager: String, path: OwnedPath)], _ info: ResourceInfo, name: String) -> APIStatusError {
        let conflicts = found.map { ($0.manager, $0.path.described) }.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        let byManager = Dictionary(grouping: conflicts, by: \.0)
        let message: String
        if conflicts.count == 1 {
            message = "Apply failed with 1 conflict: conflict with \"\(conflicts[0].0)\" using \(info.apiVersion): \(conflicts[0].1)"
        } else {
            let parts = byManager.keys.sorted().map { m in
                "conflicts with \"\(m)\" using \(info.apiVersion):\n" + (byManager[m] ?? []).map { "- \($0.1)" }.joined(separator: "\n")
            }
            message = "Apply failed with \(conflicts.count) conflicts: " + parts.joined(separator: "\n")
        }
        return APIStatusError(code: 409, reason: "Conflict", message: message, name: name, group: info.group, kind: info.plural,
                              causes: conflicts.map { .init(field: $0.1, reason: "FieldManagerConflict",
                                                             message: "conflict with \"\($0.0)\" using \(info.apiVersion)") })
    }
}

extension APIServer {
    func apply(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String, patch: JSONValue, scope: UpdateScope) async throws -> APIResponse {
        guard let manager = req.query["fieldManager"], !manager.isEmpty else {
            throw APIStatusError.badRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        }
        guard patch.objectValue != nil else { throw APIStatusError.badRequest("the apply patch must be an object") }
        // fieldmanager refuses an applied configuration that carries ownership itself.
        if patch[path: "metadata", "managedFields"] != nil { throw APIStatusError.badRequest("metadata.managedFields must be nil") }
        var intent = patch
        if let bodyName = intent.name, bodyName != name {
            throw APIStatusError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        intent.name = name
        if info.namespaced { intent.namespace = namespace }
        try checkAppliedBuiltin(req, info, intent, namespace: namespace, name: name)
        // events.k8s.io/v1: ownership is tracked on the stored core/v1 field names.
        if EventConversion.isEventsV1(info) { intent = EventConversion.toCore(intent) }
        var warnings: [(String, String)] = []
        var check: (@Sendable (inout JSONValue, JSONValue?) throws(APIStatusError) -> Void)? = nil
        if info.isCustom, let schema = await store.schema(for: info) {
            // Unknown fields are judged on the intent; defaults and validation on the merged result.
            warnings = try pruneUnknown(req, info, &intent, schema)
            check = { (obj: inout JSONValue, old: JSONValue?) throws(APIStatusError) in
                try APIServer.defaultAndValidate(info, &obj, old: old, scope: scope, schema)
            }
        }
        // OwnerReferencesPermissionEnforcement judges the merged object against the stored one (nil: a create).
        if scope != .status, let plugin = await ownerReferencesAdmission(req) {
            let validate = check
            check = { (obj: inout JSONValue, old: JSONValue?) throws(APIStatusError) in
                try validate?(&obj, old)
                if let refused = plugin.check(info, subresource: "", new: obj, old: old) { throw refused }
            }
        }
        let (obj, created) = try await store.apply(info, namespace: namespace, name: name, patch: intent, manager: manager,
                                                   force: req.flag("force"), scope: scope, dryRun: req.dryRun, check: check)
        return .json(present(obj, info, await readSchema(info)), status: created ? 201 : 200, headers: warnings)
    }

    /// The field manager of a non-apply write: `fieldManager`, else the User-Agent's program name as
    /// kube-apiserver's prefixFromUserAgent takes it (up to the first `/`, printable characters, at most 128 bytes).
    func manager(_ req: APIRequest) -> String {
        if let m = req.query["fieldManager"], !m.isEmpty { return m }
        var out = ""
        for c in (req.headers["user-agent"] ?? "").prefix(while: { $0 != "/" }) where !c.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            if out.utf8.count >= 128 { break }
            out.append(c)
        }
        return out
    }
}
