import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// Gantry installed the way the README tells users to (issue #12): `kubectl apply -k deploy/` into an embedded
/// cluster, the Deployment's pods scheduled, then the controller run as the kubelet would run that pod's
/// container: in-cluster mode with a ServiceAccount token from the TokenRequest API, the CA and namespace files,
/// and the `KUBERNETES_SERVICE_*` variables; with RBAC enforced it runs the README's example TrainingJob to
/// Succeeded.
@Suite(.serialized)
struct InstallPathTests {
    init() throws {
        _ = try Prerequisite.gantryBinary(repoRoot: OperatorHarness.repoRoot)
        try Prerequisite.kubectl()
    }

    static let namespace = "gantry-system"
    static let serviceAccount = "gantry-controller"
    static let root = OperatorHarness.repoRoot

    @Test func readmeInstallThenTheControllerRunsInCluster() async throws {
        var options = DevClusterOptions(tls: true)
        options.authorization = .rbac  // deploy/rbac.yaml is all the controller may do
        try await withCluster(TestCluster(options)) { t async throws in
            var r = await t.kubectl("apply", "-k", Self.root + "/deploy")
            #expect(r.ok, "\(r.stderr)")
            for created in ["namespace/gantry-system", "customresourcedefinition.apiextensions.k8s.io/trainingjobs.gantry.dev",
                            "serviceaccount/gantry-controller", "clusterrole.rbac.authorization.k8s.io/gantry-controller",
                            "clusterrolebinding.rbac.authorization.k8s.io/gantry-controller", "role.rbac.authorization.k8s.io/gantry-leader-election",
                            "rolebinding.rbac.authorization.k8s.io/gantry-leader-election", "deployment.apps/gantry-controller"] {
                #expect(r.stdout.contains("\(created) created"), "\(created): \(r.stdout)")
            }
            r = await t.kubectl("rollout", "status", "deployment/gantry-controller", "-n", Self.namespace, "--timeout=90s")
            #expect(r.ok && r.stdout.contains("successfully rolled out"), "\(r.stdout) \(r.stderr)")
            let pods = try await Self.controllerPods(t)
            #expect(pods.count == 2, "the Deployment's two replicas")
            for pod in pods {
                let node = pod[path: "spec", "nodeName"]?.stringValue ?? ""
                #expect(node != "", "\(pod.name ?? "") is scheduled")
                #expect(pod[path: "spec", "serviceAccountName"] == .string(Self.serviceAccount))
                #expect(pod.controllerReference?.kind == "ReplicaSet")
            }

            // The kubelet's part for the first pod: a token bound to it, the CA and namespace files, the env.
            let pod = try #require(pods.first)
            let container = try #require(pod[path: "spec", "containers"]?.arrayValue?.first)
            let folder = t.dir + "/serviceaccount"
            try await Self.layOutServiceAccount(t, pod: pod, in: folder)
            let port = try #require(URL(string: t.cluster.url)?.port)
            // The container's args, with the health port on a free one (the test shares the host's network).
            var args = (container["args"]?.arrayValue ?? []).compactMap(\.stringValue).filter { !$0.hasPrefix("--health-port") }
            #expect(args.first == "controller" && args.contains("--lease-namespace=gantry-system"), "\(args)")
            args += ["--health-port=0", "--health-host=127.0.0.1", "--service-account-dir=\(folder)"]
            let controller = try ControllerProcess(arguments: args,
                                                   environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": String(port),
                                                                 "HOME": t.dir, "PATH": "/usr/bin:/bin"],
                                                   logPath: t.dir + "/controller.log")
            defer { controller.killIfRunning() }

            // What the ServiceAccount may do, as `kubectl auth can-i` (SelfSubjectAccessReview) reports it.
            let token = try String(contentsOfFile: folder + "/token", encoding: .utf8)
            for (question, answer) in [(["create", "pods", "-n", "default"], "yes"), (["update", "leases", "-n", Self.namespace], "yes"),
                                       (["update", "leases", "-n", "default"], "no"), (["delete", "nodes"], "no"),
                                       (["create", "deployments.apps", "-n", Self.namespace], "no")] {
                let asked = await t.kubectl(args: ["--token", token, "auth", "can-i"] + question)
                #expect(asked.stdout == answer + "\n", "can-i \(question): \(asked.stdout) \(asked.stderr)")
            }

            r = await t.kubectl("apply", "-f", Self.root + "/examples/platformconfig.yaml")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", Self.root + "/examples/trainingjob-single-gpu.yaml")
            #expect(r.ok, "\(r.stderr)")
            let succeeded = try await eventually(timeout: .seconds(90)) {
                let phase = await t.kubectl("get", "trainingjob", "mnist-baseline", "-o", "jsonpath={.status.phase}").stdout
                return phase == "Succeeded"
            }
            let job = await t.kubectl("get", "trainingjob", "mnist-baseline", "-o", "yaml").stdout
            #expect(succeeded, "the job ran to the end: \(job)\n\(controller.output.suffix(3000))")
            r = await t.kubectl("get", "gantry")
            #expect(r.stdout.contains("mnist-baseline"), "\(r.stdout)")

            controller.signal(SIGTERM)
            #expect(await controller.waitForExit(timeout: 60) == 0, "\(controller.output.suffix(2000))")
            #expect(controller.errorLines.isEmpty, "\(controller.errorLines)")
            // Every request of the controller carried the ServiceAccount's token (the admin's never).
            let user = "system:serviceaccount:\(Self.namespace):\(Self.serviceAccount)"
            let operatorRequests = t.cluster.requests().filter { ($0.userAgent ?? "").lowercased().contains("gantry") }
            #expect(operatorRequests.count > 10)
            // ...and nothing it asked for was refused: the rules are sufficient for this workload.
            let refused = operatorRequests.filter { $0.user != user || $0.code == 401 || $0.code == 403 }
            #expect(refused.isEmpty, "\(Set(refused.map { "\($0.method) \($0.path) \($0.user ?? "-") \($0.code)" }))")
            let lease = try await t.json("/apis/coordination.k8s.io/v1/namespaces/gantry-system/leases/gantry-controller")
            #expect(lease[path: "spec", "holderIdentity"] != nil, "the lease was taken in gantry-system: \(lease)")
        }
    }

    /// kubectl 1.27 (OpenAPI v2, an older kustomize) and 1.33 (the newest installed) install the same way: CRDs,
    /// then deploy/.
    @Test(arguments: ["1.27", "1.33"])
    func otherKubectlReleasesInstallToo(release: String) async throws {
        let kubectl = try #require(try Prerequisite.kubectlReleases([release]).first)
        try await withCluster(TestCluster(DevClusterOptions(tls: true))) { t async throws in
            func run(_ args: String...) async -> CommandResult {
                await runProcess(kubectl, ["--kubeconfig", t.kubeconfig, "--cache-dir", t.dir + "/cache-\(release)"] + args,
                                 environment: ["HOME": t.dir, "PATH": "/usr/bin:/bin"])
            }
            var r = await run("apply", "-k", Self.root + "/crds")
            #expect(r.ok, "\(r.stderr)")
            r = await run("apply", "-k", Self.root + "/deploy")
            #expect(r.ok && r.stdout.contains("deployment.apps/gantry-controller created"), "\(r.stdout) \(r.stderr)")
            r = await run("rollout", "status", "deployment/gantry-controller", "-n", Self.namespace, "--timeout=90s")
            #expect(r.ok && r.stdout.contains("successfully rolled out"), "\(r.stdout) \(r.stderr)")
            let nodes = try await Self.controllerPods(t).map { $0[path: "spec", "nodeName"]?.stringValue ?? "" }
            #expect(nodes.count == 2 && !nodes.contains(""), "both pods are scheduled: \(nodes)")
            r = await run("create", "token", Self.serviceAccount, "-n", Self.namespace)
            #expect(r.ok && !r.stdout.isEmpty, "\(r.stderr)")
            r = await run("apply", "-k", Self.root + "/deploy")  // a second apply changes nothing
            #expect(r.ok && r.stdout.contains("deployment.apps/gantry-controller unchanged"), "\(r.stdout) \(r.stderr)")
        }
    }

    static func controllerPods(_ t: TestCluster) async throws -> [JSONValue] {
        let selector = "app.kubernetes.io%2Fname%3Dgantry%2Capp.kubernetes.io%2Fcomponent%3Dcontroller"
        return try await t.json("/api/v1/namespaces/\(namespace)/pods?labelSelector=\(selector)")["items"]?.arrayValue ?? []
    }

    /// What the kubelet mounts at /var/run/secrets/kubernetes.io/serviceaccount: a token it asked the
    /// TokenRequest API for (bound to the pod, default expiry of a projected token, 3607 s), the cluster's CA
    /// and the pod's namespace.
    static func layOutServiceAccount(_ t: TestCluster, pod: JSONValue, in folder: String) async throws {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let body: JSONValue = ["apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                               "spec": ["expirationSeconds": 3607,
                                        "boundObjectRef": ["apiVersion": "v1", "kind": "Pod", "name": .string(pod.name ?? ""), "uid": .string(pod.uid ?? "")]]]
        let sa = pod[path: "spec", "serviceAccountName"]?.stringValue ?? "default"
        let token = try await requestToken(t, namespace: pod.namespace ?? "", serviceAccount: sa, body: body)
        try Data(token.utf8).write(to: URL(fileURLWithPath: folder + "/token"))
        try Data((t.cluster.caPEM ?? "").utf8).write(to: URL(fileURLWithPath: folder + "/ca.crt"))
        try Data((pod.namespace ?? "").utf8).write(to: URL(fileURLWithPath: folder + "/namespace"))
    }

    static func requestToken(_ t: TestCluster, namespace: String, serviceAccount: String, body: JSONValue) async throws -> String {
        let (code, answer) = await t.curl("POST", "/api/v1/namespaces/\(namespace)/serviceaccounts/\(serviceAccount)/token", body: body.serialized())
        guard code == 201, let token = try JSONValue.parse(answer)[path: "status", "token"]?.stringValue else {
            throw TestFailure("TokenRequest answered \(code): \(answer)")
        }
        return token
    }
}
