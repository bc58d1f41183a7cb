import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// A DevCluster (no simulated nodes) and a client configured from the kubeconfig it writes (YAML, through
/// `KubeConfig.load`). `tls`: HTTPS with the generated CA, as `gantry dev` serves by default.
struct ClusterFixture: StoppableFixture {
    let cluster: DevCluster
    let client: KubeClient
    let config: KubeConfig
    let dir: TempDir

    /// `nodes`: simulated nodes (`DevClusterOptions.nodes`; none by default).
    static func start(tls: Bool = false, http2: Bool = true, nodes: String = "off", options: ClientOptions = .init()) async throws -> ClusterFixture {
        let cluster = try await DevCluster.start(DevClusterOptions(nodes: nodes, tls: tls, http2: http2))
        let dir = try TempDir()
        let path = try dir.write("kubeconfig", cluster.kubeconfigYAML())
        let config = try KubeConfig.load(path: path, environment: [:])
        return ClusterFixture(cluster: cluster, client: try KubeClient(config: config, options: options), config: config, dir: dir)
    }

    func client(_ configure: (inout KubeConfig) -> Void, options: ClientOptions = .init()) throws -> KubeClient {
        var c = config
        configure(&c)
        return try KubeClient(config: c, options: options)
    }

    func stop() async { await cluster.stop() }

    /// The cluster's CA and admin client certificate and key as files under `pki/` (TLS only).
    func writePKI(cert: String = "client.crt", key: String = "client.key") throws {
        try dir.write("pki/ca.crt", try cluster.caPEM ?? { throw TestFailure("no CA: start the fixture with tls") }())
        try dir.write("pki/" + cert, cluster.clientCertificatePEM ?? "")
        try dir.write("pki/" + key, cluster.clientKeyPEM ?? "")
    }
}

/// True when the ConfigMap is not found (404); false while it exists; any other failure is thrown.
func isGone(_ client: KubeClient, _ name: String) async throws -> Bool {
    do {
        _ = try await client.get(configMaps, namespace: "default", name: name)
        return false
    } catch let error as APIError where error.isNotFound {
        return true
    }
}

func namespace(_ client: KubeClient, _ name: String) async throws {
    _ = try await client.create(.namespaces, ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(name)]])
}

@Suite("KubeClient against the embedded API server")
struct ClusterTests {
    @Test func crudRoundTrip() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            #expect(c.defaultNamespace == "default")
            let created = try await c.create(configMaps, configMap("round", ["a": "1"]))
            #expect(created.namespace == "default")
            #expect(created.uid != nil)
            let got = try await c.get(configMaps, namespace: nil, name: "round")
            #expect(got["data"]?["a"] == "1")

            var changed = got
            changed["data"] = ["a": "2"]
            let updated = try await c.update(configMaps, changed)
            #expect(updated["data"]?["a"] == "2")
            #expect(updated.resourceVersion != got.resourceVersion)

            let merged = try await c.patch(configMaps, namespace: "default", name: "round", patch: ["data": ["b": "3"]])
            #expect(merged["data"] == ["a": "2", "b": "3"])
            let jsonPatched = try await c.patch(configMaps, namespace: "default", name: "round",
                                                patch: [["op": "replace", "path": "/data/a", "value": "4"]], patchType: .json)
            #expect(jsonPatched["data"]?["a"] == "4")
            let applied = try await c.patch(configMaps, namespace: "default", name: "applied",
                                            patch: configMap("applied", ["x": "y"]), patchType: .apply, fieldManager: "gantry-test", force: true)
            #expect(applied["data"]?["x"] == "y")

            let dry = try await c.create(configMaps, configMap("dry"), dryRun: true)
            #expect(dry.name == "dry")
            await #expect { try await c.get(configMaps, namespace: "default", name: "dry") } throws: { ($0 as? APIError)?.isNotFound == true }

            try await c.delete(configMaps, namespace: "default", name: "round")
            try await c.delete(configMaps, namespace: "default", name: "round")  // already gone: success
            await #expect { try await c.get(configMaps, namespace: "default", name: "round") } throws: { ($0 as? APIError)?.isNotFound == true }
        }
    }

    @Test func errorsAreDecodedFromStatus() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            do {
                _ = try await c.get(configMaps, namespace: "default", name: "nope")
                Issue.record("expected 404")
            } catch let e as APIError {
                #expect(e.code == 404 && e.reason == "NotFound")
            }
            let first = try await c.create(configMaps, configMap("dup"))
            await #expect { try await c.create(configMaps, configMap("dup")) } throws: { ($0 as? APIError)?.isAlreadyExists == true }

            _ = try await c.patch(configMaps, namespace: "default", name: "dup", patch: ["data": ["v": "2"]])
            var stale = first
            stale["data"] = ["v": "stale"]
            await #expect { try await c.update(configMaps, stale) } throws: {
                guard let e = $0 as? APIError else { return false }
                return e.isConflict && e.code == 409
            }

            do {
                _ = try await c.create(configMaps, configMap("Not_A_Valid_Name"))
                Issue.record("expected 422")
            } catch let e as APIError {
                #expect(e.isInvalid)
                #expect(e.causes.contains { $0.field == "metadata.name" })
            }
        }
    }

    /// The remaining error types, each from a real answer of the server: 403 (a terminating namespace), 429
    /// and 503 with Retry-After, 500, 410 (an expired continuation), decoded with reason and details.
    @Test func forbiddenThrottledServerErrorsAndGoneAreTyped() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(maxRetries: 0))) { f async throws in
            let c = f.client
            try await namespace(c, "leaving")
            var held = configMap("held")
            held.finalizers = ["example.com/hold"]
            _ = try await c.create(configMaps, held, namespace: "leaving")
            try await c.delete(.namespaces, namespace: nil, name: "leaving")  // Terminating while "held" keeps its finalizer
            do {
                _ = try await c.create(configMaps, configMap("late"), namespace: "leaving")
                Issue.record("expected 403")
            } catch let e as APIError {
                #expect(e.isForbidden && e.reason == "Forbidden" && e.message.contains("being terminated"), "\(e)")
            }

            f.cluster.failNextRequests(1, code: 429, retryAfterSeconds: 3)
            do {
                _ = try await c.list(configMaps, namespace: "default")
                Issue.record("expected 429")
            } catch let e as APIError {
                #expect(e.isTooManyRequests && e.isTransient && e.retryAfterSeconds == 3, "\(e)")
            }
            for code in [500, 503] {
                f.cluster.failNextRequests(1, code: code)
                await #expect { try await c.list(configMaps, namespace: "default") } throws: {
                    guard let e = $0 as? APIError else { return false }
                    return e.code == code && e.isTransient && e.reason == (code == 500 ? "InternalError" : "ServiceUnavailable")
                }
            }
            f.cluster.failNextRequests(1, code: 410, target: FaultTarget(queryParameter: "continue"))
            let first = try await c.list(.namespaces, namespace: nil, options: ListOptions(limit: 1))
            await #expect { try await c.list(.namespaces, namespace: nil, options: ListOptions(limit: 1, continueToken: first.continueToken)) } throws: {
                ($0 as? APIError)?.isGone == true && ($0 as? APIError)?.reason == "Expired"
            }
        }
    }

    /// The query and body encodings of the client against the server's semantics: label and field selectors,
    /// delete preconditions (a mismatch is a 409), propagation policies and dry run.
    @Test func selectorsAndDeleteOptions() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            for (name, tier) in [("a", "web"), ("b", "db"), ("c", "web")] {
                var cm = configMap(name)
                cm.labels = ["tier": tier]
                _ = try await c.create(configMaps, cm)
            }
            let web = try await c.list(configMaps, namespace: "default", options: ListOptions(labelSelector: "tier=web"))
            #expect(web.items.compactMap(\.name).sorted() == ["a", "c"])
            let notWeb = try await c.list(configMaps, namespace: "default", options: ListOptions(labelSelector: "tier,tier notin (web)"))
            #expect(notWeb.items.compactMap(\.name) == ["b"])
            let byName = try await c.list(configMaps, namespace: "default", options: ListOptions(fieldSelector: "metadata.name=c"))
            #expect(byName.items.compactMap(\.name) == ["c"])

            // Preconditions: a wrong uid or a stale resourceVersion refuses the delete with 409.
            let a = try await c.get(configMaps, namespace: "default", name: "a")
            await #expect { try await c.delete(configMaps, namespace: "default", name: "a", options: DeleteOptions(preconditionUID: "not-the-uid")) } throws: {
                ($0 as? APIError)?.isConflict == true
            }
            _ = try await c.patch(configMaps, namespace: "default", name: "a", patch: ["data": ["v": "2"]])
            await #expect {
                try await c.delete(configMaps, namespace: "default", name: "a", options: DeleteOptions(preconditionResourceVersion: a.resourceVersion))
            } throws: { ($0 as? APIError)?.isConflict == true }
            try await c.delete(configMaps, namespace: "default", name: "a", options: DeleteOptions(dryRun: true))
            #expect(try await c.get(configMaps, namespace: "default", name: "a").name == "a")
            try await c.delete(configMaps, namespace: "default", name: "a", options: DeleteOptions(preconditionUID: a.uid))
            await #expect { try await c.get(configMaps, namespace: "default", name: "a") } throws: { ($0 as? APIError)?.isNotFound == true }

            // Propagation: Orphan keeps the dependent (its ownerReference removed); Foreground deletes it first.
            func ownedPair(_ owner: String) async throws -> JSONValue {
                let o = try await c.create(configMaps, configMap(owner))
                var dependent = configMap(owner + "-child")
                dependent.ownerReferences = [OwnerReference(apiVersion: "v1", kind: "ConfigMap", name: owner, uid: o.uid ?? "")]
                _ = try await c.create(configMaps, dependent)
                return o
            }
            _ = try await ownedPair("orphaning")
            try await c.delete(configMaps, namespace: "default", name: "orphaning", options: DeleteOptions(propagationPolicy: .orphan))
            try await waitUntil("owner gone") { try await isGone(c, "orphaning") }
            let orphan = try await c.get(configMaps, namespace: "default", name: "orphaning-child")
            #expect(orphan.ownerReferences.isEmpty)

            _ = try await ownedPair("cascading")
            try await c.delete(configMaps, namespace: "default", name: "cascading", options: DeleteOptions(propagationPolicy: .foreground))
            try await waitUntil("owner and dependent gone") {
                let owner = try await isGone(c, "cascading")
                let child = try await isGone(c, "cascading-child")
                return owner && child
            }
        }
    }

    @Test func pagingWithLimitAndContinue() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            try await namespace(c, "paging")
            for i in 0..<7 { _ = try await c.create(configMaps, configMap("cm-\(i)"), namespace: "paging") }
            let first = try await c.list(configMaps, namespace: "paging", options: ListOptions(limit: 3))
            #expect(first.items.count == 3)
            let token = try #require(first.continueToken)
            let second = try await c.list(configMaps, namespace: "paging", options: ListOptions(limit: 3, continueToken: token))
            #expect(second.items.count == 3)
            #expect(Set(first.items.compactMap(\.name)).isDisjoint(with: second.items.compactMap(\.name)))
            let all = try await c.listAll(configMaps, namespace: "paging", pageSize: 3)
            #expect(all.items.compactMap(\.name).sorted() == (0..<7).map { "cm-\($0)" })
            #expect(all.items.allSatisfy { $0.kind == "ConfigMap" && $0.apiVersion == "v1" })
            #expect(!all.resourceVersion.isEmpty)
        }
    }

    @Test func watchFromResourceVersion() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            try await namespace(c, "watching")
            _ = try await c.create(configMaps, configMap("before"), namespace: "watching")
            let list = try await c.listAll(configMaps, namespace: "watching")
            let stream = c.watch(configMaps, namespace: "watching",
                                 options: ListOptions(resourceVersion: list.resourceVersion, timeoutSeconds: 30, allowWatchBookmarks: true))
            // Written before or after the watch opens, the events are replayed from the listed version.
            let writer = Task {
                _ = try await c.create(configMaps, configMap("w"), namespace: "watching")
                _ = try await c.patch(configMaps, namespace: "watching", name: "w", patch: ["data": ["k": "v"]])
                try await c.delete(configMaps, namespace: "watching", name: "w")
            }
            var seen: [String] = []
            for try await event in stream {
                switch event {
                case .added(let o): seen.append("ADDED \(o.name ?? "")")
                case .modified(let o): seen.append("MODIFIED \(o.name ?? "")")
                case .deleted(let o): seen.append("DELETED \(o.name ?? "")")
                case .bookmark: continue
                case .error(let e): Issue.record("watch error \(e)")
                }
                if seen.count == 3 { break }
            }
            try await writer.value
            #expect(seen == ["ADDED w", "MODIFIED w", "DELETED w"])
        }
    }

    /// The embedded cluster sends a BOOKMARK every 5 s to each watch that allows them (and none to one that
    /// does not), without `sendBookmarks()`: two arrive about 5 s apart, at the current revision.
    @Test func bookmarksArriveEveryFiveSecondsToWatchesThatAllowThem() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let plain = Task {
                var kinds: [String] = []
                for try await event in f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 60)) {
                    if case .bookmark = event { kinds.append("BOOKMARK") } else { kinds.append("other") }
                }
                return kinds
            }
            try await waitUntil("the plain watch is open") { await f.cluster.store.openWatchCount == 1 }
            var times: [ContinuousClock.Instant] = []
            var versions: [String] = []
            let opened = ContinuousClock.now
            for try await event in f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 60, allowWatchBookmarks: true)) {
                if case .bookmark(let rv) = event {
                    times.append(.now)
                    versions.append(rv)
                    if times.count == 2 { break }
                }
            }
            let revision = String(await f.cluster.store.currentRevision)
            await f.cluster.dropWatches()
            let plainKinds = try await plain.value
            #expect(times.count == 2)
            // Loose bounds for a loaded machine; a server sending them on every tick or only at the 60 s timeout fails.
            #expect(times[0] - opened < .seconds(15), "first bookmark after \(times[0] - opened)")
            #expect(times[1] - times[0] > .seconds(3) && times[1] - times[0] < .seconds(15), "bookmarks \(times[1] - times[0]) apart")
            #expect(versions.allSatisfy { $0 == revision }, "\(versions) at revision \(revision)")
            #expect(!plainKinds.contains("BOOKMARK"), "a watch without allowWatchBookmarks got \(plainKinds)")
        }
    }

    @Test func cancellingAWatchEndsItPromptly() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let stream = f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 120))
            let started = ContinuousClock.now
            let task = Task {
                for try await _ in stream {}
            }
            try await waitUntil { await f.cluster.store.openWatchCount == 1 }
            let cancelledAt = ContinuousClock.now
            task.cancel()
            _ = await task.result
            // Typically milliseconds. The bound is the watch's own timeout (120 s): ending well before it shows the
            // cancel ended the watch, however loaded the machine is.
            #expect(ContinuousClock.now - cancelledAt < .seconds(60))
            #expect(ContinuousClock.now - started < .seconds(100))
            // The connection is closed: the server notices the end of input at once, with no event to write.
            try await waitUntil("the server dropped the idle watch") { await f.cluster.store.openWatchCount == 0 }
        }
    }

    @Test func logsStreamAndFollow() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let c = f.client
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "runner"],
                                  "spec": ["containers": [["name": "main", "image": "busybox"]]]]
            _ = try await c.create(.pods, pod)
            for i in 0..<3 { await f.cluster.logs.append(namespace: "default", pod: "runner", container: "main", line: "line \(i)") }
            var lines: [String] = []
            for try await line in c.logs(namespace: "default", pod: "runner") { lines.append(line) }
            #expect(lines == ["line 0", "line 1", "line 2"])

            let follower = Task {
                var got: [String] = []
                for try await line in c.logs(namespace: "default", pod: "runner", container: "main", follow: true) { got.append(line) }
                return got
            }
            try await waitUntil("follower attached") { await f.cluster.logs.followerCount(namespace: "default", pod: "runner", container: "main") == 1 }
            await f.cluster.logs.append(namespace: "default", pod: "runner", container: "main", line: "later")
            await f.cluster.logs.end(namespace: "default", pod: "runner", container: "main")
            let followed = try await follower.value
            #expect(followed.suffix(1) == ["later"])

            let tail = try await collect(c.logs(namespace: "default", pod: "runner", tailLines: 1))
            #expect(tail == ["later"])
        }
    }

    /// With every request failing 503, a GET is sent 1 + maxRetries times (counted in the server's request
    /// log), then the 503 surfaces; a 404 is an answer, never retried.
    @Test func transientServerErrorsAreRetriedThenSurfaced() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(maxRetries: 2, retryBaseDelay: .milliseconds(5)))) { f async throws in
            let path = "/api/v1/namespaces/default/configmaps/x"
            try f.cluster.setFaults("error=1:503")
            await #expect { try await f.client.get(configMaps, namespace: "default", name: "x") } throws: {
                ($0 as? APIError)?.code == 503
            }
            #expect(f.cluster.requests().filter { $0.path == path }.map(\.code) == [503, 503, 503], "one try and two retries")
            try f.cluster.setFaults("")
            await #expect { try await f.client.get(configMaps, namespace: "default", name: "x") } throws: {
                ($0 as? APIError)?.isNotFound == true
            }
            #expect(f.cluster.requests().filter { $0.path == path }.map(\.code) == [503, 503, 503, 404], "the 404 is not retried")
        }
    }

    @Test func rawAndWrongToken() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let version = try await f.client.raw(method: "GET", path: "/version")
            #expect(version.status == 200)
            #expect(try JSONValue.parse(version.body)["gitVersion"] != nil)
            let bad = try KubeClient(config: KubeConfig(server: f.cluster.url, token: "not-the-token"))
            await #expect { try await bad.list(configMaps, namespace: "default") } throws: { ($0 as? APIError)?.isUnauthorized == true }
        }
    }
}

func collect(_ stream: LineStream) async throws -> [String] {
    var lines: [String] = []
    for try await line in stream { lines.append(line) }
    return lines
}

/// Answers every proxied request with what it received.
struct EchoProxy: ProxyHandler {
    func proxy(_ request: ProxyRequest) async -> ProxyResponse {
        let text = "\(request.kind) \(request.name):\(request.port ?? "-") \(request.method) \(request.path) \(String(decoding: request.body, as: UTF8.self))"
        return ProxyResponse(status: 200, body: Array(text.utf8))
    }
}

/// A model server wanting a key it was not given.
struct WantsAKeyProxy: ProxyHandler {
    func proxy(_ request: ProxyRequest) async -> ProxyResponse { ProxyResponse(status: 401, body: Array("missing X-Api-Key".utf8)) }
}

@Suite("Proxy and stream ends against the embedded API server")
struct ClusterProxyTests {
    @Test func proxyToAPodPort() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            f.cluster.setProxyHandler(EchoProxy())
            let pod: JSONValue = ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "web"],
                                  "spec": ["containers": [["name": "main", "image": "nginx"]]]]
            _ = try await f.client.create(.pods, pod)
            let response = try await f.client.proxy(.pods, namespace: "default", name: "web", port: "8080", path: "/metrics",
                                                    method: "POST", body: Array("hello".utf8))
            #expect(response.status == 200)
            #expect(response.bodyText == "Pod web:8080 POST /metrics hello")
            await #expect(throws: KubeClientError.self) {
                try await f.client.proxy(.configMaps, namespace: "default", name: "x", port: nil, path: "/")
            }
        }
    }

    /// The caller's headers reach the backend (Content-Type replacing the client's), the client's credentials do not
    /// (the API server consumes Authorization), and headers the client cannot send faithfully are refused.
    @Test func proxySendsTheCallersHeaders() async throws {
        try await withCluster(ClusterFixture.start(tls: true)) { f async throws in
            f.cluster.setProxyHandler(HeaderEchoProxy())
            let response = try await f.client.proxy(.services, namespace: "default", name: "web", port: "http", path: "/predict", method: "POST",
                                                    body: Array("{}".utf8), headers: [("X-Api-Key", "s3cret"), ("Content-Type", "application/json")])
            #expect(response.status == 200)
            let text = response.bodyText
            #expect(text.contains("x-api-key: s3cret\n") && text.contains("content-type: application/json\n"), "\(text)")
            #expect(!text.contains("authorization"), "\(text)")
            // A backend's own 401 is its answer, not the API server refusing the client's credentials.
            f.cluster.setProxyHandler(WantsAKeyProxy())
            let unkeyed = try await f.client.proxy(.services, namespace: "default", name: "web", port: nil, path: "/")
            #expect(unkeyed.status == 401 && unkeyed.bodyText == "missing X-Api-Key")
            for refused in [("Authorization", "Bearer x"), ("X-Api-Key", "a\r\nX-Injected: 1"), ("X: Y", "z")] {
                await #expect(throws: KubeClientError.self) {
                    try await f.client.proxy(.services, namespace: "default", name: "web", port: nil, path: "/", headers: [refused])
                }
            }
        }
    }

    @Test func watchEndsWhenTheServerTimesOut() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let start = ContinuousClock.now
            var count = 0
            for try await _ in f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 1)) { count += 1 }
            #expect(ContinuousClock.now - start < .seconds(30))  // 1 s plus slack for loaded runs; no timeout would hang
        }
    }
}
