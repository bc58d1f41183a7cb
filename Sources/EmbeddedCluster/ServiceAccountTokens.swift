import Foundation
import KubeCore

/// The TokenRequest API (`POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`, authentication.k8s.io/v1
/// TokenRequest; pkg/registry/core/serviceaccount/storage/token.go): what `kubectl create token` and the kubelet's
/// projected volumes call. The token authenticates as `system:serviceaccount:<ns>:<name>` until it expires.
///
/// The token stops being accepted when its ServiceAccount, or the pod of `boundObjectRef`, is gone or was
/// recreated (another uid), or has been deleting for more than 60 s (`stillValid`).
/// Simplified: the token is an opaque random string looked up in the authenticator's table, not a signed JWT;
/// audiences are echoed, not checked; only pods can be bound.
extension APIServer {
    /// kube-apiserver's default when `--api-audiences` is not set: the issuer, `https://kubernetes.default.svc.cluster.local`.
    static let defaultAudience = "https://kubernetes.default.svc.cluster.local"

    func serviceAccountToken(_ req: APIRequest, namespace: String, name: String) async throws -> APIResponse {
        guard req.method == "POST" else { throw APIStatusError.methodNotAllowed() }
        guard let account = await store.get("serviceaccounts", namespace: namespace, name: name) else {
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
        var binding = TokenBinding(namespace: namespace, serviceAccount: name, serviceAccountUID: account.uid ?? "")
        if let ref = request[path: "spec", "boundObjectRef"], ref != .null {
            // Only pods are bound here (upstream also binds Secrets and Nodes); the pod must exist, uid as given.
            let podName = ref["name"]?.stringValue ?? ""
            guard ref["kind"] == "Pod", let pod = await store.get("pods", namespace: namespace, name: podName) else {
                throw APIStatusError.notFound("pods", podName, group: "", kind: "pods")
            }
            if (pod[path: "spec", "serviceAccountName"]?.stringValue ?? "default") != name {
                throw APIStatusError.badRequest("cannot bind token for serviceaccount \"\(name)\" to pod running with different serviceaccount name.")
            }
            // Upstream names the resource by the reference's kind here (`Operation cannot be fulfilled on Pod "x"`).
            if let uid = ref["uid"]?.stringValue, !uid.isEmpty, uid != pod.uid {
                throw APIStatusError.conflict("Pod", podName, group: "", kind: "Pod",
                                              detail: "the UID in the bound object reference (\(uid)) does not match the UID in record. The object might have been deleted and then recreated")
            }
            binding.pod = (podName, pod.uid ?? "")
        }
        let audiences = request[path: "spec", "audiences"]?.arrayValue ?? []
        let expires = Date().addingTimeInterval(TimeInterval(seconds))
        let token = Self.newToken()
        if !req.dryRun {
            authenticator.addToken(token, user: "system:serviceaccount:\(namespace):\(name)", expires: expires, binding: binding)
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

extension APIServer {
    /// pkg/serviceaccount/claims.go `Validate`: the bound objects still exist with the same uid and are not
    /// deleting for longer than 60 s.
    func stillValid(_ binding: TokenBinding) async -> Bool {
        func alive(_ obj: JSONValue?, uid: String) -> Bool {
            guard let obj, obj.uid == uid else { return false }
            guard let deleting = obj.deletionTimestamp.flatMap(Timestamp.parse) else { return true }
            return deleting > Date().addingTimeInterval(-60)
        }
        let account = await store.get("serviceaccounts", namespace: binding.namespace, name: binding.serviceAccount)
        guard alive(account, uid: binding.serviceAccountUID) else { return false }
        guard let pod = binding.pod else { return true }
        return alive(await store.get("pods", namespace: binding.namespace, name: pod.name), uid: pod.uid)
    }
}
