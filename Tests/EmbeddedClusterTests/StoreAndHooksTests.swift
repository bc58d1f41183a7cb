import GantryTestSupport
import Foundation
import KubeCore
import Testing
@testable import EmbeddedCluster

/// The in-process API the simulation uses, and the subresources it drives.
@Suite(.serialized)
struct StoreAndHooksTests {
    @Test func nodeWithoutAllocatableGetsItsCapacity() async throws {
        // pkg/apis/core/v1 SetDefaults_NodeStatus: allocatable defaults to capacity only when absent as a whole.
        try await withCluster(TestCluster.bare()) { t async throws in
            let bare = try await t.cluster.store.create("nodes", ["metadata": ["name": "capacity-only"],
                                                                  "status": ["capacity": ["nvidia.com/gpu": "8", "pods": "110"]]])
            #expect(bare[path: "status", "allocatable"] == ["nvidia.com/gpu": "8", "pods": "110"])
            let own = try await t.cluster.store.create("nodes", ["metadata": ["name": "own-allocatable"],
                                                                 "status": ["capacity": ["pods": "110"], "allocatable": ["pods": "100"]]])
            #expect(own[path: "status", "allocatable"] == ["pods": "100"])
        }
    }

    @Test func storeAPIAndSubscription() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let store = t.cluster.store
            let events = await store.subscribe()
            let node = try await store.create("nodes", ["metadata": ["name": "gpu-0", "labels": ["node-role.kubernetes.io/worker": ""]],
                                                        "status": ["conditions": [["type": "Ready", "status": "True"]],
                                                                   "nodeInfo": ["kubeletVersion": "v1.32.0"]]])
            #expect(node[path: "status", "conditions"] != nil, "internal creates keep status")
            let pod = try await store.create("pods", ["metadata": ["name": "p", "namespace": "default"],
                                                      "spec": ["containers": [["name": "c", "image": "x"]]]])
            #expect(pod[path: "status", "phase"] == "Pending")
            _ = try await store.modify("pods", namespace: "default", name: "p") { $0[path: "status", "phase"] = "Running" }
            let (pods, rv) = try await store.list("pods", namespace: nil, fieldSelector: "status.phase=Running")
            #expect(pods.compactMap(\.name) == ["p"])
            #expect(Int64(rv) == (await store.currentRevision))
            var seen: [String] = []
            for await e in events {
                seen.append("\(e.kind.rawValue) \(e.resource) \(e.object.name ?? "")")
                if seen.count == 3 { break }
            }
            #expect(seen == ["ADDED nodes gpu-0", "ADDED pods p", "MODIFIED pods p"])
            do {
                _ = try await store.update("pods", pod)  // stale resourceVersion
                Issue.record("expected a conflict")
            } catch {
                #expect((error as? APIStatusError)?.isConflict == true, "\(error)")
            }
            // kubectl sees the node's columns.
            try Prerequisite.kubectl()
            let r = await t.kubectl("get", "nodes")
            #expect(r.stdout.contains("Ready"), "\(r.stdout)")
            #expect(r.stdout.contains("worker"))
            #expect(r.stdout.contains("v1.32.0"))
        }
    }

    @Test func bindingEvictionAndGracefulDeletion() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let pods = "/api/v1/namespaces/default/pods"
            var (code, body) = await t.curl("POST", pods, body: #"{"metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#)
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("POST", pods + "/p/binding", body: #"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}"#)
            #expect(code == 201, "\(body)")
            #expect(await t.cluster.store.get("pods", namespace: "default", name: "p")?[path: "spec", "nodeName"] == "n1")
            (code, _) = await t.curl("POST", pods + "/p/binding", body: #"{"target":{"name":"n2"}}"#)
            #expect(code == 409)
            await t.cluster.store.setGracefulPodDeletion(true)
            (code, _) = await t.curl("DELETE", pods + "/p")
            #expect(code == 200)
            let marked = await t.cluster.store.get("pods", namespace: "default", name: "p")
            #expect(marked?.deletionTimestamp != nil)
            #expect(marked?[path: "metadata", "deletionGracePeriodSeconds"] == 30)
            // The kubelet finishes with grace 0.
            _ = try await t.cluster.store.delete("pods", namespace: "default", name: "p", options: DeleteOptions(gracePeriodSeconds: 0))
            #expect(await t.cluster.store.get("pods", namespace: "default", name: "p") == nil)
            // Eviction deletes.
            (code, _) = await t.curl("POST", pods, body: #"{"metadata":{"name":"q"},"spec":{"containers":[{"name":"c","image":"x"}]}}"#)
            (code, body) = await t.curl("POST", pods + "/q/eviction", body: #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"q"}}"#)
            #expect(code == 201, "\(body)")
            #expect(await t.cluster.store.get("pods", namespace: "default", name: "q") == nil)
        }
    }

    struct EchoProxy: ProxyHandler {
        func proxy(_ request: ProxyRequest) async -> ProxyResponse {
            ProxyResponse(status: 200, body: Array("\(request.kind) \(request.name) \(request.port ?? "-") \(request.path)".utf8))
        }
    }

    @Test func proxyHook() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, body) = await t.curl("GET", "/api/v1/namespaces/default/pods/web:8080/proxy/metrics")
            #expect(code == 503, "\(body)")
            t.cluster.setProxyHandler(EchoProxy())
            (code, body) = await t.curl("GET", "/api/v1/namespaces/default/pods/web:8080/proxy/metrics")
            #expect(code == 200)
            #expect(body == "Pod web 8080 /metrics")
            (code, body) = await t.curl("GET", "/api/v1/namespaces/default/services/svc:http/proxy/")
            #expect(body == "Service svc http /")
        }
    }

    /// kube-apiserver passes a proxied request's headers on to the backend, except Authorization (deleted once the
    /// caller is authenticated), hop-by-hop headers and those Connection names, Host and Content-Length.
    @Test func proxyPassesHeadersOnButNotThoseTheAPIServerConsumes() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in  // HTTP/1.1, where Connection may name headers
            t.cluster.setProxyHandler(HeaderEchoProxy())
            let (code, body) = await t.curl("POST", "/api/v1/namespaces/default/services/svc:http/proxy/predict", body: "{}", headers: [
                "X-Api-Key: s3cret", "Connection: keep-alive, X-Hop", "X-Hop: 1", "Keep-Alive: timeout=5", "Proxy-Authorization: Basic eDp5",
            ])
            #expect(code == 200, "\(body)")
            #expect(body.contains("x-api-key: s3cret\n") && body.contains("content-type: application/json\n"), "\(body)")
            let names = body.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
            for consumed in ["authorization", "connection", "x-hop", "keep-alive", "proxy-authorization", "host", "content-length"] {
                #expect(!names.contains(consumed), "\(consumed) reached the backend: \(body)")
            }
        }
    }

    @Test func deleteCollectionAndAggregatedDiscovery() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            for n in ["a", "b", "c"] {
                _ = await t.curl("POST", "/api/v1/namespaces/default/configmaps",
                                 body: #"{"metadata":{"name":"\#(n)","labels":{"batch":"\#(n == "c" ? "two" : "one")"}}}"#)
            }
            let (code, _) = await t.curl("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=batch%3Done")
            #expect(code == 200)
            let left = try await t.json("/api/v1/namespaces/default/configmaps")
            #expect(left["items"]?.arrayValue?.compactMap(\.name) == ["c"])
            let (_, body) = await t.curl("GET", "/apis", headers: ["Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"])
            let doc = try JSONValue.parse(body)
            #expect(doc["kind"] == "APIGroupDiscoveryList")
            let apps = doc["items"]?.arrayValue?.first { $0[path: "metadata", "name"] == "apps" }
            #expect(apps?["versions"]?.arrayValue?.first?["resources"]?.arrayValue?.first?["resource"] == "daemonsets")
            let legacy = try await t.json("/apis")
            #expect(legacy["kind"] == "APIGroupList")
        }
    }
}
