import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// OwnerReferencesPermissionEnforcement with RBAC enforced (API-SEMANTICS rule 33), through libcurl (the curl
/// CLI) as a non-admin user: a reference with `blockOwnerDeletion: true` needs `update` on the owner's
/// `finalizers`; changing an object's references needs `delete` on it. Messages as kube-apiserver's
/// plugin/pkg/admission/gc words them (403 Forbidden, `: <reason>, <nil>` at the end).
@Suite(.serialized)
struct OwnerReferencesAdmissionTests {
    init() throws { try Prerequisite.kubectl() }

    static let policy = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: team}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: builder, namespace: team}
        rules:
        - {apiGroups: [""], resources: [configmaps], verbs: [get, create, update, patch]}
        - {apiGroups: [""], resources: [secrets], verbs: [get, create, update, patch, delete]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: builder, namespace: team}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: builder}
        subjects: [{kind: User, name: builder, apiGroup: rbac.authorization.k8s.io}]
        """

    /// A Secret owned by the ConfigMap `owner`.
    static func secret(_ name: String, ownerUID: String, blocking: Bool, kind: String = "ConfigMap") -> String {
        #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"\#(name)","ownerReferences":[{"apiVersion":"v1","kind":"\#(kind)","name":"owner","uid":"\#(ownerUID)","controller":true,"blockOwnerDeletion":\#(blocking)}]}}"#
    }

    @Test func blockOwnerDeletionNeedsTheOwnersFinalizersAndChangingOwnersNeedsDelete() async throws {
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        try await withCluster(TestCluster.bare(options)) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.policy)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("create", "configmap", "owner", "-n", "team", "-o", "jsonpath={.metadata.uid}")
            let uid = r.stdout
            #expect(r.ok && !uid.isEmpty, "\(r.stderr)")
            t.cluster.addToken("builder-token", user: "builder")
            let secrets = "/api/v1/namespaces/team/secrets"

            // Create: a non-blocking reference needs nothing more (whoever may create it could have left it uncreated).
            var (code, body) = await t.curl("POST", secrets, body: Self.secret("loose", ownerUID: uid, blocking: false), token: "builder-token")
            #expect(code == 201, "\(body)")
            // A blocking one needs update on configmaps/finalizers of the owner, which the Role does not grant.
            (code, body) = await t.curl("POST", secrets, body: Self.secret("tied", ownerUID: uid, blocking: true), token: "builder-token")
            var status = try JSONValue.parse(body)
            #expect(code == 403 && status["reason"] == "Forbidden" && status[path: "details", "name"] == "tied"
                    && status[path: "details", "kind"] == "secrets", "\(body)")
            #expect(status["message"] == #"secrets "tied" is forbidden: cannot set blockOwnerDeletion if an ownerReference refers to a resource you can't set finalizers on: , <nil>"#)
            // The request log shows the check admission made, beside the request's own.
            let logged = t.cluster.requests().last { $0.method == "POST" && $0.path == secrets && $0.code == 403 }
            #expect(logged?.authorizations.map(\.description) == ["create core/secrets in team → allowed",
                                                                  "update core/configmaps/finalizers in team → denied"])
            #expect(logged?.authorizations.last?.name == "owner")
            // generateName names the refused object; server-side apply and PUT are judged alike.
            (code, body) = await t.curl("POST", secrets, body: Self.secret("", ownerUID: uid, blocking: true)
                .replacingOccurrences(of: #""name":"","#, with: #""generateName":"tied-","#), token: "builder-token")
            status = try JSONValue.parse(body)
            #expect(code == 403 && (status["message"]?.stringValue ?? "").hasPrefix(#"secrets "tied-" is forbidden: cannot set blockOwnerDeletion"#), "\(body)")
            (code, body) = await t.curl("PATCH", secrets + "/applied?fieldManager=builder", body: Self.secret("applied", ownerUID: uid, blocking: true),
                                        contentType: "application/apply-patch+yaml", token: "builder-token")
            #expect(code == 403 && body.contains("you can't set finalizers on"), "server-side apply: \(body)")
            // Turning an existing reference blocking is a new blocking reference.
            (code, body) = await t.curl("PUT", secrets + "/loose", body: Self.secret("loose", ownerUID: uid, blocking: true), token: "builder-token")
            #expect(code == 403 && body.contains("you can't set finalizers on"), "PUT: \(body)")
            // An owner kind the server does not serve has no REST mapping.
            (code, body) = await t.curl("POST", secrets, body: Self.secret("odd", ownerUID: uid, blocking: true, kind: "Gadget"), token: "builder-token")
            #expect(code == 403 && body.contains(#"cannot set blockOwnerDeletion in this case because cannot find RESTMapping for APIVersion v1 Kind Gadget: no matches for kind \"Gadget\" in version \"v1\""#), "\(body)")

            // Granted update on the owner's finalizers (by name), the same requests pass.
            r = await t.kubectl("create", "role", "finalizer", "-n", "team", "--verb=update", "--resource=configmaps/finalizers", "--resource-name=owner")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("create", "rolebinding", "finalizer", "-n", "team", "--role=finalizer", "--user=builder")
            #expect(r.ok, "\(r.stderr)")
            (code, body) = await t.curl("POST", secrets, body: Self.secret("tied", ownerUID: uid, blocking: true), token: "builder-token")
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("PUT", secrets + "/loose", body: Self.secret("loose", ownerUID: uid, blocking: true), token: "builder-token")
            #expect(code == 200, "\(body)")
            (code, body) = await t.curl("PATCH", secrets + "/applied?fieldManager=builder", body: Self.secret("applied", ownerUID: uid, blocking: true),
                                        contentType: "application/apply-patch+yaml", token: "builder-token")
            #expect(code == 201, "server-side apply: \(body)")

            // Update: changing the references of an object needs delete on it. The builder may not delete ConfigMaps.
            let configMaps = "/api/v1/namespaces/team/configmaps"
            (code, body) = await t.curl("POST", configMaps, body: #"{"metadata":{"name":"dependent"}}"#, token: "builder-token")
            #expect(code == 201, "\(body)")
            let adopt = #"{"metadata":{"ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"\#(uid)"}]}}"#
            (code, body) = await t.curl("PATCH", configMaps + "/dependent", body: adopt, contentType: "application/merge-patch+json", token: "builder-token")
            status = try JSONValue.parse(body)
            #expect(code == 403 && status["message"] == #"configmaps "dependent" is forbidden: cannot set an ownerRef on a resource you can't delete: , <nil>"#, "\(body)")
            // A write that leaves the references as they are needs nothing more.
            (code, body) = await t.curl("PATCH", configMaps + "/dependent", body: #"{"metadata":{"labels":{"a":"b"}}}"#,
                                        contentType: "application/merge-patch+json", token: "builder-token")
            #expect(code == 200, "\(body)")
            // Secrets it may delete: their references may change (and be dropped).
            (code, body) = await t.curl("PATCH", secrets + "/tied", body: #"{"metadata":{"ownerReferences":null}}"#,
                                        contentType: "application/merge-patch+json", token: "builder-token")
            #expect(code == 200, "\(body)")

            // The admin is not judged (system:masters may do everything).
            r = await t.kubectl("patch", "configmap", "dependent", "-n", "team", "--type=merge", "-p", adopt)
            #expect(r.ok, "\(r.stderr)")
        }
    }

    @Test func notEnforcedWithoutRBAC() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            let r = await t.kubectl("create", "configmap", "owner", "-o", "jsonpath={.metadata.uid}")
            #expect(r.ok, "\(r.stderr)")
            t.cluster.addToken("anyone-token", user: "anyone")
            let (code, body) = await t.curl("POST", "/api/v1/namespaces/default/secrets", body: Self.secret("tied", ownerUID: r.stdout, blocking: true),
                                            token: "anyone-token")
            #expect(code == 201, "AlwaysAllow authorizes every check: \(body)")
            #expect(t.cluster.requests().allSatisfy { $0.authorizations.isEmpty }, "no authorizer ran")
        }
    }
}
