import EmbeddedCluster
import Foundation
import GantryAPI
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// deploy/rbac.yaml is sufficient rule by rule (issue #12): with one grant removed, the operator's work fails with
/// a 403 in the request log and a symptom a user would see. RBACTests shows every grant is the only one allowing
/// some request of the scenario; this shows, for a few representative grants, what that refusal does. Each
/// ablation runs its own `gantry controller` as its own ServiceAccount, bound to deploy/rbac.yaml minus that grant,
/// watching only its namespace (where its Lease also lives), all in one RBAC-enforcing cluster at once.
@Suite(.serialized)
struct RBACAblationTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    struct Ablation: Sendable {
        var suffix: String
        var grant: RBACRules.Grant
        /// The refused request: its method and the end of its path.
        var method: String
        var pathSuffix: String
        /// What the controller logs about it (no quotes: the log may be JSON).
        var logged: String
        var namespace: String { "ablate-\(suffix)" }
        var user: String { "system:serviceaccount:\(namespace):gantry-controller-\(suffix)" }
    }

    static let ablations = [
        Ablation(suffix: "pods", grant: .init(group: "", resource: "pods", verb: "create"),
                 method: "POST", pathSuffix: "/pods", logged: "cannot create resource"),
        Ablation(suffix: "status", grant: .init(group: "gantry.dev", resource: "trainingjobs/status", verb: "update"),
                 method: "PUT", pathSuffix: "/trainingjobs/job/status", logged: "trainingjobs/status"),
        // The OwnerReferencesPermissionEnforcement admission check: the creates themselves are granted, and the
        // first child with `blockOwnerDeletion` (whichever kind) is refused.
        Ablation(suffix: "finalizers", grant: .init(group: "gantry.dev", resource: "trainingjobs/finalizers", verb: "update"),
                 method: "POST", pathSuffix: "", logged: "you can't set finalizers on"),
        Ablation(suffix: "lease", grant: .init(group: "coordination.k8s.io", resource: "leases", verb: "update"),
                 method: "PUT", pathSuffix: "/leases/gantry-controller", logged: "lost leadership"),
    ]

    @Test func removingAGrantStopsTheOperatorsWork() async throws {
        let rbacYAML = try String(contentsOfFile: OperatorHarness.repoRoot + "/deploy/rbac.yaml", encoding: .utf8)
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac
        try await withCluster(TestCluster(options)) { cluster async throws in
            let admin = try KubeClient(config: KubeConfig.load(path: cluster.kubeconfig, environment: [:]))
            for args in [["apply", "-k", OperatorHarness.repoRoot + "/crds"],
                         ["wait", "--for=condition=Established", "--timeout=20s", "crd/trainingjobs.gantry.dev", "crd/platformconfigs.gantry.dev",
                          "crd/inferenceservices.gantry.dev", "crd/notebooks.gantry.dev", "crd/experiments.gantry.dev"],
                         ["apply", "-f", OperatorHarness.repoRoot + "/examples/platformconfig.yaml"]] {
                let r = await cluster.kubectl(args: args)
                #expect(r.ok, "kubectl \(args): \(r.stderr)")
            }
            var controllers: [ControllerProcess] = []
            defer { for c in controllers { c.killIfRunning() } }
            for ablation in Self.ablations {
                var r = await cluster.kubectl("create", "namespace", ablation.namespace)
                #expect(r.ok, "\(r.stderr)")
                let manifests = try RBACRules.ablated(rbacYAML, without: ablation.grant, suffix: ablation.suffix, namespace: ablation.namespace)
                r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: manifests)
                #expect(r.ok, "\(r.stderr)")
                let token = "ablate-" + UUID().uuidString
                cluster.cluster.addToken(token, user: ablation.user)
                let kubeconfig = cluster.dir + "/\(ablation.suffix).kubeconfig"
                try cluster.cluster.kubeconfigYAML().replacingOccurrences(of: cluster.cluster.token, with: token)
                    .write(toFile: kubeconfig, atomically: true, encoding: .utf8)
                // Short Lease timings, so a leader that cannot renew steps down within seconds.
                controllers.append(try ControllerProcess(kubeconfig: kubeconfig, logPath: cluster.dir + "/\(ablation.suffix).log",
                    ["--identity", ablation.suffix, "--namespace", ablation.namespace, "--lease-namespace", ablation.namespace,
                     "--leader-elect-lease-duration", "3", "--leader-elect-renew-deadline", "2", "--leader-elect-retry-period", "0.5"]))
                let job = "apiVersion: gantry.dev/v1alpha1\nkind: TrainingJob\nmetadata: {name: job, namespace: \(ablation.namespace)}\nspec: {image: 'trainer:1', gpu: {count: 1}}\n"
                r = await cluster.kubectl(args: ["apply", "-f", "-"], stdin: job)
                #expect(r.ok, "\(r.stderr)")
            }

            for (ablation, controller) in zip(Self.ablations, controllers) {
                let refusedAndSaid = try await eventually(timeout: .seconds(30)) {
                    let refused = cluster.cluster.requests().contains {
                        $0.user == ablation.user && $0.code == 403 && $0.method == ablation.method
                            && $0.path.hasPrefix("/ap") && $0.path.hasSuffix(ablation.pathSuffix) && $0.path.contains("/namespaces/\(ablation.namespace)/")
                    }
                    return refused && controller.output.contains(ablation.logged)
                }
                #expect(refusedAndSaid, "without \(ablation.grant): a 403 on \(ablation.method) …\(ablation.pathSuffix) and \"\(ablation.logged)\" in the log:\n\(controller.output.suffix(3_000))")
            }
            // What a user sees besides the log: no replica without pods create (or without the owner's finalizers),
            // no phase without the status write.
            for suffix in ["pods", "finalizers"] {
                #expect(try await admin.getIfFound(.pods, "ablate-\(suffix)", "job-0") == nil, "ablate-\(suffix)")
            }
            let unwritten = try await admin.getIfFound(.trainingJobs, "ablate-status", "job")
            #expect(unwritten != nil && unwritten?[path: "status", "phase"] == nil, "\(unwritten?["status"] ?? .null)")
        }
    }
}
