import EmbeddedCluster
import Foundation
import GantryTestSupport
import Testing

/// deploy/rbac-users.yaml: people bound to Kubernetes' own `view`, `edit` or `admin` in a namespace get Gantry's
/// kinds through ClusterRole aggregation (docs/admin.md, "Who may do what"), with RBAC enforced by the embedded
/// cluster and each user a ServiceAccount token used by real kubectl.
@Suite(.serialized)
struct UserRolesTests {
    init() throws { try Prerequisite.kubectl() }

    static let root = OperatorHarness.repoRoot

    /// Namespaces team-a and team-b; in team-a a ServiceAccount per user, bound to the built-in role.
    static let users = [("viewer", "view"), ("editor", "edit"), ("owner", "admin")]
    static var team: String {
        var documents = ["apiVersion: v1\nkind: Namespace\nmetadata: {name: team-a}", "apiVersion: v1\nkind: Namespace\nmetadata: {name: team-b}"]
        for (user, role) in users {
            documents.append("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: \(user), namespace: team-a}")
            documents.append("""
                apiVersion: rbac.authorization.k8s.io/v1
                kind: RoleBinding
                metadata: {name: \(user), namespace: team-a}
                roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: \(role)}
                subjects: [{kind: ServiceAccount, name: \(user), namespace: team-a}]
                """)
        }
        return documents.joined(separator: "\n---\n")
    }

    @Test func viewEditAndAdminInANamespaceCoverGantrysKinds() async throws {
        try await withInstall { t, installed async throws in
            for role in ["gantry-view", "gantry-edit", "gantry-admin"] {
                #expect(installed.stdout.contains("clusterrole.rbac.authorization.k8s.io/\(role) created"), "\(role): \(installed.stdout)")
            }
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.team)
            #expect(r.ok, "\(r.stderr)")
            var tokens: [String: String] = [:]
            for (user, _) in Self.users {
                r = await t.kubectl("create", "token", user, "-n", "team-a")
                #expect(r.ok, "\(r.stderr)")
                tokens[user] = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            func can(_ user: String, _ question: [String]) async -> String {
                let asked = await t.kubectl(args: ["--token", tokens[user] ?? "", "auth", "can-i"] + question)
                return asked.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let answers: [(String, [String], String)] = [
                ("viewer", ["list", "trainingjobs.gantry.dev", "-n", "team-a"], "yes"),
                ("viewer", ["get", "notebooks.gantry.dev", "-n", "team-a"], "yes"),
                ("viewer", ["create", "trainingjobs.gantry.dev", "-n", "team-a"], "no"),
                ("viewer", ["get", "secrets", "-n", "team-a"], "no"),  // upstream's view never reads Secrets
                ("editor", ["create", "trainingjobs.gantry.dev", "-n", "team-a"], "yes"),
                ("editor", ["patch", "inferenceservices.gantry.dev", "--subresource=scale", "-n", "team-a"], "yes"),
                ("editor", ["delete", "experiments.gantry.dev", "-n", "team-a"], "yes"),
                ("editor", ["update", "trainingjobs.gantry.dev", "--subresource=status", "-n", "team-a"], "no"),
                ("editor", ["create", "trainingjobs.gantry.dev", "-n", "team-b"], "no"),
                ("editor", ["create", "rolebindings", "-n", "team-a"], "no"),
                ("editor", ["create", "platformconfigs.gantry.dev"], "no"),
                ("owner", ["delete", "notebooks.gantry.dev", "-n", "team-a"], "yes"),
                ("owner", ["create", "rolebindings", "-n", "team-a"], "yes"),
                ("owner", ["list", "experiments.gantry.dev", "-n", "team-a"], "yes"),
                ("owner", ["patch", "platformconfigs.gantry.dev/default"], "no"),
            ]
            for (user, question, answer) in answers {
                let said = await can(user, question)
                #expect(said == answer, "\(user) can-i \(question.joined(separator: " ")): \(said)")
            }

            // What they do with kubectl, as the server decides it.
            let job = try String(contentsOfFile: Self.root + "/examples/trainingjob-single-gpu.yaml", encoding: .utf8)
                .replacingOccurrences(of: "namespace: default", with: "namespace: team-a")
            r = await t.kubectl(args: ["--token", tokens["editor"] ?? "", "apply", "-f", "-"], stdin: job)
            #expect(r.ok && r.stdout.contains("trainingjob.gantry.dev/mnist-baseline created"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl(args: ["--token", tokens["viewer"] ?? "", "get", "trainingjobs", "-n", "team-a"])
            #expect(r.ok && r.stdout.contains("mnist-baseline"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl(args: ["--token", tokens["viewer"] ?? "", "delete", "trainingjob", "mnist-baseline", "-n", "team-a"])
            #expect(!r.ok && r.stderr.contains("cannot delete resource \"trainingjobs\" in API group \"gantry.dev\" in the namespace \"team-a\""),
                    "\(r.stderr)")

            // Aggregation follows the labels: without its aggregate-to-edit label gantry-edit no longer reaches
            // edit, and editors lose Gantry's kinds (admin still has them through gantry-admin).
            r = await t.kubectl("label", "clusterrole", "gantry-edit", "rbac.authorization.k8s.io/aggregate-to-edit-")
            #expect(r.ok, "\(r.stderr)")
            #expect(await can("editor", ["create", "trainingjobs.gantry.dev", "-n", "team-a"]) == "no")
            #expect(await can("owner", ["create", "trainingjobs.gantry.dev", "-n", "team-a"]) == "yes")
        }
    }
}
