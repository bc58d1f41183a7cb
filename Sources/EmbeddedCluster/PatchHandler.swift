import Foundation
import KubeCore

/// PATCH for every patch type (API-SEMANTICS rule 12). The patch is applied to the stored object inside the
/// store actor, so it cannot race another writer (kube-apiserver retries its GuaranteedUpdate the same way).
extension APIServer {
    static let patchTypesCustom = ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"]
    static let patchTypesBuiltin = patchTypesCustom + ["application/strategic-merge-patch+json"]

    func patch(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String, scope: UpdateScope, retries: Int = 5) async throws -> APIResponse {
        let type = req.contentType
        let accepted = info.supportsStrategicMerge ? Self.patchTypesBuiltin : Self.patchTypesCustom
        guard accepted.contains(type) else { throw APIStatusError.unsupportedMediaType(type, accepted: accepted) }
        let patch = try parseBody(req)
        if type == "application/apply-patch+yaml" {
            return try await apply(req, info, namespace: namespace, name: name, patch: patch, scope: scope)
        }
        let current = await store.get(info.resourceKey, namespace: namespace, name: name)
        guard let current else {
            throw APIStatusError.notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        var patched: JSONValue
        var decodeWarnings: [(String, String)] = []
        // The patch names the fields of the version it was sent to (events.k8s.io/v1 Events are stored as core/v1),
        // and applies to the object as read (a custom resource with its CRD's current defaults).
        let schema = await readSchema(info)
        let view = EventConversion.isEventsV1(info) || schema != nil ? present(current, info, schema) : current
        do {
            switch type {
            case "application/json-patch+json": patched = try JSONPatch.apply(patch, to: view)
            case "application/merge-patch+json":
                guard patch.objectValue != nil else { throw APIStatusError.badRequest("the patch must be a JSON object") }
                patched = MergePatch.apply(patch, to: view)
            default:
                guard patch.objectValue != nil else { throw APIStatusError.badRequest("the patch must be a JSON object") }
                patched = try StrategicMerge.apply(patch, to: view, definition: BuiltinSchemas.vendored.definitionName(info))
            }
            // Decoded in the version the patch was sent to, before an events.k8s.io Event becomes a core one.
            decodeWarnings = try decodePatchedBuiltin(req, info, &patched, current: view, patch: patch)
            if EventConversion.isEventsV1(info) { patched = EventConversion.toCore(patched) }
        } catch {
            if let f = error as? JSONPatch.Failure { throw APIStatusError(code: 422, reason: "Invalid", message: f.message) }
            throw error
        }
        // A patch may carry a resourceVersion precondition; otherwise it applies to what we read.
        if patched.resourceVersion == nil || patched.resourceVersion == "" { patched.resourceVersion = current.resourceVersion }
        if patched.name != name || (info.namespaced && patched.namespace != namespace) {
            throw APIStatusError.badRequest("metadata.name: Invalid value: the name of the object does not match the name on the URL")
        }
        let warnings = try await decodeWarnings + admit(req, info, &patched, old: schema != nil ? view : current, scope: scope)
        try await admitOwnerReferences(req, info, scope: scope, new: patched, old: current)
        let result: Result<JSONValue, APIStatusError> = await store.updateResult(info, patched, scope: scope, dryRun: req.dryRun,
                                                                                 tracking: .update(manager: manager(req)))
        switch result {
        case .success(let updated):
            return .json(present(updated, info, schema), headers: warnings)
        case .failure(let e):
            // Someone wrote between our read and write: retry on fresh data, like GuaranteedUpdate.
            if e.code == 409, e.reason == "Conflict", patch.resourceVersion == nil, retries > 0 {
                return try await self.patch(req, info, namespace: namespace, name: name, scope: scope, retries: retries - 1)
            }
            throw e
        }
    }

    /// Validation, defaulting and pruning of custom resources; `fieldValidation` handling for unknown fields.
    /// Answers `Warning` headers for fieldValidation=Warn.
    func admit(_ req: APIRequest, _ info: ResourceInfo, _ obj: inout JSONValue, old: JSONValue?, scope: UpdateScope) async throws -> [(String, String)] {
        guard info.isCustom, let schema = await store.schema(for: info) else { return [] }
        let warnings = try pruneUnknown(req, info, &obj, schema)
        try Self.defaultAndValidate(info, &obj, old: old, scope: scope, schema)
        return warnings
    }

    /// Prunes unknown fields; under fieldValidation=Strict they are an error (kube-apiserver answers 400
    /// `strict decoding error: unknown field "spec.foo"`), under Warn (the default) a `Warning` header.
    func pruneUnknown(_ req: APIRequest, _ info: ResourceInfo, _ obj: inout JSONValue, _ schema: any CustomResourceSchema) throws -> [(String, String)] {
        let removed = schema.prune(&obj)
        return try unknownFields(removed, req, info) { detail in
            let causes = removed.map { APIStatusError.Cause(field: $0, reason: "FieldValueInvalid", message: "unknown field \"\($0)\"") }
            return APIStatusError(code: 400, reason: "BadRequest",
                                  message: "\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): strict decoding error: " + detail,
                                  causes: causes)
        }
    }

    /// Defaults, then validates (422 Invalid naming each field) what the write would store, as the resource's
    /// strategy does after PrepareForCreate/PrepareForUpdate: with a status subresource, the main resource keeps
    /// the stored status (none on create) and `/status` keeps the stored spec and metadata, and judges only the
    /// status against the schema. `scope: .all` (internal writers, scale) judges the object as given.
    static func defaultAndValidate(_ info: ResourceInfo, _ obj: inout JSONValue, old: JSONValue?, scope: UpdateScope = .all,
                                   _ schema: any CustomResourceSchema) throws(APIStatusError) {
        schema.applyDefaults(to: &obj)
        let errors: [APIStatusError.Cause]
        switch scope {
        case .status:
            guard let old else { throw .notFound(info.qualifiedName, obj.name ?? "", group: info.group, kind: info.plural) }
            var stored = old
            stored["status"] = obj["status"]
            errors = schema.validateStatus(stored, old: old)
        case .main where info.hasStatus:
            var stored = obj
            stored["status"] = old?["status"]
            errors = schema.validate(stored, old: old)
        case .main, .all:
            errors = schema.validate(obj, old: old)
        }
        if !errors.isEmpty {
            throw APIStatusError.invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: errors)
        }
    }
}
