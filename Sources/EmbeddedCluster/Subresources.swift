import Foundation
import KubeCore

/// Subresources: status, scale, log, binding, eviction, proxy, serviceaccounts/token.
extension APIServer {
    func subresource(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String, sub: String, subpath: String) async throws -> APIResponse {
        guard info.subresources.contains(sub) else { throw APIStatusError.pathNotFound() }
        switch sub {
        case "status":
            switch req.method {
            case "GET": return try await get(req, info, namespace: namespace, name: name)
            case "PUT": return try await replace(req, info, namespace: namespace, name: name, scope: .status)
            case "PATCH": return try await patch(req, info, namespace: namespace, name: name, scope: .status)
            default: throw APIStatusError.methodNotAllowed()
            }
        case "scale": return try await scale(req, info, namespace: namespace, name: name)
        case "token": return try await serviceAccountToken(req, namespace: namespace ?? "", name: name)
        case "exec", "attach", "portforward":
            // Streaming upgrades (SPDY/WebSocket) need a container runtime; say so plainly instead of a bare 404.
            throw APIStatusError(code: 400, reason: "BadRequest",
                                 message: "pods/\(sub) is not supported by the gantry dev cluster: its containers are simulated (use kubectl logs, or the proxy subresource)")
        case "log": return try await log(req, info, namespace: namespace, name: name)
        case "binding":
            guard req.method == "POST" else { throw APIStatusError.methodNotAllowed() }
            let body = try parseBody(req)
            guard let node = body[path: "target", "name"]?.stringValue else {
                throw APIStatusError.invalid(kind: "Binding", group: "", name: name, causes: [.required("target.name")])
            }
            if !req.dryRun { _ = try await store.bind(namespace: namespace ?? "", name: name, node: node) }
            return .json(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201], status: 201)
        case "eviction":
            guard req.method == "POST" else { throw APIStatusError.methodNotAllowed() }
            try await store.evict(info, namespace: namespace ?? "", name: name, dryRun: req.dryRun)
            return .json(["kind": "Status", "apiVersion": "v1", "metadata": .emptyObject, "status": "Success", "code": 201], status: 201)
        case "proxy":
            var target = name
            var port: String? = nil
            if let colon = name.lastIndex(of: ":") {
                target = String(name[..<colon])
                port = String(name[name.index(after: colon)...])
            }
            let request = ProxyRequest(kind: info.kind, namespace: namespace, name: target, port: port, method: req.method,
                                       path: "/" + subpath, query: req.queryAll.filter { $0.0 != "" }, headers: ProxyRequest.forwarded(req.headers), body: req.body)
            let response = await proxy.handler.proxy(request)
            return APIResponse(status: response.status, headers: response.headers, body: .bytes(response.body))
        default:
            throw APIStatusError.pathNotFound()
        }
    }

    /// autoscaling/v1 Scale for Deployments, ReplicaSets and custom resources with a scale subresource.
    func scale(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String) async throws -> APIResponse {
        let specPath = (info.scaleSpecReplicasPath ?? ".spec.replicas").split(separator: ".").map(String.init)
        let statusPath = (info.scaleStatusReplicasPath ?? ".status.replicas").split(separator: ".").map(String.init)
        let selectorPath = info.scaleLabelSelectorPath.map { $0.split(separator: ".").map(String.init) }
        func scaleObject(_ o: JSONValue) -> JSONValue {
            var scale = scaleBody(o)
            // autoscaling/v1 Scale.status.selector: the string at labelSelectorPath (apiextensions' scale subresource).
            if let selectorPath, let selector = o[path: selectorPath]?.stringValue { scale[path: "status", "selector"] = .string(selector) }
            // Built-in workloads print their spec.selector (pkg/registry/apps/deployment/storage `scaleFromDeployment`).
            if !info.isCustom, let selector = o[path: "spec", "selector"].flatMap(LabelQuery.init(selector:)) {
                scale[path: "status", "selector"] = .string(selector.text)
            }
            return scale
        }
        func scaleBody(_ o: JSONValue) -> JSONValue {
            ["kind": "Scale", "apiVersion": "autoscaling/v1",
             "metadata": ["name": .string(name), "namespace": o[path: "metadata", "namespace"] ?? .null,
                          "uid": o[path: "metadata", "uid"] ?? .null, "resourceVersion": o[path: "metadata", "resourceVersion"] ?? .null,
                          "creationTimestamp": o[path: "metadata", "creationTimestamp"] ?? .null],
             "spec": ["replicas": o[path: specPath] ?? 0], "status": ["replicas": o[path: statusPath] ?? 0]]
        }
        guard let current = await store.get(info.resourceKey, namespace: namespace, name: name) else {
            throw APIStatusError.notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        switch req.method {
        case "GET": return .json(scaleObject(current))
        case "PUT", "PATCH":
            let body = try parseBody(req)
            let replicas: JSONValue?
            if req.method == "PUT" { replicas = body[path: "spec", "replicas"] }
            else if req.contentType == "application/json-patch+json" {
                replicas = (try? JSONPatch.apply(body, to: scaleObject(current)))?[path: "spec", "replicas"]
            } else { replicas = MergePatch.apply(body, to: scaleObject(current))[path: "spec", "replicas"] }
            guard let replicas, replicas.intValue != nil else {
                throw APIStatusError.invalid(kind: "Scale", group: "autoscaling", name: name, causes: [.required("spec.replicas")])
            }
            var obj = current
            obj[path: specPath] = replicas
            // The custom resource a scale writes is validated as any update of it (its schema and CEL rules), as
            // apiextensions' scale REST updates through the resource's own strategy.
            if info.isCustom, let schema = await store.schema(for: info) {
                try Self.defaultAndValidate(info, &obj, old: current, schema)
            }
            let updated = try await store.update(info, obj, scope: .all, dryRun: req.dryRun)
            return .json(scaleObject(updated))
        default: throw APIStatusError.methodNotAllowed()
        }
    }

    func log(_ req: APIRequest, _ info: ResourceInfo, namespace: String?, name: String) async throws -> APIResponse {
        guard req.method == "GET" else { throw APIStatusError.methodNotAllowed() }
        // The options are decoded before the pod is looked up, as kube-apiserver's handler decodes them.
        let tail = try req.integer("tailLines").map { Int(clamping: $0) }
        guard let pod = await store.get("pods", namespace: namespace, name: name) else {
            throw APIStatusError.notFound("pods", name, group: "", kind: "pods")
        }
        let containers = (pod[path: "spec", "containers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let initContainers = (pod[path: "spec", "initContainers"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let c = req.query["container"], !c.isEmpty {
            guard containers.contains(c) || initContainers.contains(c) else {
                throw APIStatusError.badRequest("container \(c) is not valid for pod \(name)")
            }
            container = c
        } else if containers.count == 1, let only = containers.first {
            container = only
        } else {
            throw APIStatusError.badRequest("a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]")
        }
        var since: Date? = nil
        if !(req.query["sinceTime"] ?? "").isEmpty && !(req.query["sinceSeconds"] ?? "").isEmpty {
            throw APIStatusError.badRequest("at most one of sinceTime or sinceSeconds may be specified")
        }
        if let text = req.query["sinceTime"], !text.isEmpty {
            guard let t = Timestamp.parse(text) else {
                throw APIStatusError.badRequest("sinceTime: invalid value \"\(text)\": expected an RFC 3339 time")
            }
            since = t
        } else if let text = req.query["sinceSeconds"], !text.isEmpty {
            guard let seconds = Int(text), seconds > 0 else {
                throw APIStatusError.badRequest("sinceSeconds: invalid value \"\(text)\": must be a positive integer")
            }
            since = Date().addingTimeInterval(-Double(seconds))
        }
        let (stream, end) = await logs.read(namespace: namespace ?? "", pod: name, container: container, follow: req.flag("follow"),
                                            tailLines: tail, timestamps: req.flag("timestamps"), since: since)
        return APIResponse(status: 200, headers: [("Content-Type", "text/plain")], body: .stream(stream), endStream: end)
    }
}

extension ObjectStore {
    /// pods/binding: sets spec.nodeName once (409 if already bound elsewhere, as kube-apiserver).
    func bind(namespace: String, name: String, node: String) throws(APIStatusError) -> JSONValue {
        guard let info = anyInfo(forStorageKey: "pods") else { throw .pathNotFound() }
        guard var pod = get("pods", namespace: namespace, name: name) else {
            throw .notFound("pods", name, group: "", kind: "pods")
        }
        if let existing = pod[path: "spec", "nodeName"]?.stringValue, !existing.isEmpty {
            throw .conflict("pods", name, group: "", kind: "pods", detail: "pod \(name) is already assigned to node \"\(existing)\"")
        }
        pod[path: "spec", "nodeName"] = .string(node)
        var conditions = pod[path: "status", "conditions"]?.arrayValue ?? []
        conditions.removeAll { $0["type"] == "PodScheduled" }
        conditions.append(["type": "PodScheduled", "status": "True", "lastProbeTime": .null,
                           "lastTransitionTime": .string(Timestamp.format(Date()))])
        pod[path: "status", "conditions"] = .array(conditions)
        return try update(info, pod, scope: .all, dryRun: false)
    }
}
