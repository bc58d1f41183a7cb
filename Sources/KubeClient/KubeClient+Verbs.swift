import KubeCore

/// The API verbs. Every non-2xx answer throws `APIError` decoded from the Status body (rule 14).
extension KubeClient {
    public func get(_ type: ResourceType, namespace: String?, name: String) async throws -> JSONValue {
        let response = try await send(Request(method: "GET", path: try objectPath(type, namespace, name)))
        return try decodeObject(response)
    }

    /// One page: `options.limit` and `options.continueToken` select it. `droppingManagedFields`: the items come
    /// without `metadata.managedFields` (for caches, which never read them).
    public func list(_ type: ResourceType, namespace: String?, options: ListOptions = .init(),
                     droppingManagedFields: Bool = false) async throws -> ObjectList {
        let response = try await send(Request(method: "GET", path: type.collectionPath(namespace: scoped(type, namespace)),
                                              query: options.queryItems))
        return try ObjectList(json: try decodeObject(response, droppingManagedFields: droppingManagedFields), type: type)
    }

    /// All pages of one consistent snapshot, following `continue` (rule 1). A 410 on a continuation means the
    /// snapshot expired: start again from the first page rather than mix snapshots (rule 2). The next page is
    /// asked for as soon as this one's `continue` token is read (skimmed from its bytes), so the server writes
    /// it while this one is parsed: parsing was most of each page's time, and the two overlap on two cores.
    public func listAll(_ type: ResourceType, namespace: String?, options: ListOptions = .init(),
                        pageSize: Int = 500, droppingManagedFields: Bool = false) async throws -> ObjectList {
        let (items, resourceVersion) = try await listAll(type, namespace: namespace, options: options, pageSize: pageSize,
                                                         droppingManagedFields: droppingManagedFields) { $0 }
        return ObjectList(items: items, resourceVersion: resourceVersion)
    }

    /// `listAll` with each item transformed as soon as its page is parsed: a cache that keeps a projection of
    /// each object never holds every full object of a large list at once (its peak is one page). With
    /// `itemMask`, each item is projected while it is parsed (`JSONValue.parseList`): the transform gets exactly
    /// `itemMask.project(item)`, and what the mask drops is never built.
    public func listAll<T: Sendable>(_ type: ResourceType, namespace: String?, options: ListOptions = .init(),
                                     pageSize: Int = 500, droppingManagedFields: Bool = false, itemMask: FieldMask? = nil,
                                     transform: (JSONValue) throws -> T) async throws -> (items: [T], resourceVersion: String) {
        var restarts = 0
        let path = type.collectionPath(namespace: scoped(type, namespace))
        // The list fills in each item's apiVersion and kind; a mask that drops them drops them again.
        let dropped = itemMask.map { mask in ["apiVersion", "kind"].filter { !mask.keepsString(at: $0) } } ?? []
        @Sendable func fetch(_ options: ListOptions) async throws -> HTTPResponse {
            try await send(Request(method: "GET", path: path, query: options.queryItems))
        }
        restart: while true {
            var pageOptions = options
            pageOptions.limit = pageSize
            pageOptions.continueToken = nil
            var items: [T] = []
            var resourceVersion: String?
            var response = try await fetch(pageOptions)
            while true {
                let token = JSONValue.skimTopLevel(response.body, key: "metadata")?["continue"]?.stringValue
                var next: Task<HTTPResponse, any Error>?
                if let token, !token.isEmpty {
                    pageOptions.continueToken = token
                    let nextOptions = pageOptions
                    next = Task { try await fetch(nextOptions) }
                }
                do {
                    let page = try ObjectList(json: try decodePage(response, droppingManagedFields: droppingManagedFields, itemMask: itemMask),
                                              type: type)
                    if resourceVersion == nil { resourceVersion = page.resourceVersion }
                    items.reserveCapacity(items.count + page.items.count)
                    for var item in page.items {
                        for key in dropped { item[key] = nil }
                        items.append(try transform(item))
                    }
                } catch {
                    next?.cancel()
                    throw error
                }
                // The skimmed token and the parsed one agree unless the page was malformed (then parsing threw).
                guard let next else { break }
                do {
                    response = try await withTaskCancellationHandler { try await next.value } onCancel: { next.cancel() }
                } catch let error as APIError where error.isGone && restarts < 5 {
                    restarts += 1
                    logger.info("list continuation expired; listing again from the start", metadata: ["type": .string(type.description)])
                    continue restart
                }
            }
            return (items, resourceVersion ?? "")
        }
    }

    /// POST to the collection. The namespace is `namespace`, else the object's, else the client's default.
    public func create(_ type: ResourceType, _ object: JSONValue, namespace: String? = nil, dryRun: Bool = false) async throws -> JSONValue {
        let ns = type.namespaced ? (namespace ?? object.namespace ?? defaultNamespace) : nil
        let response = try await send(Request(method: "POST", path: type.collectionPath(namespace: ns),
                                              query: dryRun ? [("dryRun", "All")] : [], body: object.serializedBytes(),
                                              contentType: "application/json"))
        return try decodeObject(response)
    }

    /// PUT of the whole object; its `metadata.resourceVersion` makes a stale write answer 409 Conflict (rule 8).
    public func update(_ type: ResourceType, _ object: JSONValue, dryRun: Bool = false) async throws -> JSONValue {
        let response = try await send(Request(method: "PUT", path: try objectPath(type, object),
                                              query: dryRun ? [("dryRun", "All")] : [], body: object.serializedBytes(),
                                              contentType: "application/json"))
        return try decodeObject(response)
    }

    /// PUT to the status subresource: changes only `status` (rule 10).
    public func updateStatus(_ type: ResourceType, _ object: JSONValue) async throws -> JSONValue {
        let response = try await send(Request(method: "PUT", path: try objectPath(type, object) + "/status",
                                              body: object.serializedBytes(), contentType: "application/json"))
        return try decodeObject(response)
    }

    /// PATCH with the given content type (rule 12). Server-side apply (`.apply`) needs a `fieldManager`;
    /// its body is sent as JSON, which is YAML.
    public func patch(_ type: ResourceType, namespace: String?, name: String, patch: JSONValue, patchType: PatchType = .merge,
                      subresource: String? = nil, fieldManager: String? = nil, force: Bool = false,
                      dryRun: Bool = false) async throws -> JSONValue {
        if patchType == .apply && (fieldManager ?? "").isEmpty {
            throw KubeClientError.invalidRequest("server-side apply needs a fieldManager")
        }
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        if force { query.append(("force", "true")) }
        if dryRun { query.append(("dryRun", "All")) }
        var path = try objectPath(type, namespace, name)
        if let subresource { path += "/" + subresource }
        let response = try await send(Request(method: "PATCH", path: path, query: query, body: patch.serializedBytes(),
                                              contentType: patchType.rawValue))
        return try decodeObject(response)
    }

    /// DELETE with a DeleteOptions body. An object already gone (404) counts as deleted (rule 14).
    public func delete(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions = .init()) async throws {
        do {
            _ = try await send(Request(method: "DELETE", path: try objectPath(type, namespace, name),
                                       body: options.body.serializedBytes(), contentType: "application/json"))
        } catch let error as APIError where error.isNotFound {
            return
        }
    }

    /// A request through the API server's proxy to a pod or service port:
    /// `/api/v1/namespaces/{ns}/{pods|services}/{name[:port]}/proxy/{path}`. Any status of the backend is returned,
    /// not thrown (a 401 too, unless it is the API server refusing the client's credentials).
    /// `headers` go to the backend (`Accept` and `Content-Type` replace the client's); the API server keeps
    /// `Authorization`, which carries the client's credentials, so one given here is refused.
    public func proxy(_ type: ResourceType, namespace: String, name: String, port: String?, path: String,
                      method: String = "GET", body: [UInt8]? = nil, query: [(String, String)] = [],
                      headers: [(name: String, value: String)] = []) async throws -> HTTPResponse {
        guard type == .pods || type == .services else {
            throw KubeClientError.invalidRequest("proxy works on pods and services, not \(type)")
        }
        let target = port.map { "\(name):\($0)" } ?? name
        let suffix = path.hasPrefix("/") ? String(path.dropFirst()) : path
        var request = Request(method: method, path: "\(type.collectionPath(namespace: namespace))/\(target)/proxy/\(suffix)",
                              query: query, body: body, accept: "*/*", headers: [], proxied: true, checkStatus: false)
        for header in headers {
            // A line break would start another header of the caller's choosing (header injection).
            guard !(header.name + header.value).contains(where: \.isNewline), !header.name.contains(":") else {
                throw KubeClientError.invalidRequest("proxy header \(header.name.debugDescription) is not a valid HTTP header")
            }
            switch header.name.lowercased() {
            case "authorization": throw KubeClientError.invalidRequest("a proxied request cannot carry Authorization: the API server consumes it")
            case "accept": request.accept = header.value
            case "content-type": request.contentType = header.value
            default: request.headers.append((header.name, header.value))
            }
        }
        return try await send(request)
    }

    /// Any request to the API server with the client's credentials, retries and metrics; any status is returned
    /// except 401, which is thrown as `APIError` (after one credential refresh when the token can change).
    public func raw(method: String, path: String, query: [(String, String)] = [], body: [UInt8]? = nil,
                    contentType: String? = nil) async throws -> HTTPResponse {
        try await send(Request(method: method, path: path, query: query, body: body, contentType: contentType,
                               accept: "application/json, */*", checkStatus: false))
    }

    // MARK: helpers

    func scoped(_ type: ResourceType, _ namespace: String?) -> String? { type.namespaced ? namespace : nil }

    func objectPath(_ type: ResourceType, _ namespace: String?, _ name: String) throws(KubeClientError) -> String {
        guard !name.isEmpty else { throw .invalidRequest("a \(type.kind) needs a name") }
        guard !name.contains("/") else { throw .invalidRequest("invalid name \"\(name)\"") }
        return type.objectPath(namespace: type.namespaced ? (namespace ?? defaultNamespace) : nil, name: name)
    }

    func objectPath(_ type: ResourceType, _ object: JSONValue) throws(KubeClientError) -> String {
        try objectPath(type, object.namespace, object.name ?? "")
    }

    /// A list page, its items projected by `itemMask` while parsed when one is given.
    func decodePage(_ response: HTTPResponse, droppingManagedFields: Bool, itemMask: FieldMask?) throws(KubeClientError) -> JSONValue {
        guard let itemMask else { return try decodeObject(response, droppingManagedFields: droppingManagedFields) }
        do {
            return try JSONValue.parseList(response.body, itemMask: itemMask, droppingManagedFields: droppingManagedFields)
        } catch {
            throw .decode(error.description)
        }
    }

    func decodeObject(_ response: HTTPResponse, droppingManagedFields: Bool = false) throws(KubeClientError) -> JSONValue {
        do {
            return try JSONValue.parse(response.body, droppingManagedFields: droppingManagedFields)
        } catch {
            throw .decode(error.description)
        }
    }
}
