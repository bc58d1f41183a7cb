import KubeCore

/// OpenAPI v3 documents: enough for kubectl. `kubectl apply` (validation on by default) checks that the PATCH
/// operation of the kind's path lists the `fieldValidation` parameter (kubectl's QueryParamVerifierV3, matching the
/// operation's `x-kubernetes-group-version-kind`), and then validates on the server instead of client-side.
/// Built-in patch operations do not advertise `application/strategic-merge-patch+json`, so kubectl computes
/// strategic merge patches from its compiled-in types (with the real merge keys) rather than from these schemas.
/// Built-in kinds carry their upstream schemas (Schema/BuiltinSchemas.swift), with every definition they reference,
/// so `kubectl explain pod.spec.containers.resources` works; custom resources carry their CRD's.
/// `/openapi/v2` (OpenAPIv2.swift) serves the patch parameters to kubectl 1.27/1.28 and the same definitions.
enum OpenAPI {
    /// A group-version's document and the hash its index entry carries.
    struct Document: Sendable {
        let json: JSONValue
        let hash: String
        init(_ json: JSONValue) {
            self.json = json
            hash = OpenAPI.hash(json)
        }
    }

    /// The documents of the built-in group-versions, built and hashed once, on first request (a few hundred KB of
    /// schemas: not rebuilt for every `kubectl apply`).
    static let builtinDocuments: [String: (plurals: Set<String>, document: Document)] = {
        let grouped = Dictionary(grouping: BuiltinKinds.all, by: OpenAPI.gvPath)
        return grouped.mapValues { (plurals: Set($0.map(\.plural)), document: Document(OpenAPI.document($0, crdSchemas: [:]))) }
    }()

    static func gvPath(_ info: ResourceInfo) -> String { info.group.isEmpty ? "api/\(info.version)" : "apis/\(info.group)/\(info.version)" }

    static func index(_ docs: [String: Document]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        for (path, doc) in docs {
            paths[path] = ["serverRelativeURL": .string("/openapi/v3/\(path)?hash=\(doc.hash)")]
        }
        return ["paths": .object(paths)]
    }

    /// FNV-1a over the serialized document: the hash changes whenever the document does (clients cache by it).
    static func hash(_ doc: JSONValue) -> String {
        var h: UInt64 = 0xcbf29ce484222325
        for b in doc.serializedBytes() { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return String(h, radix: 16, uppercase: true)
    }

    static func schemaName(_ info: ResourceInfo) -> String {
        if let builtin = BuiltinSchemas.vendored.definitionName(info) { return builtin }
        let reversed = info.group.isEmpty ? "io.k8s.api.core" : info.group.split(separator: ".").reversed().joined(separator: ".")
        return "\(reversed).\(info.version).\(info.kind)"
    }

    static func document(_ infos: [ResourceInfo], crdSchemas: [String: JSONValue]) -> JSONValue {
        var paths: [String: JSONValue] = [:]
        var schemas: [String: JSONValue] = [:]
        var builtinRoots: [String] = []
        let queryParams: [JSONValue] = ["fieldValidation", "fieldManager", "dryRun", "force", "pretty"].map {
            ["name": .string($0), "in": "query", "schema": ["type": "string", "uniqueItems": true]]
        }
        for info in infos {
            let gvk: JSONValue = ["group": .string(info.group), "version": .string(info.version), "kind": .string(info.kind)]
            let ref: JSONValue = ["$ref": .string("#/components/schemas/\(schemaName(info))")]
            let body: JSONValue = ["content": ["application/json": ["schema": ref]]]
            let patchBody: JSONValue = ["content": .object(Dictionary(uniqueKeysWithValues:
                ["application/json-patch+json", "application/merge-patch+json", "application/apply-patch+yaml"].map {
                    ($0, ["schema": ["type": "object"]] as JSONValue)
                }))]
            let ok: JSONValue = ["responses": ["200": ["description": "OK", "content": ["application/json": ["schema": ref]]]]]
            func op(_ id: String, _ action: String, _ extra: JSONValue = .emptyObject) -> JSONValue {
                var o = ok
                o["operationId"] = .string(id + info.kind)
                o["x-kubernetes-action"] = .string(action)
                o["x-kubernetes-group-version-kind"] = gvk
                if action != "get" && action != "list" { o["parameters"] = .array(queryParams) }
                for (k, v) in extra.objectValue ?? [:] { o[k] = v }
                return o
            }
            let base = "/" + gvPath(info) + (info.namespaced ? "/namespaces/{namespace}" : "") + "/\(info.plural)"
            paths[base] = ["get": op("list", "list"), "post": op("create", "post", ["requestBody": body]),
                           "parameters": .array(queryParams)]
            paths[base + "/{name}"] = ["get": op("read", "get"), "put": op("replace", "put", ["requestBody": body]),
                                       "patch": op("patch", "patch", ["requestBody": patchBody]), "delete": op("delete", "delete"),
                                       "parameters": .array(queryParams)]
            if info.hasStatus {
                paths[base + "/{name}/status"] = ["get": op("read", "get"), "put": op("replace", "put", ["requestBody": body]),
                                                  "parameters": .array(queryParams)]
            }
            if let builtin = BuiltinSchemas.vendored.definitionName(info) {
                builtinRoots.append(builtin)
                continue
            }
            var schema = crdSchemas[schemaName(info)] ?? ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["x-kubernetes-group-version-kind"] = [gvk]
            var props = schema["properties"]?.objectValue ?? [:]
            props["apiVersion"] = ["type": "string"]
            props["kind"] = ["type": "string"]
            props["metadata"] = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
            schema["properties"] = .object(props)
            schemas[schemaName(info)] = schema
        }
        schemas.merge(BuiltinSchemas.vendored.closure(builtinRoots)) { crd, _ in crd }
        return ["openapi": "3.0.0", "info": ["title": "Kubernetes", "version": "v1.32.0"], "paths": .object(paths),
                "components": ["schemas": .object(schemas)]]
    }
}

extension ObjectStore {
    /// All OpenAPI v3 documents keyed by `api/v1` / `apis/g/v`.
    func openAPIDocuments() -> [String: OpenAPI.Document] {
        let crdSchemas = crdSchemas()
        let grouped = Dictionary(grouping: servedResources(), by: OpenAPI.gvPath)
        return grouped.reduce(into: [:]) { docs, entry in
            let (path, infos) = entry
            if let builtin = OpenAPI.builtinDocuments[path], !infos.contains(where: \.isCustom),
               builtin.plurals == Set(infos.map(\.plural)) {
                docs[path] = builtin.document
            } else {
                docs[path] = OpenAPI.Document(OpenAPI.document(infos, crdSchemas: crdSchemas))
            }
        }
    }

    /// `/openapi/v2`: every served kind, built-in and custom.
    func openAPIv2Document() -> [UInt8] {
        OpenAPIv2.document(servedResources(), crdSchemas: crdSchemas())
    }

    /// Each stored CRD version's `openAPIV3Schema`, keyed by its definition name.
    func crdSchemas() -> [String: JSONValue] {
        var crdSchemas: [String: JSONValue] = [:]
        for (_, crd) in objects["customresourcedefinitions.apiextensions.k8s.io"] ?? [:] {
            for v in crd[path: "spec", "versions"]?.arrayValue ?? [] {
                guard let vname = v["name"]?.stringValue, let schema = v[path: "schema", "openAPIV3Schema"] else { continue }
                let info = ResourceInfo(group: crd[path: "spec", "group"]?.stringValue ?? "", version: vname,
                                        kind: crd[path: "spec", "names", "kind"]?.stringValue ?? "", plural: "", singular: "",
                                        namespaced: true)
                crdSchemas[OpenAPI.schemaName(info)] = schema
            }
        }
        return crdSchemas
    }
}
