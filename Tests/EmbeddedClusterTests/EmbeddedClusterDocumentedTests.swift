import Foundation
import GantryTestSupport
import KubeCore
import Synchronization
import Testing
@testable import EmbeddedCluster

/// What docs/embedded-cluster.md promises and no other test checked, through HTTP (curl) and the simulated
/// nodes, kubelets and controllers of an in-process cluster.
@Suite(.serialized)
struct EmbeddedClusterDocumentedTests {
    static let pods = "/api/v1/namespaces/default/pods"

    static func pod(_ t: TestCluster, _ name: String) async -> JSONValue? {
        await t.cluster.store.get("pods", namespace: "default", name: name)
    }

    static func condition(_ object: JSONValue?, _ type: String) -> JSONValue? {
        object?[path: "status", "conditions"]?.arrayValue?.first { $0["type"]?.stringValue == type }
    }

    static func running(_ t: TestCluster, _ name: String) async -> Bool {
        let p = await pod(t, name)
        return p?[path: "status", "phase"] == "Running" && condition(p, "Ready")?["status"] == "True"
    }

    /// curl with the response headers: (HTTP status, headers in lower case, body).
    static func curlWithHeaders(_ t: TestCluster, _ method: String, _ path: String, body: String? = nil,
                                contentType: String = "application/json") async -> (Int, String, String) {
        var args = ["-sS", "-i", "-X", method, "-H", "Authorization: Bearer \(t.cluster.token)"]
        if t.cluster.caPEM != nil { args += ["--cacert", t.caFile] }
        if let body { args += ["-H", "Content-Type: \(contentType)", "--data-binary", body] }
        let r = await runProcess("/usr/bin/curl", args + [t.cluster.url + path])
        let parts = r.stdout.components(separatedBy: "\r\n\r\n")
        let head = parts.first ?? ""
        let code = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (code, head.lowercased(), parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    /// A pod with scheduling gates stays unbound with `PodScheduled=False`, reason `SchedulingGated`; once
    /// its gates are removed the scheduler binds it.
    @Test func aGatedPodWaitsWithSchedulingGatedUntilItsGatesAreRemoved() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 8}"))) { t async throws in
            var (code, body) = await t.curl("POST", Self.pods, body: #"{"metadata":{"name":"gated"},"spec":{"schedulingGates":[{"name":"example.com/quota"}],"containers":[{"name":"c","image":"busybox"}]}}"#)
            #expect(code == 201, "\(body)")
            let gated = try await eventually(timeout: .seconds(30)) {
                let scheduled = Self.condition(await Self.pod(t, "gated"), "PodScheduled")
                return scheduled?["status"] == "False" && scheduled?["reason"] == "SchedulingGated"
            }
            let scheduled = Self.condition(await Self.pod(t, "gated"), "PodScheduled")
            #expect(gated, "PodScheduled: \(scheduled ?? .null)")
            #expect(await Self.pod(t, "gated")?[path: "spec", "nodeName"] == nil)
            (code, body) = await t.curl("PATCH", Self.pods + "/gated", body: #"[{"op":"remove","path":"/spec/schedulingGates"}]"#,
                                        contentType: "application/json-patch+json")
            #expect(code == 200, "\(body)")
            let bound = try await eventually(timeout: .seconds(30)) {
                let p = await Self.pod(t, "gated")
                return p?[path: "spec", "nodeName"] == "cpu-0" && Self.condition(p, "PodScheduled")?["status"] == "True"
            }
            #expect(bound)
        }
    }

    /// A DaemonSet's rolling update replaces its pods one node at a time (`maxUnavailable: 1`): seen from
    /// every pod change during the rollout, never more than one of the three pods is unavailable.
    @Test func aDaemonSetRollsOutWithinMaxUnavailable() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "3x{cpu: 8}"))) { t async throws in
            let path = "/apis/apps/v1/namespaces/default/daemonsets"
            let (code, body) = await t.curl("POST", path, body: #"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"a","image":"busybox:1"}]}}}}"#)
            #expect(code == 201, "\(body)")
            @Sendable func daemonSet() async -> JSONValue? { await t.cluster.store.get("daemonsets.apps", namespace: "default", name: "agent") }
            #expect(try await eventually(timeout: .seconds(30)) { await daemonSet()?[path: "status", "numberReady"] == 3 })

            @Sendable func available(_ pod: JSONValue) -> Bool {
                pod.deletionTimestamp == nil && Self.condition(pod, "Ready")?["status"] == "True"
            }
            // Every pod change from here on, applied to the current state: the fewest available pods seen.
            let events = await t.cluster.store.subscribe()
            let (current, _) = try await t.cluster.store.list("pods", namespace: "default", labelSelector: "app=agent")
            let seed = Dictionary(uniqueKeysWithValues: current.map { ($0.name ?? "", available($0)) })
            #expect(seed.count == 3 && seed.values.allSatisfy { $0 })
            let fewest = Mutex(3)
            let tracker = Task {
                var state = seed
                for await event in events where event.resource == "pods" && event.object.labels["app"] == "agent" {
                    let name = event.object.name ?? ""
                    state[name] = event.kind.rawValue == "DELETED" ? nil : available(event.object)
                    let count = state.values.filter { $0 }.count
                    fewest.withLock { $0 = min($0, count) }
                }
            }
            let (patched, patchBody) = await t.curl("PATCH", path + "/agent", body: #"{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"busybox:2"}]}}}}"#,
                                                    contentType: "application/strategic-merge-patch+json")
            #expect(patched == 200, "\(patchBody)")
            let rolledOut = try await eventually(timeout: .seconds(90)) {
                let ds = await daemonSet()
                let (pods, _) = try await t.cluster.store.list("pods", namespace: "default", labelSelector: "app=agent")
                return ds?[path: "status", "updatedNumberScheduled"] == 3 && ds?[path: "status", "numberAvailable"] == 3
                    && pods.count == 3 && pods.allSatisfy { available($0) && $0[path: "spec", "containers"]?.arrayValue?.first?["image"] == "busybox:2" }
            }
            tracker.cancel()
            _ = await tracker.value
            let finalStatus = await daemonSet()?["status"] ?? .null
            #expect(rolledOut, "status: \(finalStatus)")
            let fewestSeen = fewest.withLock { $0 }
            #expect(fewestSeen >= 2, "at one point only \(fewestSeen) of 3 pods were available")
            #expect(fewestSeen < 3, "the rollout never took a pod down: the tracker saw no change")
            let ds = await daemonSet()
            #expect(ds?[path: "status", "observedGeneration"] == ds?[path: "metadata", "generation"])
        }
    }

    /// The service proxy of a Service whose selector matches no ready pod answers 503 with kube-apiserver's Status
    /// (reason ServiceUnavailable, `no endpoints available for service "<name>"`), not a text a client would take
    /// for the backend's own answer.
    @Test func theServiceProxyAnswers503WithoutEndpoints() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "none"))) { t async throws in
            var (code, body) = await t.curl("POST", "/api/v1/namespaces/default/services",
                                            body: #"{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80,"targetPort":8080}]}}"#)
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("GET", "/api/v1/namespaces/default/services/web:80/proxy/healthz")
            #expect(code == 503, "\(body)")
            let status = try JSONValue.parse(Array(body.utf8))
            #expect(status["kind"] == "Status" && status["reason"] == "ServiceUnavailable" && status["code"] == 503, "\(body)")
            #expect(status["message"] == #"no endpoints available for service "web""#, "\(body)")
        }
    }

    /// A lost node's pods are evicted when their toleration of the `unreachable` taint runs out, with the
    /// `DisruptionTarget` condition reason `DeletionByTaintManager`.
    @Test func podsOfALostNodeAreEvictedByTheTaintManager() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 8}"))) { t async throws in
            let (code, body) = await t.curl("POST", Self.pods, body: #"{"metadata":{"name":"fragile"},"spec":{"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":1}],"containers":[{"name":"c","image":"busybox"}]}}"#)
            #expect(code == 201, "\(body)")
            #expect(try await eventually(timeout: .seconds(30)) { await Self.running(t, "fragile") })
            let events = await t.cluster.store.subscribe()
            let disruption = Mutex<JSONValue?>(nil)
            let tracker = Task {
                for await event in events where event.resource == "pods" && event.object.name == "fragile" {
                    if let c = Self.condition(event.object, "DisruptionTarget") { disruption.withLock { $0 = c } }
                }
            }
            let (annotated, annotateBody) = await t.curl("PATCH", "/api/v1/nodes/cpu-0", body: #"{"metadata":{"annotations":{"sim.gantry.dev/disrupt":"lose"}}}"#,
                                                         contentType: "application/merge-patch+json")
            #expect(annotated == 200, "\(annotateBody)")
            let evicted = try await eventually(timeout: .seconds(60)) { disruption.withLock { $0 } != nil }
            tracker.cancel()
            _ = await tracker.value
            #expect(evicted)
            let condition = disruption.withLock { $0 }
            #expect(condition?["status"] == "True" && condition?["reason"] == "DeletionByTaintManager", "\(condition ?? .null)")
            let node = await t.cluster.store.get("nodes", namespace: nil, name: "cpu-0")
            #expect(Self.condition(node, "Ready")?["status"] == "Unknown")
        }
    }

    /// A running pod reports `PodReadyToStartContainers`; deleting it records the kubelet's `Killing` Event.
    @Test func aRunningPodIsReadyToStartContainersAndItsDeletionRecordsKilling() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(nodes: "1x{cpu: 8}"))) { t async throws in
            var (code, body) = await t.curl("POST", Self.pods, body: #"{"metadata":{"name":"web"},"spec":{"containers":[{"name":"main","image":"nginx"}]}}"#)
            #expect(code == 201, "\(body)")
            #expect(try await eventually(timeout: .seconds(30)) { await Self.running(t, "web") })
            let ready = Self.condition(await Self.pod(t, "web"), "PodReadyToStartContainers")
            #expect(ready?["status"] == "True", "\(ready ?? .null)")
            (code, body) = await t.curl("DELETE", Self.pods + "/web")
            #expect(code == 200, "\(body)")
            let query = "/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dweb,reason%3DKilling"
            #expect(try await eventually(timeout: .seconds(30)) { (try await t.json(query)["items"]?.arrayValue?.isEmpty) == false })
            let killing = try await t.json(query)["items"]?.arrayValue?.first
            #expect(killing?["message"] == "Stopping container main", "\(killing ?? .null)")
            #expect(killing?["type"] == "Normal")
        }
    }

    /// `fieldValidation=Ignore` drops a custom resource's unknown fields silently (no `Warning` header, nothing
    /// stored); `Warn` on the same body does warn. (Documented for CRD schemas. Built-in kinds have no field
    /// validation in the embedded cluster yet: a ConfigMap's unknown top-level field is stored, under any mode,
    /// unlike API-SEMANTICS rule 27; reported with issue #16.)
    @Test func fieldValidationIgnoreDropsACustomResourcesUnknownFieldsWithoutAWarning() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let r = await t.kubectl("apply", "-f", "-", stdin: trainingJobCRD)
            #expect(r.ok, "\(r.stderr)")
            let established = try await eventually {
                let crd = await t.cluster.store.get("customresourcedefinitions.apiextensions.k8s.io", namespace: nil, name: "trainingjobs.gantry.dev")
                return Self.condition(crd, "Established")?["status"] == "True"
            }
            #expect(established)
            let cases = [
                ("/apis/gantry.dev/v1/namespaces/default/trainingjobs", #"{"apiVersion":"gantry.dev/v1","kind":"TrainingJob","metadata":{"name":"NAME"},"spec":{"replicas":1,"bogus":1}}"#, "trainingjobs.gantry.dev"),
            ]
            for (path, template, resource) in cases {
                let (code, headers, body) = await Self.curlWithHeaders(t, "POST", path + "?fieldValidation=Ignore",
                                                                       body: template.replacingOccurrences(of: "NAME", with: "ignored"))
                #expect(code == 201, "\(path): \(body)")
                #expect(!headers.contains("\nwarning:"), "\(path): \(headers)")
                let stored = await t.cluster.store.get(resource, namespace: "default", name: "ignored")
                #expect(stored != nil && stored?["bogus"] == nil && stored?[path: "spec", "bogus"] == nil, "\(stored ?? .null)")
                let (warnCode, warnHeaders, warnBody) = await Self.curlWithHeaders(t, "POST", path + "?fieldValidation=Warn",
                                                                                   body: template.replacingOccurrences(of: "NAME", with: "warned"))
                #expect(warnCode == 201, "\(path): \(warnBody)")
                #expect(warnHeaders.contains("\nwarning:") && warnHeaders.contains("bogus"), "\(path): \(warnHeaders)")
            }
        }
    }

    /// `pods/exec` (and kubectl exec) is answered with a plain 400 naming why, not a bare 404.
    @Test func podsExecAnswers400() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, body) = await t.curl("POST", Self.pods, body: #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}"#)
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("POST", Self.pods + "/p/exec?command=ls&container=c&stdout=true")
            #expect(code == 400, "\(body)")
            let status = try JSONValue.parse(body)
            #expect(status["reason"] == "BadRequest")
            #expect(status["message"]?.stringValue?.contains("pods/exec is not supported by the gantry dev cluster") == true, "\(body)")
            let r = await t.kubectl("exec", "p", "-c", "c", "--", "ls")
            #expect(!r.ok)
            #expect(r.stderr.contains("not supported by the gantry dev cluster") || r.stderr.contains("400"), "\(r.stderr)")
        }
    }
}
