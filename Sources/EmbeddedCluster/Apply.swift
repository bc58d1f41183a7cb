import Foundation
import KubeCore

/// Server-side apply (https://kubernetes.io/docs/reference/using-api/server-side-apply/), simplified:
/// - ownership is tracked per manager as a set of leaf field paths (`.spec.replicas`, `.metadata.labels.app`);
///   lists are atomic leaves (no per-element ownership of associative lists), `metadata.managedFields` is not
///   written (it is kept in a side table of the store, lost on restart);
/// - applying takes ownership of the applied leaves; a leaf owned by another manager whose value would change is a
///   409 conflict unless `force=true` (which transfers ownership);
/// - leaves the manager applied before but omits now are removed when no other manager owns them;
/// - other writes (PUT, PATCH) give their `fieldManager` (default: the User-Agent's program name) the leaves they changed.
extension ObjectStore {
    static func leafPaths(_ value: JSONValue, includeStatus: Bool) -> [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        func walk(_ v: JSONValue, _ path: String) {
            if case .object(let o) = v, !o.isEmpty {
                for (k, child) in o { walk(child, "\(path).\(k)") }
            } else {
                out[path] = v
            }
        }
        for (k, v) in value.objectValue ?? [:] {
            switch k {
            case "apiVersion", "kind": continue
            case "status" where !includeStatus: continue
            case "metadata":
                for sub in ["labels", "annotations"] { if let m = v[sub] { walk(m, ".metadata.\(sub)") } }
                if let f = v["finalizers"] { out[".metadata.finalizers"] = f }
                if let o = v["ownerReferences"] { out[".metadata.ownerReferences"] = o }
            default: walk(v, ".\(k)")
            }
        }
        return out
    }

    static func value(at path: String, in obj: JSONValue) -> JSONValue? {
        obj[path: path.split(separator: ".").map(String.init)]
    }

    static func remove(path: String, from obj: inout JSONValue) {
        obj[path: path.split(separator: ".").map(String.init)] = nil
    }

    /// `check` validates the merged object (custom resource schemas) before it is written.
    func apply(_ info: ResourceInfo, namespace: String?, name: String, patch: JSONValue, manager: String,
               force: Bool, scope: UpdateScope, dryRun: Bool,
               check: (@Sendable (inout JSONValue, JSONValue?) throws(APIStatusError) -> Void)? = nil) throws(APIStatusError) -> (JSONValue, created: Bool) {
        var intent = patch
        intent["apiVersion"] = .string(info.storageAPIVersion)
        intent["kind"] = .string(info.kind)
        intent.name = name
        if info.namespaced { intent.namespace = namespace }
        let applied = Self.leafPaths(intent, includeStatus: scope == .status)
        guard let current = get(info.resourceKey, namespace: namespace, name: name) else {
            guard scope != .status else { throw .notFound(info.qualifiedName, name, group: info.group, kind: info.plural) }
            try check?(&intent, nil)
            let created = try create(info, intent, scope: .main, dryRun: dryRun)
            if !dryRun, let uid = created.uid { managers[uid] = [manager: Set(applied.keys)] }
            return (created, true)
        }
        let uid = current.uid ?? ""
        var owners = managers[uid] ?? [:]
        // kubectl upgrades client-side-applied objects on their first server-side apply: the fields of
        // `kubectl-client-side-apply` pass to the applying manager (k8s.io/client-go/util/csaupgrade).
        if let csa = owners["kubectl-client-side-apply"], manager != "kubectl-client-side-apply",
           current.annotations["kubectl.kubernetes.io/last-applied-configuration"] != nil {
            owners[manager, default: []].formUnion(csa)
            owners["kubectl-client-side-apply"] = nil
        }
        // Conflicts: leaves another manager owns whose value would change.
        var conflicts: [(String, String)] = []
        // kubectl's last-applied annotation is bookkeeping of client-side apply, not a field users fight over.
        for (path, value) in applied where Self.value(at: path, in: current) != value && !path.hasSuffix("last-applied-configuration") {
            for (other, fields) in owners where other != manager && fields.contains(path) {
                conflicts.append((other, path))
            }
        }
        if !conflicts.isEmpty && !force {
            conflicts.sort { ($0.0, $0.1) < ($1.0, $1.1) }
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
            throw APIStatusError(code: 409, reason: "Conflict", message: message, name: name, group: info.group, kind: info.plural,
                                 causes: conflicts.map { .init(field: $0.1, reason: "FieldManagerConflict",
                                                                message: "conflict with \"\($0.0)\" using \(info.apiVersion)") })
        }
        // Merge the intent over the live object, then drop leaves this manager no longer applies.
        var merged: JSONValue
        var patchBody = intent
        patchBody[path: "metadata", "resourceVersion"] = nil
        if info.supportsStrategicMerge {
            merged = (try? StrategicMerge.apply(patchBody, to: current, definition: BuiltinSchemas.vendored.definitionName(info)))
                ?? MergePatch.apply(patchBody, to: current)
        } else {
            merged = MergePatch.apply(patchBody, to: current)
        }
        let previous = owners[manager] ?? []
        for path in previous where applied[path] == nil {
            let ownedByOthers = owners.contains { $0.key != manager && $0.value.contains(path) }
            if !ownedByOthers { Self.remove(path: path, from: &merged) }
        }
        if let rv = patch.resourceVersion, !rv.isEmpty { merged.resourceVersion = rv } else { merged.resourceVersion = current.resourceVersion }
        try check?(&merged, current)
        let result = try update(info, merged, scope: scope, dryRun: dryRun)
        if !dryRun {
            for (other, fields) in owners where other != manager {
                owners[other] = fields.subtracting(applied.keys)
                if owners[other]?.isEmpty == true { owners[other] = nil }
            }
            owners[manager] = Set(applied.keys)
            managers[uid] = owners
        }
        return (result, false)
    }

    /// Records the leaves a non-apply write changed as owned by `manager`.
    func recordUpdate(manager: String, old: JSONValue?, new: JSONValue) {
        guard let uid = new.uid else { return }
        let before = old.map { Self.leafPaths($0, includeStatus: false) } ?? [:]
        let after = Self.leafPaths(new, includeStatus: false)
        let changed = Set(after.keys.filter { before[$0] != after[$0] })
        guard !changed.isEmpty || old == nil else { return }
        var owners = managers[uid] ?? [:]
        for (other, fields) in owners where other != manager {
            owners[other] = fields.subtracting(changed)
        }
        owners[manager, default: []].formUnion(old == nil ? Set(after.keys) : changed)
        managers[uid] = owners
    }
}

extension APIServer {
    func apply(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String, patch: JSONValue, scope: UpdateScope) async throws -> APIResponse {
        guard let manager = req.query["fieldManager"], !manager.isEmpty else {
            throw APIStatusError.badRequest("PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
        }
        guard patch.objectValue != nil else { throw APIStatusError.badRequest("the apply patch must be an object") }
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
                try APIServer.defaultAndValidate(info, &obj, old: old, schema)
            }
        }
        let (obj, created) = try await store.apply(info, namespace: namespace, name: name, patch: intent, manager: manager,
                                                   force: req.flag("force"), scope: scope, dryRun: req.dryRun, check: check)
        return .json(present(obj, info, await readSchema(info)), status: created ? 201 : 200, headers: warnings)
    }

    /// The field manager of a non-apply write: `fieldManager`, else the User-Agent's program name (as kube-apiserver).
    func manager(_ req: APIRequest) -> String {
        if let m = req.query["fieldManager"], !m.isEmpty { return m }
        let ua = req.headers["user-agent"] ?? "unknown"
        return String(ua.split(separator: "/").first ?? "unknown")
    }
}
