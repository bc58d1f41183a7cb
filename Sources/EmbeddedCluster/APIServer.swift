import Foundation
import KubeCore

/// The request handler: authentication, fault injection, routing, then one handler per verb.
/// Independent of the HTTP library (HTTPServer adapts Hummingbird to it).
struct APIServer: Sendable {
    let store: ObjectStore
    let logs: PodLogs
    let proxy: ProxyHooks
    let faults: FaultInjector
    let authenticator: Authenticator
    let requestLog: RequestLog
    /// True while serving plain HTTP (see `authenticate`).
    let allowAnonymous: Bool
    var authorization: AuthorizationMode = .alwaysAllow
    /// Every write is decoded with `fieldValidation=Strict`, whatever it asks (DevClusterOptions.strictFieldValidation).
    var strictFieldValidation = false
    /// Writes that carried fields their kind does not declare (BuiltinFieldValidation.swift).
    let unknownFieldLog = UnknownFieldLog()

    /// kube-apiserver's limit on a request body (`MaxRequestBodyBytes`, 3 MiB): more answers 413.
    static let maxRequestBody = 3 << 20

    func handle(_ req: APIRequest) async -> APIResponse {
        let received = ContinuousClock.now
        let route = Router.route(req.path)
        if route == .health { return .text("ok") }
        var req = req
        req.user = await authenticate(req)
        let user = req.user
        let response = await handle(req, route: route, user: user)
        log(req, user: user, response: response, received: received)
        return response
    }

    /// The answer to a request refused before its body is read: 401 without credentials (as kube-apiserver's
    /// authentication filter runs before any handler reads a body), 413 when its Content-Length already passes
    /// the limit. `head` carries no body. Nil: read the body and `handle` it. (A ServiceAccount token whose
    /// account is gone passes here and is refused by `handle`, after a body bounded by the limit.)
    func refusalBeforeBody(_ head: APIRequest) -> APIResponse? {
        let received = ContinuousClock.now
        let route = Router.route(head.path)
        if route == .health { return nil }
        let user = authenticator.user(authorization: head.headers["authorization"], connection: head.connection)
        var refusal: APIResponse? = nil
        if !admitsIdentity(head, route: route, user: user) {
            refusal = .error(.unauthorized)
        } else if let length = head.headers["content-length"].flatMap({ Int($0) }), length > Self.maxRequestBody {
            refusal = .error(.requestTooLarge(limit: Self.maxRequestBody))
        }
        if let refusal { log(head, user: user, response: refusal, received: received) }
        return refusal
    }

    /// A body read past the limit (chunked, or longer than its Content-Length said): 413, logged.
    func refuseOversizedBody(_ head: APIRequest) -> APIResponse {
        let response = APIResponse.error(.requestTooLarge(limit: Self.maxRequestBody))
        log(head, user: authenticator.user(authorization: head.headers["authorization"], connection: head.connection),
            response: response, received: ContinuousClock.now)
        return response
    }

    func authenticate(_ req: APIRequest) async -> String? {
        guard let user = authenticator.user(authorization: req.headers["authorization"], connection: req.connection) else { return nil }
        if let binding = authenticator.binding(authorization: req.headers["authorization"]),
           user == "system:serviceaccount:\(binding.namespace):\(binding.serviceAccount)", await !stillValid(binding) {
            return nil  // a token of a deleted ServiceAccount or pod: 401, as an unknown one
        }
        return user
    }

    /// kubectl sends no credentials to a plain-HTTP server (clientcmd only reads auth info for TLS transports),
    /// so over HTTP a request without credentials is let in; a wrong token never is.
    func admitsIdentity(_ req: APIRequest, route: Route, user: String?) -> Bool {
        route == .version || user != nil || (allowAnonymous && (req.headers["authorization"] ?? "").isEmpty)
    }

    func log(_ req: APIRequest, user: String?, response: APIResponse, received: ContinuousClock.Instant) {
        requestLog.append(RequestRecord(method: req.method, path: req.path, query: req.rawQuery ?? "", user: user,
                                        userAgent: req.headers["user-agent"], code: response.status, peerPort: req.peerPort,
                                        httpVersion: req.httpVersion, received: received, authorizations: req.authorizations.all))
    }

    func handle(_ req: APIRequest, route: Route, user: String?) async -> APIResponse {
        guard admitsIdentity(req, route: route, user: user) else { return .error(.unauthorized) }
        if let injected = await faults.intercept(req, user: user) { return .error(injected) }
        if let denied = await authorizationFailure(req, route: route, user: user) { return .error(denied) }
        do {
            switch route {
            case .version: return .json(Discovery.version)
            case .health: return .text("ok")
            case .apiVersions, .apiGroupList:
                let served = await store.servedResources()
                if Discovery.wantsAggregated(req.accept) {
                    var r = APIResponse.json(Discovery.aggregated(core: route == .apiVersions, served))
                    r.headers = [("Content-Type", Discovery.aggregatedContentType)]
                    return r
                }
                return .json(route == .apiVersions ? Discovery.apiVersions : Discovery.apiGroupList(served))
            case .apiGroup(let group):
                guard let g = Discovery.apiGroup(group, await store.servedResources()) else { throw APIStatusError.pathNotFound() }
                return .json(g)
            case .resourceList(let group, let version):
                guard let list = Discovery.resourceList(group: group, version: version, await store.servedResources()) else {
                    throw APIStatusError.pathNotFound()
                }
                return .json(list)
            case .openAPIv2:
                let doc = await store.openAPIv2Document()
                return APIResponse(status: 200, headers: [("Content-Type", OpenAPIv2.contentType)], body: .bytes(doc))
            case .openAPIv3Index:
                return .json(OpenAPI.index(await store.openAPIDocuments()))
            case .openAPIv3(let gvPath):
                guard let doc = await store.openAPIDocuments()[gvPath] else { throw APIStatusError.pathNotFound() }
                return .json(doc.json)
            case .resource(let r) where r.group == "authorization.k8s.io" && r.plural == "selfsubjectaccessreviews" && r.name == nil:
                return try await selfSubjectAccessReview(req, user: user)
            case .resource(let r):
                return try await handleResource(req, r)
            case .notFound:
                throw APIStatusError.pathNotFound()
            }
        } catch let e as APIStatusError {
            return .error(e)
        } catch {
            return .error(.internalError("\(error)"))
        }
    }

    func handleResource(_ req: APIRequest, _ r: ResourceRoute) async throws -> APIResponse {
        guard let info = await store.resource(group: r.group, version: r.version, plural: r.plural) else {
            throw APIStatusError.pathNotFound()
        }
        if r.namespace != nil && !info.namespaced { throw APIStatusError.pathNotFound() }
        let ns = info.namespaced ? r.namespace : nil
        guard let name = r.name else {
            switch req.method {
            case "GET":
                if r.legacyWatch || req.flag("watch") { return try await watch(req, info, namespace: ns) }
                return try await list(req, info, namespace: ns)
            case "POST":
                guard !info.namespaced || ns != nil else { throw APIStatusError.methodNotAllowed() }
                return try await create(req, info, namespace: ns)
            case "DELETE": return try await deleteCollection(req, info, namespace: ns)
            default: throw APIStatusError.methodNotAllowed()
            }
        }
        if info.namespaced && ns == nil { throw APIStatusError.pathNotFound() }
        if r.legacyWatch { return try await watch(req, info, namespace: ns, name: name) }
        if let sub = r.subresource {
            return try await subresource(req, info, namespace: ns, name: name, sub: sub, subpath: r.subpath)
        }
        switch req.method {
        case "GET": return try await get(req, info, namespace: ns, name: name)
        case "PUT": return try await replace(req, info, namespace: ns, name: name, scope: .main)
        case "PATCH": return try await patch(req, info, namespace: ns, name: name, scope: .main)
        case "DELETE": return try await delete(req, info, namespace: ns, name: name)
        default: throw APIStatusError.methodNotAllowed()
        }
    }

    // MARK: - Bodies

    /// What kube-apiserver decodes a create or update from (its serializers; CBOR is off by default in 1.32).
    static let bodyMediaTypes = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]

    func parseBody(_ req: APIRequest) throws -> JSONValue {
        if req.body.isEmpty { throw APIStatusError.badRequest("the body of the request was empty") }
        // A patch's media type names its kind of patch (PatchHandler checks those).
        guard req.method == "PATCH" || Self.bodyMediaTypes.contains(req.contentType) else {
            throw APIStatusError.unsupportedMediaType(req.contentType, accepted: Self.bodyMediaTypes)
        }
        if req.contentType == "application/vnd.kubernetes.protobuf" {
            do { return try KubeProtobuf.decode(req.body) } catch {
                throw APIStatusError(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - \(error.description)")
            }
        }
        do {
            return try JSONValue.parse(req.body)
        } catch {
            if req.contentType.contains("yaml"), let y = try? YAMLBridge.parse(req.body) { return y }
            throw APIStatusError.badRequest("the object provided is unrecognized or malformed: \(error.description)")
        }
    }

    /// The schema whose defaults apply to custom resources as they are read (nil for built-in kinds).
    func readSchema(_ info: ResourceInfo) async -> (any CustomResourceSchema)? {
        info.isCustom ? await store.schema(for: info) : nil
    }

    /// Answers an object as read through `info` (custom resources are stored once and served in every version;
    /// Events are stored once as core/v1 and converted for events.k8s.io/v1). `schema` (`readSchema`): as
    /// kube-apiserver defaults every custom resource it decodes from etcd, the CRD's current defaults fill the
    /// fields the stored object lacks (a default added after it was written), without storing them.
    func present(_ obj: JSONValue, _ info: ResourceInfo, _ schema: (any CustomResourceSchema)?) -> JSONValue {
        if EventConversion.isEventsV1(info) { return EventConversion.toEventsV1(obj) }
        var o = obj
        schema?.applyDefaults(to: &o)
        o["apiVersion"] = .string(info.apiVersion)
        o["kind"] = .string(info.kind)
        return o
    }

    // MARK: - Reads

    func get(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String) async throws -> APIResponse {
        guard let obj = await store.get(info.resourceKey, namespace: namespace, name: name) else {
            throw APIStatusError.notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        if req.wantsTable {
            return .json(Table.table(for: [present(obj, info, await readSchema(info))], info: info, resourceVersion: obj.resourceVersion ?? "",
                                     continueToken: nil, includeObject: req.query["includeObject"]))
        }
        return .json(present(obj, info, await readSchema(info)))
    }

    func selectors(_ req: APIRequest, _ info: ResourceInfo) throws -> (LabelQuery, FieldQuery) {
        let labels = try LabelQuery(parsing: req.query["labelSelector"] ?? "")
        let fields = try FieldQuery(parsing: req.query["fieldSelector"] ?? "", kind: info.fieldSelectorKind,
                                    extra: info.selectableFields)
        return (labels, fields)
    }

    func list(_ req: APIRequest, _ info: ResourceInfo, namespace: String?) async throws -> APIResponse {
        let (labels, fields) = try selectors(req, info)
        let limit = try req.integer("limit").map { Int(clamping: $0) }
        let exact = req.query["resourceVersionMatch"] == "Exact" ? req.query["resourceVersion"].flatMap { Int64($0) } : nil
        let page = try await store.listPage(info, namespace: namespace, labels: labels, fields: fields,
                                            limit: limit, continueToken: req.query["continue"], exactRevision: exact)
        let schema = await readSchema(info)
        let items = page.items.map { present($0, info, schema) }
        if req.wantsTable {
            return .json(Table.table(for: items, info: info, resourceVersion: page.resourceVersion,
                                     continueToken: page.continueToken, includeObject: req.query["includeObject"]))
        }
        var meta: JSONValue = ["resourceVersion": .string(page.resourceVersion)]
        if let token = page.continueToken { meta["continue"] = .string(token) }
        if let remaining = page.remaining { meta["remainingItemCount"] = .int(Int64(remaining)) }
        return .json(["kind": .string(info.listKind), "apiVersion": .string(info.apiVersion), "metadata": meta,
                      "items": .array(items)])
    }

    // MARK: - Writes

    func create(_ req: APIRequest, _ info: ResourceInfo, namespace: String?) async throws -> APIResponse {
        var obj = try parseBody(req)
        try checkTypeMeta(obj, info)
        let decodeWarnings = try decodeBuiltin(req, info, &obj)
        if info.namespaced {
            if let bodyNS = obj.namespace, !bodyNS.isEmpty, bodyNS != namespace {
                throw APIStatusError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            obj.namespace = namespace
        }
        if EventConversion.isEventsV1(info) {
            let causes = EventConversion.validateCreate(obj)
            if !causes.isEmpty { throw APIStatusError.invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: causes) }
            obj = EventConversion.toCore(obj)
        }
        let warnings = try await decodeWarnings + admit(req, info, &obj, old: nil, scope: .main)
        try await admitOwnerReferences(req, info, scope: .main, new: obj, old: nil)
        let created = try await store.create(info, obj, scope: .main, dryRun: req.dryRun, tracking: .update(manager: manager(req)))
        return .json(present(created, info, await readSchema(info)), status: 201, headers: warnings)
    }

    func replace(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String, scope: UpdateScope) async throws -> APIResponse {
        var obj = try parseBody(req)
        try checkTypeMeta(obj, info)
        let decodeWarnings = try decodeBuiltin(req, info, &obj)
        if let bodyName = obj.name, bodyName != name {
            throw APIStatusError.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        if info.namespaced {
            if let bodyNS = obj.namespace, !bodyNS.isEmpty, bodyNS != namespace {
                throw APIStatusError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            obj.namespace = namespace
        }
        obj.name = name
        if EventConversion.isEventsV1(info) { obj = EventConversion.toCore(obj) }
        let old = await store.get(info.resourceKey, namespace: namespace, name: name)
        let schema = await readSchema(info)
        let warnings = try await decodeWarnings + admit(req, info, &obj, old: old.map { present($0, info, schema) }, scope: scope)
        let allowCreate = info.kind == "Lease" || info.kind == "Endpoints" || info.kind == "Event"
        if old != nil || allowCreate { try await admitOwnerReferences(req, info, scope: scope, new: obj, old: old) }
        let updated = try await store.update(info, obj, scope: scope, dryRun: req.dryRun, allowCreate: allowCreate,
                                             tracking: .update(manager: manager(req)))
        return .json(present(updated, info, schema), status: old == nil ? 201 : 200, headers: warnings)
    }

    func checkTypeMeta(_ obj: JSONValue, _ info: ResourceInfo) throws {
        guard obj.objectValue != nil else {
            throw APIStatusError.badRequest("the object provided is unrecognized or malformed: expected a JSON object")
        }
        if let kind = obj.kind, !kind.isEmpty, kind != info.kind {
            throw APIStatusError.badRequest("the server could not find the requested resource: kind \(kind) does not match \(info.kind)")
        }
    }

    func delete(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String) async throws -> APIResponse {
        let options = try deleteOptions(req)
        try ObjectStore.refuseSystemPriorityClassDeletion(info, name: name)
        let outcome = try await store.delete(info, namespace: namespace, name: name, options: options)
        switch outcome {
        case .deleted(let obj): return .json(present(obj, info, await readSchema(info)))
        case .pending(let obj): return .json(present(obj, info, await readSchema(info)), status: 200)
        }
    }

    func deleteOptions(_ req: APIRequest) throws -> DeleteOptions {
        var options = DeleteOptions()
        if !req.body.isEmpty, let body = try? JSONValue.parse(req.body) {
            if let p = body["propagationPolicy"]?.stringValue { options.propagationPolicy = PropagationPolicy(rawValue: p) ?? .background }
            if body["orphanDependents"]?.boolValue == true { options.propagationPolicy = .orphan }
            options.preconditionUID = body[path: "preconditions", "uid"]?.stringValue
            options.preconditionResourceVersion = body[path: "preconditions", "resourceVersion"]?.stringValue
            options.gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            if body["dryRun"]?.arrayValue?.contains("All") == true { options.dryRun = true }
        }
        if let p = req.query["propagationPolicy"] {
            guard let policy = PropagationPolicy(rawValue: p) else {
                throw APIStatusError.badRequest("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"\(p)\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"")
            }
            options.propagationPolicy = policy
        }
        if let g = req.query["gracePeriodSeconds"].flatMap({ Int64($0) }) { options.gracePeriodSeconds = g }
        if req.dryRun { options.dryRun = true }
        return options
    }

    func deleteCollection(_ req: APIRequest, _ info: ResourceInfo, namespace: String?) async throws -> APIResponse {
        let (labels, fields) = try selectors(req, info)
        let options = try deleteOptions(req)
        let page = try await store.listPage(info, namespace: namespace, labels: labels, fields: fields, limit: nil, continueToken: nil)
        var deleted: [JSONValue] = []
        let schema = await readSchema(info)
        for obj in page.items {
            if let outcome = try? await store.delete(info, namespace: obj.namespace, name: obj.name ?? "", options: options) {
                deleted.append(present(outcome.object, info, schema))
            }
        }
        return .json(["kind": .string(info.listKind), "apiVersion": .string(info.apiVersion),
                      "metadata": ["resourceVersion": .string(String(await store.currentRevision))], "items": .array(deleted)])
    }
}
