import Foundation
import KubeCore

/// Create, update and delete: the registry semantics kube-apiserver applies to every kind
/// (k8s.io/apiserver/pkg/registry/generic/registry/store.go), plus the few kind-specific strategies we need.
extension ObjectStore {
    // MARK: Public in-process API (resolves the storage key to a served resource)

    public func create(_ resource: String, _ object: JSONValue, dryRun: Bool = false) throws(APIStatusError) -> JSONValue {
        try create(try resolve(resource), object, scope: .all, dryRun: dryRun)
    }

    public func update(_ resource: String, _ object: JSONValue, scope: UpdateScope = .all, dryRun: Bool = false) throws(APIStatusError) -> JSONValue {
        try update(try resolve(resource), object, scope: scope, dryRun: dryRun)
    }

    /// Read-modify-write in one step (no conflict possible): `body` edits the stored object.
    public func modify(_ resource: String, namespace: String?, name: String, scope: UpdateScope = .all,
                       _ body: @Sendable (inout JSONValue) throws -> Void) throws -> JSONValue {
        let info = try resolve(resource)
        guard var obj = get(resource, namespace: namespace, name: name) else {
            throw APIStatusError.notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        try body(&obj)
        return try update(info, obj, scope: scope, dryRun: false)
    }

    public func delete(_ resource: String, namespace: String?, name: String, options: DeleteOptions = DeleteOptions()) throws(APIStatusError) -> DeleteOutcome {
        try delete(try resolve(resource), namespace: namespace, name: name, options: options)
    }

    func resolve(_ resource: String) throws(APIStatusError) -> ResourceInfo {
        guard let info = anyInfo(forStorageKey: resource) else { throw .pathNotFound() }
        return info
    }

    func updateResult(_ info: ResourceInfo, _ obj: JSONValue, scope: UpdateScope, dryRun: Bool,
                      tracking: FieldTracking = .keep) -> Result<JSONValue, APIStatusError> {
        do { return .success(try update(info, obj, scope: scope, dryRun: dryRun, tracking: tracking)) } catch { return .failure(error) }
    }

    // MARK: Create

    func create(_ info: ResourceInfo, _ input: JSONValue, scope: UpdateScope, dryRun: Bool,
                tracking: FieldTracking = .keep) throws(APIStatusError) -> JSONValue {
        var obj = input
        guard obj.objectValue != nil else { throw .badRequest("the object must be a JSON object") }
        obj["apiVersion"] = .string(info.storageAPIVersion)
        obj["kind"] = .string(info.kind)
        if obj["metadata"]?.objectValue == nil { obj["metadata"] = .emptyObject }
        var name = obj.name ?? ""
        if name.isEmpty, let prefix = obj[path: "metadata", "generateName"]?.stringValue, !prefix.isEmpty {
            repeat { name = prefix + Self.randomSuffix() } while get(info.resourceKey, namespace: obj.namespace, name: name) != nil
            obj.name = name
        }
        if name.isEmpty {
            throw .invalid(kind: info.kind, group: info.group, name: "",
                           causes: [.init(field: "metadata.name", reason: "FieldValueRequired",
                                          message: "Required value: name or generateName is required")])
        }
        if let problem = Self.nameProblem(name, kind: info.kind) {
            throw .invalid(kind: info.kind, group: info.group, name: name,
                           causes: [.invalid("metadata.name", "\"\(name)\"", problem)])
        }
        if info.namespaced {
            guard let ns = obj.namespace, !ns.isEmpty else {
                throw .badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            guard let nsObj = get("namespaces", namespace: nil, name: ns) else {
                throw .notFound("namespaces", ns, group: "", kind: "namespaces")
            }
            if nsObj.deletionTimestamp != nil {
                throw .forbidden(info.qualifiedName, name, group: info.group, kind: info.plural,
                                 why: "unable to create new content in namespace \(ns) because it is being terminated")
            }
        } else {
            obj[path: "metadata", "namespace"] = nil
        }
        if get(info.resourceKey, namespace: obj.namespace, name: name) != nil {
            throw .alreadyExists(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        obj[path: "metadata", "uid"] = .string(UUID().uuidString.lowercased())
        obj[path: "metadata", "creationTimestamp"] = .string(Timestamp.format(Date()))
        obj[path: "metadata", "generation"] = info.tracksGeneration ? .int(1) : nil
        obj[path: "metadata", "deletionTimestamp"] = nil
        obj[path: "metadata", "deletionGracePeriodSeconds"] = nil
        obj[path: "metadata", "resourceVersion"] = nil
        obj[path: "metadata", "selfLink"] = nil
        // Status is not settable on create, except for Nodes (the kubelet registers its node with status).
        if scope != .all, info.hasStatus, !(info.kind == "Node" && info.group.isEmpty) { obj["status"] = nil }
        try Self.validateMetadata(info, obj)
        try prepareForCreate(info, &obj, dryRun: dryRun)
        trackFields(info, &obj, old: nil, scope: scope, tracking)
        if dryRun { return obj }
        let stored = try commit(.added, resource: info.resourceKey, object: obj, old: nil)
        afterCreate(info, stored)
        return stored
    }

    static func randomSuffix() -> String {
        // The alphabet of k8s.io/apimachinery/pkg/util/rand (no vowels, no confusable characters).
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
    }

    /// Name rules of k8s.io/apimachinery/pkg/util/validation: RFC 1123 subdomains for most kinds, RFC 1123
    /// labels for Namespaces, RFC 1035 labels for Services, path segments for the RBAC kinds; messages worded as there.
    static func nameProblem(_ name: String, kind: String) -> String? {
        // Bytes, as Go's validation reads them (lengths too): Character sets and iteration were 3 % of the
        // server's CPU in a write burst.
        let bytes = name.utf8
        func lowerAlnum(_ b: UInt8) -> Bool { (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) }
        let edgesOK = bytes.first.map(lowerAlnum) == true && bytes.last.map(lowerAlnum) == true
        switch kind {
        case "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
            // RBAC names are path segments (`ValidateRBACName` = path.IsValidPathSegmentName): `system:discovery` is valid.
            if name == "." || name == ".." { return "may not be '\(name)'" }
            for c in ["/", "%"] where name.contains(c) { return "may not contain '\(c)'" }
            return nil
        case "Namespace":
            if bytes.count <= 63, edgesOK, bytes.allSatisfy({ lowerAlnum($0) || $0 == UInt8(ascii: "-") }) { return nil }
            if bytes.count > 63 { return "must be no more than 63 characters" }
            return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
        case "Service":
            if bytes.count <= 63, edgesOK, bytes.first.map({ (0x61...0x7A).contains($0) }) == true,
               bytes.allSatisfy({ lowerAlnum($0) || $0 == UInt8(ascii: "-") }) { return nil }
            if bytes.count > 63 { return "must be no more than 63 characters" }
            return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
        default:
            if bytes.count <= 253, edgesOK, bytes.allSatisfy({ lowerAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }) { return nil }
            if bytes.count > 253 { return "must be no more than 253 characters" }
            return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        }
    }

    /// Label keys and values (https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set).
    static func validateMetadata(_ info: ResourceInfo, _ obj: JSONValue) throws(APIStatusError) {
        var causes: [APIStatusError.Cause] = []
        let alnum = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        func qualifiedPart(_ s: Substring) -> Bool {
            !s.isEmpty && s.count <= 63 && alnum.contains(s.first ?? " ") && alnum.contains(s.last ?? " ")
                && s.allSatisfy { alnum.contains($0) || $0 == "-" || $0 == "_" || $0 == "." }
        }
        for (key, value) in obj[path: "metadata", "labels"]?.objectValue ?? [:] {
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            let nameOK = parts.count <= 2 && qualifiedPart(parts.last ?? "")
                && (parts.count == 1 || (!parts[0].isEmpty && parts[0].count <= 253 && nameProblem(String(parts[0]), kind: "") == nil))
            if !nameOK {
                causes.append(.invalid("metadata.labels", "\"\(key)\"", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            }
            guard let text = value.stringValue else {
                causes.append(.invalid("metadata.labels", value.serialized(), "label values must be strings"))
                continue
            }
            if !text.isEmpty && !qualifiedPart(Substring(text)) {
                let why = text.count > 63 ? "must be no more than 63 characters"
                    : "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
                causes.append(.invalid("metadata.labels", "\"\(text)\"", why))
            }
        }
        // ValidateAnnotations: qualified-name keys, and all keys and values together at most 256 KiB.
        let annotations = obj[path: "metadata", "annotations"]?.objectValue ?? [:]
        var annotationBytes = 0
        for (key, value) in annotations.sorted(by: { $0.key < $1.key }) {
            annotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
            let parts = key.split(separator: "/", omittingEmptySubsequences: false)
            let keyOK = parts.count <= 2 && qualifiedPart(parts.last ?? "")
                && (parts.count == 1 || (!parts[0].isEmpty && parts[0].count <= 253 && nameProblem(String(parts[0]), kind: "") == nil))
            if !keyOK {
                causes.append(.invalid("metadata.annotations", "\"\(key)\"", "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"))
            }
        }
        if annotationBytes > totalAnnotationSizeLimit {
            causes.append(.tooLong("metadata.annotations", bytes: totalAnnotationSizeLimit))
        }
        if !causes.isEmpty { throw .invalid(kind: info.kind, group: info.group, name: obj.name ?? "", causes: causes) }
    }

    /// apimachinery's TotalAnnotationSizeLimitB.
    static let totalAnnotationSizeLimit = 256 * 1024

    // MARK: Update

    func update(_ info: ResourceInfo, _ input: JSONValue, scope: UpdateScope, dryRun: Bool,
                allowCreate: Bool = false, tracking: FieldTracking = .keep) throws(APIStatusError) -> JSONValue {
        guard input.objectValue != nil else { throw .badRequest("the object must be a JSON object") }
        let name = input.name ?? ""
        let namespace = info.namespaced ? input.namespace : nil
        guard let current = get(info.resourceKey, namespace: namespace, name: name) else {
            if allowCreate { return try create(info, input, scope: scope, dryRun: dryRun, tracking: tracking) }
            throw .notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        if let rv = input.resourceVersion, !rv.isEmpty, rv != current.resourceVersion {
            throw .conflict(info.qualifiedName, name, group: info.group, kind: info.plural, detail: APIStatusError.modifiedDetail)
        }
        // What kube-apiserver decodes from etcd: a custom resource with its CRD's current defaults. A status write
        // stores them, and a write that only adds them changes no generation.
        var decoded = current
        if info.isCustom, let schema = schema(for: info) { schema.applyDefaults(to: &decoded) }
        var obj: JSONValue
        switch scope {
        case .status:
            obj = decoded
            obj["status"] = input["status"]
        case .main:
            obj = input
            if info.hasStatus { obj["status"] = current["status"] }
        case .all:
            obj = input
        }
        obj["apiVersion"] = .string(info.storageAPIVersion)
        obj["kind"] = .string(info.kind)
        // System-owned metadata is kept from storage whatever the client sent.
        for key in ["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation", "namespace", "name"] {
            obj[path: "metadata", key] = current[path: "metadata", key]
        }
        obj[path: "metadata", "resourceVersion"] = current[path: "metadata", "resourceVersion"]
        if current.deletionTimestamp != nil {
            let added = obj.finalizers.filter { !current.finalizers.contains($0) }
            if !added.isEmpty {
                let list = added.map { "\"\($0)\"" }.joined(separator: ", ")
                throw .invalid(kind: info.kind, group: info.group, name: name,
                               causes: [.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers []string{\(list)}")])
            }
        }
        try Self.validateMetadata(info, obj)
        try prepareForUpdate(info, &obj, old: current, scope: scope)
        if info.tracksGeneration, Self.specChanged(obj, decoded) {
            obj[path: "metadata", "generation"] = .int((current.generation ?? 1) + 1)
        }
        trackFields(info, &obj, old: current, scope: scope, tracking)
        if obj == current { return current }  // a no-op write is not committed (no new resourceVersion)
        if dryRun { return obj }
        // A gracefully deleting pod survives its kubelet's status writes until a delete with grace 0 (apiserver's ShouldDeleteDuringUpdate).
        if obj.deletionTimestamp != nil, obj.finalizers.isEmpty, !(info.kind == "Pod" && (current[path: "metadata", "deletionGracePeriodSeconds"]?.intValue ?? 0) > 0) {
            let gone = try commit(.deleted, resource: info.resourceKey, object: obj, old: current)
            afterDelete(info, gone)
            return gone
        }
        let stored = try commit(.modified, resource: info.resourceKey, object: obj, old: current)
        afterUpdate(info, stored, old: current)
        return stored
    }

    /// Generation bumps on any change outside `metadata` and `status` (API-SEMANTICS rule 9).
    static func specChanged(_ a: JSONValue, _ b: JSONValue) -> Bool {
        var x = a, y = b
        for k in ["metadata", "status", "apiVersion", "kind"] { x[k] = nil; y[k] = nil }
        return x != y
    }

    // MARK: Delete

    func delete(_ info: ResourceInfo, namespace: String?, name: String, options: DeleteOptions) throws(APIStatusError) -> DeleteOutcome {
        let namespace = info.namespaced ? namespace : nil
        guard let current = get(info.resourceKey, namespace: namespace, name: name) else {
            throw .notFound(info.qualifiedName, name, group: info.group, kind: info.plural)
        }
        if let uid = options.preconditionUID, uid != current.uid {
            throw APIStatusError(code: 409, reason: "Conflict",
                                 message: "Operation cannot be fulfilled on \(info.qualifiedName) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.uid ?? "")",
                                 name: name, group: info.group, kind: info.plural)
        }
        if let rv = options.preconditionResourceVersion, rv != current.resourceVersion {
            throw APIStatusError(code: 409, reason: "Conflict",
                                 message: "Operation cannot be fulfilled on \(info.qualifiedName) \"\(name)\": Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(current.resourceVersion ?? "")",
                                 name: name, group: info.group, kind: info.plural)
        }
        var obj = current
        var finalizers = obj.finalizers
        switch options.propagationPolicy {
        case .orphan:
            if !options.dryRun, let uid = current.uid { orphanDependents(of: uid) }
        case .foreground:
            if !finalizers.contains("foregroundDeletion"), hasDependents(current.uid) { finalizers.append("foregroundDeletion") }
        case .background:
            break
        }
        // Namespaces always finish asynchronously: their content is removed first (the `kubernetes` finalizer).
        if info.kind == "Namespace", info.group.isEmpty {
            obj[path: "status", "phase"] = "Terminating"
            if obj.deletionTimestamp == nil { obj[path: "metadata", "deletionTimestamp"] = .string(Timestamp.format(Date())) }
            obj.finalizers = finalizers
            if options.dryRun { return .pending(obj) }
            let stored = try obj == current ? current : commit(.modified, resource: info.resourceKey, object: obj, old: current)
            scheduleGC()
            return .pending(stored)
        }
        // Graceful pod deletion (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination):
        // a pod bound to a node gets deletionTimestamp = now + grace and stays until its kubelet deletes it with
        // grace 0. Opt-in (`setGracefulPodDeletion`), because without simulated kubelets nothing would finish it.
        if gracefulPodDeletion, info.kind == "Pod", info.group.isEmpty,
           let node = current[path: "spec", "nodeName"]?.stringValue, !node.isEmpty {
            let grace = options.gracePeriodSeconds ?? current[path: "spec", "terminationGracePeriodSeconds"]?.intValue ?? 30
            if grace > 0 {
                let currentGrace = current[path: "metadata", "deletionGracePeriodSeconds"]?.intValue
                if current.deletionTimestamp != nil, let currentGrace, currentGrace <= grace { return .pending(current) }
                obj.finalizers = finalizers
                obj[path: "metadata", "deletionTimestamp"] = .string(Timestamp.format(Date().addingTimeInterval(TimeInterval(grace))))
                obj[path: "metadata", "deletionGracePeriodSeconds"] = .int(grace)
                if options.dryRun { return .pending(obj) }
                return .pending(try commit(.modified, resource: info.resourceKey, object: obj, old: current))
            }
        }
        if finalizers.isEmpty {
            if options.dryRun { return .deleted(current) }
            let gone = try commit(.deleted, resource: info.resourceKey, object: current, old: current)
            afterDelete(info, gone)
            return .deleted(gone)
        }
        obj.finalizers = finalizers
        if obj.deletionTimestamp == nil {
            obj[path: "metadata", "deletionTimestamp"] = .string(Timestamp.format(Date()))
            obj[path: "metadata", "deletionGracePeriodSeconds"] = .int(options.gracePeriodSeconds ?? 0)
        }
        if options.dryRun { return .pending(obj) }
        if obj == current { return .pending(current) }
        let stored = try commit(.modified, resource: info.resourceKey, object: obj, old: current)
        scheduleGC()
        return .pending(stored)
    }

    // MARK: Hooks

    func afterCreate(_ info: ResourceInfo, _ obj: JSONValue) {
        if info.kind == "Namespace", info.group.isEmpty, let ns = obj.name {
            // The service-account controller creates `default` in every namespace.
            if let sa = resource(group: "", version: "v1", plural: "serviceaccounts") {
                _ = try? create(sa, ["metadata": ["name": "default", "namespace": .string(ns)]], scope: .all, dryRun: false)
            }
        }
        if info.kind == "CustomResourceDefinition" { crdChanged(obj, old: nil) }
        if !obj.ownerReferences.isEmpty { scheduleGC() }
    }

    func afterUpdate(_ info: ResourceInfo, _ obj: JSONValue, old: JSONValue) {
        if info.kind == "CustomResourceDefinition" { crdChanged(obj, old: old) }
        if obj.deletionTimestamp != nil || obj.ownerReferences != old.ownerReferences { scheduleGC() }
        if info.kind == "Pod", info.group.isEmpty, storageAwaitsPods { scheduleGC() }  // a claim may be free now
    }

    func afterDelete(_ info: ResourceInfo, _ obj: JSONValue) {
        if info.kind == "CustomResourceDefinition" { crdDeleted(obj) }
        scheduleGC()
    }
}
