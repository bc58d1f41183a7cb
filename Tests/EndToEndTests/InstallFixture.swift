import EmbeddedCluster
import GantryTestSupport
import Testing

/// An embedded cluster (RBAC enforced unless `rbac: false`) with a kustomization of the repository applied as users
/// apply it (`kubectl apply -k`) and the controller's Deployment rolled out; `body` gets the cluster and kubectl's
/// answer to the apply.
func withInstall(_ kustomization: String = "deploy", rbac: Bool = true,
                 _ body: (TestCluster, CommandResult) async throws -> Void) async throws {
    var options = DevClusterOptions(tls: true)
    if rbac { options.authorization = .rbac }
    try await withCluster(TestCluster(options)) { t async throws in
        let applied = await t.kubectl("apply", "-k", OperatorHarness.repoRoot + "/" + kustomization)
        #expect(applied.ok, "\(applied.stderr)")
        let rolled = await t.kubectl("rollout", "status", "deployment/gantry-controller", "-n", "gantry-system", "--timeout=90s")
        #expect(rolled.ok && rolled.stdout.contains("successfully rolled out"), "\(rolled.stdout) \(rolled.stderr)")
        try await body(t, applied)
    }
}
