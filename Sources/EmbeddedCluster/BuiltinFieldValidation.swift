import KubeCore
import Synchronization

/// Decoding of built-in kinds against their upstream schemas (Schema/BuiltinSchemas.swift), as kube-apiserver's
/// handlers decode them (k8s.io/apiserver/pkg/endpoints/handlers: create.go, update.go, patch.go):
/// - a value of the wrong JSON type is refused whatever `fieldValidation` says: 400 on create and update
///   (`... cannot be handled as a Deployment: json: cannot unmarshal ...`), 422 on the `patch` field of a patch;
/// - unknown fields are dropped: under `Strict` refused (400 on create and update with `strict decoding error:
///   unknown field "..."`, 422 Invalid on the `patch` field of a JSON, merge or strategic merge patch), under `Warn`
///   (the server's default) named in `Warning` headers, under `Ignore` dropped silently;
/// - server-side apply refuses them whatever `fieldValidation` says: its typed conversion fails with
///   `failed to create typed patch object (ns/name; /v1, Kind=ConfigMap): .bogus: field not declared in schema`,
///   answered 500 with no reason (kubernetes/kubernetes#122480, still so in 1.33).
extension APIServer {
    /// The `fieldValidation` directive of a write (`Warn` when absent, as upstream); `Strict` for every write when
    /// the cluster was started with `strictFieldValidation` (DevClusterOptions).
    func fieldValidation(_ req: APIRequest) -> String {
        strictFieldValidation ? "Strict" : req.query["fieldValidation"] ?? "Warn"
    }

    /// The body of a create or update, in the version it was sent in. Answers the `Warning` headers.
    func decodeBuiltin(_ req: APIRequest, _ info: ResourceInfo, _ obj: inout JSONValue) throws(APIStatusError) -> [(String, String)] {
        guard let root = BuiltinSchemas.vendored.definitionName(info) else { return [] }
        let found = decodeAgainstSchema(&obj, as: root)
        let cannotHandle = "\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): "
        if let typeError = found.typeError { throw .badRequest(cannotHandle + typeError) }
        return try unknownFields(found.unknown.map(\.path), req, info) {
            .badRequest(cannotHandle + "strict decoding error: " + $0)
        }
    }

    /// An object after a JSON, merge or strategic merge patch of `current`; `patch` is the patch as sent (strategic
    /// merge patch errors print it Go-style, the others print the patched object).
    func decodePatchedBuiltin(_ req: APIRequest, _ info: ResourceInfo, _ patched: inout JSONValue, current: JSONValue,
                              patch: JSONValue) throws(APIStatusError) -> [(String, String)] {
        guard let root = BuiltinSchemas.vendored.definitionName(info) else { return [] }
        let shown = req.contentType == "application/strategic-merge-patch+json" ? GoFormat.plain(patch) : patched.serialized()
        func invalid(_ detail: String) -> APIStatusError {
            .invalid(kind: "", group: "", name: "", causes: [.invalid("patch", GoFormat.quote(shown), detail)])
        }
        let found = decodeAgainstSchema(&patched, as: root)
        if let typeError = found.typeError { throw invalid(typeError) }
        var unknown = found.unknown.map(\.path)
        if !unknown.isEmpty {
            // Only the patch's own: a field stored by an in-process writer (the simulation) is not the client's doing.
            var stored = current
            let already = Set(decodeAgainstSchema(&stored, as: root).unknown.map(\.path))
            unknown.removeAll { already.contains($0) }
        }
        return try unknownFields(unknown, req, info) { invalid("strict decoding error: " + $0) }
    }

    /// A server-side apply patch: any unknown field refuses it.
    func checkAppliedBuiltin(_ req: APIRequest, _ info: ResourceInfo, _ intent: JSONValue, namespace: String?, name: String) throws(APIStatusError) {
        guard let root = BuiltinSchemas.vendored.definitionName(info) else { return }
        var copy = intent
        let unknown = decodeAgainstSchema(&copy, as: root).unknown
        guard !unknown.isEmpty else { return }
        recordUnknown(unknown.map(\.path), req, info)
        let errors = unknown.map { "\($0.applyPath): field not declared in schema" }
        let detail = errors.count == 1 ? errors[0] : (["errors:"] + errors.map { "  " + $0 }).joined(separator: "\n")
        let gvk = "\(info.apiVersion.contains("/") ? info.apiVersion : "/" + info.apiVersion), Kind=\(info.kind)"
        throw APIStatusError(code: 500, reason: "",
                             message: "failed to create typed patch object (\(namespace ?? "")/\(name); \(gvk)): \(detail)")
    }

    private func decodeAgainstSchema(_ obj: inout JSONValue, as root: String) -> BuiltinDecoding {
        var decoding = BuiltinDecoding(schemas: BuiltinSchemas.vendored)
        decoding.decode(&obj, as: root)
        return decoding
    }

    /// `fieldValidation` on unknown fields already removed from the object: the error under Strict, `Warning`
    /// headers under Warn, nothing under Ignore. Shared with custom resources (PatchHandler.pruneUnknown).
    func unknownFields(_ paths: [String], _ req: APIRequest, _ info: ResourceInfo,
                       strict: (String) -> APIStatusError) throws(APIStatusError) -> [(String, String)] {
        guard !paths.isEmpty else { return [] }
        recordUnknown(paths, req, info)
        switch fieldValidation(req) {
        case "Strict":
            throw strict(paths.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        case "Ignore":
            return []
        default:
            return paths.map { ("Warning", "299 - \"unknown field \\\"\($0)\\\"\"") }
        }
    }

    private func recordUnknown(_ paths: [String], _ req: APIRequest, _ info: ResourceInfo) {
        unknownFieldLog.append(UnknownFieldReport(method: req.method, path: req.path, userAgent: req.headers["user-agent"],
                                                  kind: info.kind, fields: paths))
    }
}

extension DevCluster {
    /// Writes that carried fields their kind's schema does not declare (built-in kinds: the vendored upstream
    /// schema; custom resources: their CRD's), oldest first, whatever `fieldValidation` made of them.
    public func unknownFieldReports() -> [UnknownFieldReport] { api.unknownFieldLog.all }

    /// Stored objects of built-in kinds holding fields their upstream schema does not declare, or values of the
    /// wrong type (`pods default/x: spec.bogus`): what the cluster's own in-process writers (the simulation) may
    /// have put there, since only HTTP writes are decoded. A real API server can hold none.
    public func undeclaredFieldsInStore() async -> [String] {
        var problems: [String] = []
        for info in await store.servedResources() {
            guard let root = BuiltinSchemas.vendored.definitionName(info), info.storedAs == nil else { continue }
            for obj in (try? await store.list(info.resourceKey, namespace: nil).items) ?? [] {
                var decoding = BuiltinDecoding(schemas: BuiltinSchemas.vendored)
                var copy = obj
                decoding.decode(&copy, as: root)
                let found = decoding.unknown.map(\.path) + (decoding.typeError.map { [$0] } ?? [])
                if !found.isEmpty {
                    problems.append("\(info.qualifiedName) \(obj.namespace.map { $0 + "/" } ?? "")\(obj.name ?? ""): \(found.joined(separator: ", "))")
                }
            }
        }
        return problems
    }
}

/// A write that carried fields its kind's schema does not declare (whatever the server did with them).
public struct UnknownFieldReport: Sendable, Equatable, CustomStringConvertible {
    public var method: String
    public var path: String
    public var userAgent: String?
    public var kind: String
    /// `spec.containers[0].bogus`
    public var fields: [String]

    public var description: String { "\(method) \(path) (\(userAgent ?? "no user agent")): \(kind) \(fields.joined(separator: ", "))" }
}

/// The most recent unknown-field reports, bounded: what a test reads to prove a client writes only declared fields.
final class UnknownFieldLog: Sendable {
    static let capacity = 1_000
    private let reports = Mutex<[UnknownFieldReport]>([])

    func append(_ r: UnknownFieldReport) {
        reports.withLock {
            $0.append(r)
            if $0.count > Self.capacity { $0.removeFirst() }
        }
    }

    var all: [UnknownFieldReport] { reports.withLock { $0 } }
}
