import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// `authorization: .rbac`: the stored roles and bindings decide for every identity but the admin, with
/// kube-apiserver's 403 messages, and `kubectl auth can-i` (SelfSubjectAccessReview) answers from the same rules.
@Suite(.serialized)
struct RBACEnforcementTests {
    init() throws { try Prerequisite.kubectl() }

    static let policy = """
        apiVersion: v1
        kind: Namespace
        metadata: {name: team}
        ---
        apiVersion: v1
        kind: ServiceAccount
        metadata: {name: reader, namespace: team}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata: {name: configmap-reader, namespace: team}
        rules:
        - {apiGroups: [""], resources: [configmaps], verbs: [get, list, watch]}
        - {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [visible]}
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: reader, namespace: team}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: configmap-reader}
        subjects: [{kind: ServiceAccount, name: reader, namespace: team}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: pod-logs}
        rules: [{apiGroups: [""], resources: [pods/log], verbs: [get]}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata: {name: logs, namespace: team}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-logs}
        subjects: [{kind: Group, name: "system:serviceaccounts:team", apiGroup: rbac.authorization.k8s.io}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: alice-ghost}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ghost}
        subjects: [{kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}]
        """

    @Test func storedRulesDecideWithUpstreamMessages() async throws {
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        try await withCluster(TestCluster.bare(options)) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.policy)
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("create", "configmap", "settings", "-n", "team", "--from-literal=a=1")
            #expect(r.ok, "the admin may do everything: \(r.stderr)")
            r = await t.kubectl("create", "token", "reader", "-n", "team")
            let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(r.ok && !token.isEmpty, "\(r.stderr)")
            let kubeconfig = t.dir + "/reader.kubeconfig"
            try t.cluster.kubeconfigYAML().replacingOccurrences(of: t.cluster.token, with: token)
                .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let user = "system:serviceaccount:team:reader"

            // What the reader sees, with the installed kubectl, 1.27 and 1.33: the same 403s, word for word.
            for kubectl in [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133()) {
                func reader(_ args: String...) async -> CommandResult {
                    await t.kubectl(release: kubectl, args: args, kubeconfig: kubeconfig)
                }
                r = await reader("get", "configmaps", "-n", "team")
                #expect(r.ok && r.stdout.contains("settings"), "granted by the Role: \(kubectl): \(r.stderr)")
                r = await reader("get", "configmaps", "-n", "default")
                #expect(r.stderr.contains(#"Error from server (Forbidden): configmaps is forbidden: User "\#(user)" cannot list resource "configmaps" in API group "" in the namespace "default""#), "\(kubectl): \(r.stderr)")
                r = await reader("delete", "configmap", "settings", "-n", "team")
                #expect(r.stderr.contains(#"configmaps "settings" is forbidden: User "\#(user)" cannot delete resource "configmaps" in API group "" in the namespace "team""#), "\(kubectl): \(r.stderr)")
                r = await reader("get", "deployments.apps", "-A")
                #expect(r.stderr.contains(#"deployments.apps is forbidden: User "\#(user)" cannot list resource "deployments" in API group "apps" at the cluster scope"#), "\(kubectl): \(r.stderr)")
                r = await reader("create", "token", "reader", "-n", "team")
                #expect(r.stderr.contains(#"serviceaccounts "reader" is forbidden: User "\#(user)" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team""#), "\(kubectl): \(r.stderr)")
                // Discovery is open to every authenticated user.
                r = await reader("api-resources", "--api-group=apps", "-o", "name")
                #expect(r.ok && r.stdout.contains("deployments.apps"), "\(kubectl): \(r.stderr)")
                // kubectl auth can-i asks the server (SelfSubjectAccessReview).
                r = await reader("auth", "can-i", "watch", "configmaps", "-n", "team")
                #expect(r.ok && r.stdout == "yes\n", "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await reader("auth", "can-i", "create", "configmaps", "-n", "team")
                #expect(r.status == 1 && r.stdout == "no\n", "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await reader("auth", "can-i", "get", "secret/visible", "-n", "team")
                #expect(r.ok && r.stdout == "yes\n", "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await reader("auth", "can-i", "get", "secret/hidden", "-n", "team")
                #expect(r.status == 1 && r.stdout == "no\n", "\(kubectl): \(r.stdout) \(r.stderr)")
                r = await t.kubectl(release: kubectl, "auth", "can-i", "delete", "nodes")
                #expect(r.ok && r.stdout == "yes\n", "the admin: \(kubectl): \(r.stdout) \(r.stderr)")
                // The admin's token request through this release is accepted (TokenRequest, serviceaccounts/token).
                r = await t.kubectl(release: kubectl, "create", "token", "reader", "-n", "team", "--duration=10m")
                let issued = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(r.ok && !issued.isEmpty, "\(kubectl): \(r.stderr)")
                #expect(await t.curl("GET", "/api/v1/namespaces/team/configmaps", token: issued).0 == 200, "\(kubectl)'s token is the reader's")
            }

            // resourceNames: only the named secret, never a list.
            var (code, body) = await t.curl("GET", "/api/v1/namespaces/team/secrets/visible", token: token)
            #expect(code == 404, "allowed, then not found: \(body)")
            (code, body) = await t.curl("GET", "/api/v1/namespaces/team/secrets/hidden", token: token)
            #expect(code == 403, "\(body)")
            (code, _) = await t.curl("GET", "/api/v1/namespaces/team/secrets", token: token)
            #expect(code == 403)
            // A ClusterRole through a RoleBinding to a group: pods/log in team only.
            (code, body) = await t.curl("GET", "/api/v1/namespaces/team/pods/nope/log", token: token)
            #expect(code == 404, "\(body)")
            (code, body) = await t.curl("GET", "/api/v1/namespaces/default/pods/nope/log", token: token)
            let status = try JSONValue.parse(body)
            #expect(code == 403 && status["reason"] == "Forbidden" && status[path: "details", "kind"] == "pods" && status[path: "details", "name"] == "nope",
                    "\(body)")
            #expect(status["message"] == .string(#"pods "nope" is forbidden: User "\#(user)" cannot get resource "pods/log" in API group "" in the namespace "default""#))
            // Non-resource paths other than discovery are not open to every user.
            (code, body) = await t.curl("GET", "/logs/", token: token)
            #expect(code == 403 && body.contains(#"forbidden: User \"\#(user)\" cannot get path \"/logs/\""#), "\(body)")

            // A binding to a role that does not exist grants nothing and says so.
            t.cluster.addToken("alice-token", user: "alice")
            (code, body) = await t.curl("GET", "/api/v1/pods", token: "alice-token")
            #expect(code == 403 && body.contains(#"pods is forbidden: User \"alice\" cannot list resource \"pods\" in API group \"\" at the cluster scope: RBAC: clusterrole.rbac.authorization.k8s.io \"ghost\" not found"#), "\(body)")
            r = await t.kubectl("create", "clusterrole", "ghost", "--verb=list", "--resource=pods")
            #expect(r.ok, "\(r.stderr)")
            (code, body) = await t.curl("GET", "/api/v1/pods", token: "alice-token")
            #expect(code == 200, "the role now exists: \(body)")

            // The bootstrap roles are stored, as on a real cluster: binding cluster-admin grants everything.
            r = await t.kubectl("get", "clusterroles", "-o", "name")
            for role in ["cluster-admin", "system:discovery", "system:public-info-viewer", "system:basic-user"] {
                #expect(r.stdout.contains("clusterrole.rbac.authorization.k8s.io/\(role)\n"), "\(role): \(r.stdout)")
            }
            (code, _) = await t.curl("DELETE", "/api/v1/namespaces/team/configmaps/settings", token: "alice-token")
            #expect(code == 403)
            r = await t.kubectl("create", "clusterrolebinding", "alice-admin", "--clusterrole=cluster-admin", "--user=alice")
            #expect(r.ok, "\(r.stderr)")
            (code, body) = await t.curl("DELETE", "/api/v1/namespaces/team/configmaps/settings", token: "alice-token")
            #expect(code == 200, "\(body)")
        }
    }

    @Test func alwaysAllowIsTheDefault() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            t.cluster.addToken("nobody-token", user: "nobody")
            let (code, body) = await t.curl("GET", "/api/v1/nodes", token: "nobody-token")
            #expect(code == 200, "\(body)")
            let (created, review) = await t.curl("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                                 body: #"{"spec":{"resourceAttributes":{"verb":"delete","resource":"nodes"}}}"#,
                                                 token: "nobody-token")
            let allowed = try JSONValue.parse(review)[path: "status", "allowed"]
            #expect(created == 201 && allowed == true, "\(review)")
        }
    }
}
