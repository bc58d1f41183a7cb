import Foundation
import KubeCore

/// How requests are authorized (kube-apiserver's `--authorization-mode`).
public enum AuthorizationMode: String, Sendable, CaseIterable {
    /// Every authenticated request may do everything (the default of the dev cluster).
    case alwaysAllow = "AlwaysAllow"
    /// RBAC for every identity but the admin (RBACAuthorizer), which stands for `system:masters`.
    case rbac = "RBAC"
}

extension ObjectStore {
    /// The stored RBAC objects, read at the request's moment.
    func rbacPolicy() -> RBACAuthorizer.Policy {
        func all(_ key: String) -> [JSONValue] { select(key, namespace: nil, labels: LabelQuery(), fields: FieldQuery()) }
        return RBACAuthorizer.Policy(roles: all("roles.rbac.authorization.k8s.io"),
                                     clusterRoles: RBACAggregation.resolve(all("clusterroles.rbac.authorization.k8s.io")),
                                     roleBindings: all("rolebindings.rbac.authorization.k8s.io"),
                                     clusterRoleBindings: all("clusterrolebindings.rbac.authorization.k8s.io"))
    }
}

extension APIServer {
    /// nil when the request may go on, else the 403 to answer.
    func authorizationFailure(_ req: APIRequest, route: Route, user: String?) async -> APIStatusError? {
        guard authorization == .rbac, let user, user != Authenticator.adminUser else { return nil }
        let attributes = AccessAttributes(user: user, method: req.method, path: req.path, route: route, watch: req.flag("watch"))
        let decision = RBACAuthorizer.authorize(attributes, await store.rbacPolicy())
        req.authorizations.record(attributes, allowed: decision.allowed)
        return decision.allowed ? nil : RBACAuthorizer.forbidden(attributes, reason: decision.reason)
    }

    /// authorization.k8s.io/v1 SelfSubjectAccessReview (`kubectl auth can-i`): the request's own identity checked
    /// against the attributes in its spec, with the mode in force (AlwaysAllow allows all).
    func selfSubjectAccessReview(_ req: APIRequest, user: String?) async throws -> APIResponse {
        guard req.method == "POST" else { throw APIStatusError.methodNotAllowed() }
        var review = try parseBody(req)
        let name = user ?? "system:anonymous"
        let attributes: AccessAttributes
        if let r = review[path: "spec", "resourceAttributes"], r != .null {
            func s(_ key: String) -> String { r[key]?.stringValue ?? "" }
            attributes = AccessAttributes(user: name, resource: s("resource"), group: s("group"), verb: s("verb"),
                                          subresource: s("subresource"), namespace: s("namespace"), name: s("name"))
        } else if let n = review[path: "spec", "nonResourceAttributes"], n != .null {
            attributes = AccessAttributes(user: name, path: n["path"]?.stringValue ?? "", verb: n["verb"]?.stringValue ?? "")
        } else {
            throw APIStatusError.invalid(kind: "SelfSubjectAccessReview", group: "authorization.k8s.io", name: "",
                                         causes: [.init(field: "spec.resourceAttributes", reason: "FieldValueRequired",
                                                        message: "Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified")])
        }
        var status: JSONValue = ["allowed": true]
        if authorization == .rbac, user != Authenticator.adminUser {
            let decision = RBACAuthorizer.authorize(attributes, await store.rbacPolicy())
            status["allowed"] = .bool(decision.allowed)
            if !decision.reason.isEmpty { status["evaluationError"] = .string(decision.reason) }
        }
        review["apiVersion"] = "authorization.k8s.io/v1"
        review["kind"] = "SelfSubjectAccessReview"
        review[path: "metadata", "creationTimestamp"] = .null
        review["status"] = status
        return .json(review, status: 201)
    }
}
