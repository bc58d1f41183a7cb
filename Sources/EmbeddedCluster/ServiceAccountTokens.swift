import Foundation
import KubeCore

/// The TokenRequest API (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, authentication.k8s.io/v1
/// TokenRequest; pkg/registry/core/serviceaccount/storage/token.go): what `kubectl create token` and the kubelet's
/// projected volumes call. The token authenticates as `system:serviceaccount:<ns>:<name>` until it expires.
///
/// Simplified: the token is an opaque random string looked up in the authenticator's table, not a signed JWT,
/// and it is not invalidated when its ServiceAccount is deleted; audiences are echoed, not checked.
extension APIServer {
    /// kube-apiserver's default when `--api-audiences` is not set: the issuer, `https://kubernetes.default.svc.cluster.local`.
    static let defaultAudience = "https://kubernetes.default.svc.cluster.local"

    func serviceAccountToken(_ req: APIRequest, namespace: String, name: String) async throws -> APIResponse {
        guard req.method == "POST" else { throw APIStatusError.methodNotAllowed() }
        guard await store.get("serviceaccounts", namespace: namespace, name: name) != nil else {
            throw APIStatusError.notFound("serviceaccounts", name, group: "", kind: "serviceaccounts")
        }
        var request = try parseBody(req)
        if let kind = request.kind, !kind.isEmpty, kind != "TokenRequest" {
            throw APIStatusError.badRequest("the server could not find the requested resource: kind \(kind) does not match TokenRequest")
        }
        // Defaulted to one hour (k8s.io/api/authentication/v1 `ExpirationSeconds`), at least ten minutes
        // (pkg/apis/authentication/validation `ValidateTokenRequest`).
        let seconds = request[path: "spec", "expirationSeconds"]?.intValue ?? 3600
        if seconds < 600 {
            throw APIStatusError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name,
                                         causes: [.invalid("spec.expirationSeconds", "\(seconds)", "may not specify a duration less than 10 minutes")])
        }
        if seconds > 1 << 32 {
            throw APIStatusError.invalid(kind: "TokenRequest", group: "authentication.k8s.io", name: name,
                                         causes: [.invalid("spec.expirationSeconds", "\(seconds)", "may not specify a duration larger than 2^32 seconds")])
        }
        let audiences = request[path: "spec", "audiences"]?.arrayValue ?? []
        let expires = Date().addingTimeInterval(TimeInterval(seconds))
        let token = Self.newToken()
        if !req.dryRun {
            authenticator.addToken(token, user: "system:serviceaccount:\(namespace):\(name)", expires: expires)
        }
        request["apiVersion"] = "authentication.k8s.io/v1"
        request["kind"] = "TokenRequest"
        request[path: "metadata", "name"] = .string(name)
        request[path: "metadata", "namespace"] = .string(namespace)
        request[path: "metadata", "creationTimestamp"] = .null
        request[path: "spec", "audiences"] = audiences.isEmpty ? [.string(Self.defaultAudience)] : .array(audiences)
        request[path: "spec", "expirationSeconds"] = .int(seconds)
        if request[path: "spec", "boundObjectRef"] == nil { request[path: "spec", "boundObjectRef"] = .null }
        request["status"] = ["token": .string(token), "expirationTimestamp": .string(Timestamp.format(expires))]
        return .json(request, status: 201)
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
