import Foundation
import GantryTestSupport
import KubeCore
import Testing
@testable import EmbeddedCluster

/// Deployments, ReplicaSets, the RBAC kinds and ServiceAccount tokens as real kubectl (and curl) see them.
@Suite(.serialized)
struct WorkloadKubectlTests {
    init() throws { try Prerequisite.kubectl() }

    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static func web(image: String, replicas: Int = 3) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: default}
        spec:
          replicas: \(replicas)
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: web, image: '\(image)', resources: {requests: {cpu: 100m}}}]
        """
    }

    @Test func rbacKindsAreServedAndPrinted() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("create", "namespace", "gantry-system")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("apply", "-f", Self.repoRoot + "/deploy/rbac.yaml")
            #expect(r.ok, "\(r.stderr)")
            #expect(r.stdout.contains("clusterrolebinding.rbac.authorization.k8s.io/gantry-controller created"), "\(r.stdout)")
            r = await t.kubectl("apply", "-f", Self.repoRoot + "/deploy/rbac.yaml")  // again: a strategic merge patch of each
            #expect(r.ok && r.stdout.contains("clusterrole.rbac.authorization.k8s.io/gantry-controller unchanged"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("get", "clusterrole", "gantry-controller")
            #expect(r.stdout.contains("CREATED AT") && r.stdout.contains("gantry-controller"), "\(r.stdout)")
            r = await t.kubectl("get", "rolebindings", "-n", "gantry-system", "-o", "wide")
            #expect(r.stdout.contains("Role/gantry-leader-election") && r.stdout.contains("SERVICEACCOUNTS")
                    && r.stdout.contains("gantry-system/gantry-controller"), "\(r.stdout)")
            r = await t.kubectl("get", "clusterrolebinding", "gantry-controller")
            #expect(r.stdout.contains("ClusterRole/gantry-controller"), "\(r.stdout)")
            let rules = try JSONValue.parse(await t.kubectl("get", "clusterrole", "gantry-controller", "-o", "json").stdout)["rules"]?.arrayValue
            #expect((rules?.count ?? 0) > 10, "the rules are stored whole")
            r = await t.kubectl("api-resources", "--api-group=rbac.authorization.k8s.io", "-o", "name")
            #expect(r.stdout.split(separator: "\n").sorted() == ["clusterrolebindings.rbac.authorization.k8s.io", "clusterroles.rbac.authorization.k8s.io",
                                                                  "rolebindings.rbac.authorization.k8s.io", "roles.rbac.authorization.k8s.io"], "\(r.stdout)")
            r = await t.kubectl("get", "sa", "gantry-controller", "-n", "gantry-system")
            #expect(r.ok, "\(r.stderr)")
            // A binding's roleRef cannot change (re-applying a renamed role needs a delete first).
            let rbac = try String(contentsOfFile: Self.repoRoot + "/deploy/rbac.yaml", encoding: .utf8)
                .replacingOccurrences(of: "kind: Role, name: gantry-leader-election}", with: "kind: Role, name: renamed}")
            r = await t.kubectl("apply", "-f", "-", stdin: rbac)
            #expect(r.stderr.contains(#"The RoleBinding "gantry-leader-election" is invalid: roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"renamed"}: cannot change roleRef"#),
                    "\(r.stderr)")
        }
    }

    @Test func deploymentRollsOutUpdatesAndScales() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 16}"))) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.web(image: "nginx:1.27"))
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.ok && r.stdout.contains("deployment \"web\" successfully rolled out"), "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("get", "deployment", "web")
            #expect(r.stdout.contains("UP-TO-DATE") && r.stdout.contains("3/3"), "\(r.stdout)")
            let deployment = try await t.json("/apis/apps/v1/namespaces/default/deployments/web")
            let replicaSets = try await t.json("/apis/apps/v1/namespaces/default/replicasets")["items"]?.arrayValue ?? []
            #expect(replicaSets.count == 1)
            let rs = replicaSets.first ?? [:]
            let hash = rs.labels["pod-template-hash"] ?? "?"
            #expect(rs.name == "web-\(hash)" && rs.controllerReference?.uid == deployment.uid)
            let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
            #expect(pods.count == 3)
            #expect(pods.allSatisfy { $0.controllerReference?.uid == rs.uid && $0.labels["pod-template-hash"] == hash
                                      && ($0.name ?? "").hasPrefix("web-\(hash)-") && $0[path: "spec", "nodeName"] == "cpu-0" })
            #expect(deployment[path: "metadata", "annotations", "deployment.kubernetes.io/revision"] == "1")

            r = await t.kubectl("set", "image", "deployment/web", "web=nginx:1.28")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.ok && r.stdout.contains("successfully rolled out"), "\(r.stdout) \(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
                return pods.count == 3 && pods.allSatisfy { $0[path: "spec", "containers"]?.arrayValue?.first?["image"] == "nginx:1.28" }
            }, "the old pods are gone")
            r = await t.kubectl("get", "rs", "-o", "wide")
            #expect(r.stdout.contains("DESIRED") && r.stdout.contains("nginx:1.27") && r.stdout.contains("nginx:1.28"), "\(r.stdout)")
            r = await t.kubectl("rollout", "history", "deployment/web")
            #expect(r.ok && r.stdout.contains("1 ") && r.stdout.contains("2 "), "\(r.stdout) \(r.stderr)")

            // Undo goes back to the first template: its ReplicaSet is reused under a new revision.
            r = await t.kubectl("rollout", "undo", "deployment/web")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.ok, "\(r.stdout) \(r.stderr)")
            let rolledBack = try await eventually(timeout: .seconds(30)) {
                let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
                let sets = try await t.json("/apis/apps/v1/namespaces/default/replicasets")["items"]?.arrayValue ?? []
                let first = sets.first { $0.name == rs.name }
                return pods.count == 3 && pods.allSatisfy { $0.labels["pod-template-hash"] == hash } && sets.count == 2
                    && first?[path: "metadata", "annotations", "deployment.kubernetes.io/revision"] == "3"
            }
            let state = await t.kubectl("get", "rs,pods", "-o", "wide", "--show-labels").stdout + (await t.kubectl("get", "deploy", "web", "-o", "yaml").stdout)
            #expect(rolledBack, "rolled back onto the first ReplicaSet, now revision 3: \(state)")

            r = await t.kubectl("scale", "deployment/web", "--replicas=1")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
                return pods.count == 1
            })
            let scale = try await t.json("/apis/apps/v1/namespaces/default/deployments/web/scale")
            #expect(scale["kind"] == "Scale" && scale[path: "spec", "replicas"] == 1 && scale[path: "status", "selector"] == "app=web", "\(scale)")
            r = await t.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.ok, "\(r.stdout) \(r.stderr)")
            r = await t.kubectl("delete", "deployment", "web")
            #expect(r.ok, "\(r.stderr)")
            #expect(try await eventually(timeout: .seconds(30)) {
                let rs = try await t.json("/apis/apps/v1/namespaces/default/replicasets")["items"]?.arrayValue ?? []
                let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
                return rs.isEmpty && pods.isEmpty
            }, "ReplicaSets and pods are garbage-collected with their Deployment")
        }
    }

    /// kubectl 1.27 and 1.33 each roll the Deployment to a new image and watch it through `kubectl rollout status`
    /// (which reads `observedGeneration`, `updatedReplicas`, `availableReplicas` and the Progressing condition), then
    /// list it in `rollout history` and see the new pods.
    @Test func rolloutStatusWithKubectl127And133() async throws {
        let releases = try Prerequisite.kubectl127And133()
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 16}"))) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.web(image: "nginx:1.27", replicas: 2))
            #expect(r.ok, "\(r.stderr)")
            // Revision 1 must exist before the first `set image`: a template changed before the Deployment
            // controller saw the first one gets only one ReplicaSet (revision 1), upstream as here.
            r = await t.kubectl("rollout", "status", "deployment/web", "--timeout=60s")
            #expect(r.ok, "\(r.stdout) \(r.stderr)")
            for (i, kubectl) in releases.enumerated() {
                let image = "nginx:1.\(30 + i)"
                r = await t.kubectl(release: kubectl, "set", "image", "deployment/web", "web=\(image)")
                #expect(r.ok, "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "rollout", "status", "deployment/web", "--timeout=60s")
                #expect(r.ok && r.stdout.contains(#"deployment "web" successfully rolled out"#), "\(kubectl): \(r.stdout) \(r.stderr)")
                // rollout status returns once the new pods are available; the old ones may still be terminating.
                #expect(try await eventually(timeout: .seconds(30)) {
                    let pods = try await t.json("/api/v1/namespaces/default/pods?labelSelector=app%3Dweb")["items"]?.arrayValue ?? []
                    return pods.count == 2 && pods.allSatisfy { $0[path: "spec", "containers"]?.arrayValue?.first?["image"] == .string(image) }
                }, "\(kubectl): the pods run \(image)")
                r = await t.kubectl(release: kubectl, "rollout", "history", "deployment/web")
                #expect(r.ok && r.stdout.contains("\(i + 2) "), "\(kubectl): revision \(i + 2) listed: \(r.stdout) \(r.stderr)")
                r = await t.kubectl(release: kubectl, "get", "deployment", "web")
                #expect(r.stdout.contains("2/2"), "\(kubectl): \(r.stdout)")
            }
        }
    }

    /// A Deployment whose pods never become ready fails `kubectl rollout status` once its progress deadline passes,
    /// with the installed kubectl, 1.27 and 1.33.
    @Test func rolloutStatusReportsAnExceededProgressDeadline() async throws {
        let kubectls = [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133())
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 16}"))) { t async throws in
            let manifest = Self.web(image: "nginx:missing", replicas: 1).replacingOccurrences(of: "  replicas: 1\n", with: "  replicas: 1\n  progressDeadlineSeconds: 3\n")
            let r = await t.kubectl("apply", "-f", "-", stdin: manifest)
            #expect(r.ok, "\(r.stderr)")
            for kubectl in kubectls {
                let r = await t.kubectl(release: kubectl, "rollout", "status", "deployment/web", "--timeout=60s")
                #expect(!r.ok && r.stderr.contains(#"deployment "web" exceeded its progress deadline"#), "\(kubectl): \(r.stdout) \(r.stderr)")
            }
        }
    }

    /// apps/v1 selectors are immutable (upstream's `ValidateImmutableField` message, the Go value printed), and
    /// a selector must select the template's labels; the 422s as the installed kubectl, 1.27 and 1.33 show them.
    @Test func workloadSelectorsAreImmutable() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var r = await t.kubectl("apply", "-f", "-", stdin: Self.web(image: "nginx", replicas: 0))
            #expect(r.ok, "\(r.stderr)")
            let patch = #"{"spec":{"selector":{"matchLabels":{"app":"other"}},"template":{"metadata":{"labels":{"app":"other"}}}}}"#
            var (code, body) = await t.curl("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", body: patch,
                                            contentType: "application/merge-patch+json")
            #expect(code == 422)
            let status = try JSONValue.parse(body)
            #expect(status["message"] == #"Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#,
                    "\(body)")
            #expect(status[path: "details", "causes"]?.arrayValue?.first?["field"] == "spec.selector")

            let mismatch = #"{"spec":{"template":{"metadata":{"labels":{"app":"other"}}}}}"#
            (code, body) = await t.curl("PATCH", "/apis/apps/v1/namespaces/default/deployments/web", body: mismatch,
                                        contentType: "application/merge-patch+json")
            #expect(code == 422 && body.contains(#"spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"other\"}: `selector` does not match template `labels`"#), "\(body)")

            let daemonSet = """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata: {name: agent}
                spec:
                  selector: {matchExpressions: [{key: app, operator: In, values: [agent]}]}
                  template: {metadata: {labels: {app: agent}}, spec: {containers: [{name: a, image: agent}]}}
                """
            r = await t.kubectl("apply", "-f", "-", stdin: daemonSet)
            #expect(r.ok, "\(r.stderr)")
            for kubectl in [TestCluster.kubectlPath] + (try Prerequisite.kubectl127And133()) {
                r = await t.kubectl(release: kubectl, "apply", "-f", "-", stdin: daemonSet.replacingOccurrences(of: "values: [agent]", with: "values: [agent, b]"))
                #expect(!r.ok && r.stderr.contains(#"The DaemonSet "agent" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement{v1.LabelSelectorRequirement{Key:"app", Operator:"In", Values:[]string{"agent", "b"}}}}: field is immutable"#),
                        "\(kubectl): \(r.stderr)")
                r = await t.kubectl(release: kubectl, "patch", "deployment", "web", "--type=merge", "-p", patch)
                #expect(!r.ok && r.stderr.contains(#"The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#),
                        "\(kubectl): \(r.stderr)")
            }
            r = await t.kubectl("apply", "-f", "-", stdin: "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: bare}\nspec: {template: {spec: {containers: [{name: a, image: a}]}}}\n")
            #expect(!r.ok && r.stderr.contains("spec.selector: Required value"), "\(r.stderr)")
        }
    }

    /// `kubectl create token` (the TokenRequest API) issues a token the server accepts as the ServiceAccount.
    @Test func tokenRequestIssuesServiceAccountTokens() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(tls: true))) { t async throws in
            var r = await t.kubectl("create", "serviceaccount", "robot")
            #expect(r.ok, "\(r.stderr)")
            r = await t.kubectl("create", "token", "robot", "--duration=15m")
            #expect(r.ok, "\(r.stderr)")
            let token = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!token.isEmpty)
            let (code, _) = await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: token)
            #expect(code == 200)
            let seen = t.cluster.requests().last { $0.path == "/api/v1/namespaces/default/configmaps" }
            #expect(seen?.user == "system:serviceaccount:default:robot")

            let (created, body) = await t.curl("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                                               body: #"{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{"audiences":["api"],"expirationSeconds":3600}}"#)
            let answer = try JSONValue.parse(body)
            #expect(created == 201 && answer["kind"] == "TokenRequest" && answer[path: "spec", "audiences"] == ["api"], "\(body)")
            let expires = answer[path: "status", "expirationTimestamp"]?.stringValue.flatMap(Timestamp.parse)
            #expect(expires.map { abs($0.timeIntervalSinceNow - 3600) < 60 } == true, "\(body)")

            let (short, shortBody) = await t.curl("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token",
                                                  body: #"{"spec":{"expirationSeconds":599}}"#)
            #expect(short == 422 && shortBody.contains("spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"), "\(shortBody)")
            r = await t.kubectl("create", "token", "nobody")
            #expect(!r.ok && r.stderr.contains(#"serviceaccounts "nobody" not found"#), "\(r.stderr)")
            // A token bound to a pod (as the kubelet asks for one) lasts as long as the pod; every token of a
            // ServiceAccount as long as the ServiceAccount.
            r = await t.kubectl("run", "holder", "--image=busybox", "--overrides", #"{"spec":{"serviceAccountName":"robot"}}"#)
            #expect(r.ok, "\(r.stderr)")
            let holder = try await t.json("/api/v1/namespaces/default/pods/holder")
            let bound = #"{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"holder","uid":"\#(holder.uid ?? "")"}}}"#
            let (boundCode, boundBody) = await t.curl("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", body: bound)
            let podToken = try JSONValue.parse(boundBody)[path: "status", "token"]?.stringValue ?? ""
            #expect(boundCode == 201 && !podToken.isEmpty, "\(boundBody)")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: podToken).0 == 200)
            let stale = #"{"spec":{"boundObjectRef":{"kind":"Pod","apiVersion":"v1","name":"holder","uid":"not-the-uid"}}}"#
            let (staleCode, staleBody) = await t.curl("POST", "/api/v1/namespaces/default/serviceaccounts/robot/token", body: stale)
            #expect(staleCode == 409 && staleBody.contains(#"Operation cannot be fulfilled on Pod \"holder\": the UID in the bound object reference (not-the-uid) does not match"#),
                    "\(staleBody)")
            let (otherCode, otherBody) = await t.curl("POST", "/api/v1/namespaces/default/serviceaccounts/default/token", body: bound)
            #expect(otherCode == 400 && otherBody.contains("cannot bind token for serviceaccount \\\"default\\\" to pod running with different serviceaccount name."),
                    "\(otherBody)")
            r = await t.kubectl("delete", "pod", "holder")
            #expect(r.ok, "\(r.stderr)")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: podToken).0 == 401, "the pod is gone")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: token).0 == 200, "the unbound token still works")
            r = await t.kubectl("delete", "serviceaccount", "robot")
            #expect(r.ok, "\(r.stderr)")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: token).0 == 401, "the ServiceAccount is gone")
            r = await t.kubectl("create", "serviceaccount", "robot")
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: token).0 == 401, "a new ServiceAccount of that name is another one")

            // An expired token is refused like an unknown one.
            t.cluster.addToken("stale", user: "system:serviceaccount:default:robot", expires: Date().addingTimeInterval(-1))
            #expect(await t.curl("GET", "/api/v1/namespaces/default/configmaps", token: "stale").0 == 401)
        }
    }
}
