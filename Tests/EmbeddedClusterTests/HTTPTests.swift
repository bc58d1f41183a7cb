import GantryTestSupport
import Foundation
import KubeCore
import Testing
@testable import EmbeddedCluster

/// The REST API through curl: status codes and bodies as kube-apiserver answers them.
@Suite(.serialized)
struct HTTPTests {
    static let cms = "/api/v1/namespaces/default/configmaps"

    func createConfigMap(_ t: TestCluster, _ name: String, labels: [String: String] = [:]) async throws -> JSONValue {
        var obj: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)], "data": ["k": "v"]]
        obj.labels = labels
        let (code, body) = await t.curl("POST", Self.cms, body: obj.serialized())
        guard code == 201 else { throw TestFailure("create \(name): \(code) \(body)") }
        return try JSONValue.parse(body)
    }

    @Test func errorsAreStatusObjects() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, body) = await t.curl("GET", Self.cms + "/missing")
            #expect(code == 404)
            let status = try JSONValue.parse(body)
            #expect(status["kind"] == "Status")
            #expect(status["reason"] == "NotFound")
            #expect(status["message"] == #"configmaps "missing" not found"#)
            #expect(status[path: "details", "name"] == "missing")
            (code, body) = await t.curl("GET", "/apis/nothing.example/v1/things")
            #expect(code == 404)
            #expect(body.contains("the server could not find the requested resource"))
            (code, body) = await t.curl("POST", Self.cms, body: "{not json")
            #expect(code == 400)
            #expect(body.contains("BadRequest"))
            (code, _) = await t.curl("GET", Self.cms, token: "wrong")
            #expect(code == 401)
            _ = try await createConfigMap(t, "dup")
            (code, body) = await t.curl("POST", Self.cms, body: #"{"metadata":{"name":"dup"}}"#)
            #expect(code == 409)
            #expect(body.contains(#"configmaps \"dup\" already exists"#))
            (code, body) = await t.curl("POST", Self.cms, body: #"{"metadata":{"name":"lbl","labels":{"app":"-bad"}}}"#)
            #expect(code == 422)
            #expect(body.contains(#"ConfigMap \"lbl\" is invalid: metadata.labels: Invalid value: \"-bad\": a valid label must be an empty string"#), "\(body)")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/default/services", body: #"{"metadata":{"name":"9web"},"spec":{"ports":[{"port":80}]}}"#)
            #expect(code == 422)
            #expect(body.contains("a DNS-1035 label must consist of lower case alphanumeric characters"), "\(body)")
            (code, body) = await t.curl("POST", "/api/v1/namespaces/nowhere/configmaps", body: #"{"metadata":{"name":"x"}}"#)
            #expect(code == 404)
            #expect(body.contains(#"namespaces \"nowhere\" not found"#))
        }
    }

    /// Query options decoded as kube-apiserver's parameter codec decodes them: an integer Go cannot parse is a 400
    /// naming the value (not a silent default), and a bool is true unless it reads 0, f or false.
    @Test func queryOptionsAreDecodedAsKubeApiserverDecodesThem() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            _ = try await createConfigMap(t, "q")
            var (code, body) = await t.curl("GET", Self.cms + "?limit=abc")
            var status = try JSONValue.parse(body)
            #expect(code == 400 && status["reason"] == "BadRequest" && status["message"] == #"strconv.ParseInt: parsing "abc": invalid syntax"#, "\(code) \(body)")
            (code, body) = await t.curl("GET", Self.cms + "?limit=99999999999999999999")
            status = try JSONValue.parse(body)
            #expect(code == 400 && status["message"] == #"strconv.ParseInt: parsing "99999999999999999999": value out of range"#, "\(code) \(body)")
            (code, body) = await t.curl("GET", Self.cms + "?watch=true&timeoutSeconds=0.1s")
            status = try JSONValue.parse(body)
            #expect(code == 400 && status["message"] == #"strconv.ParseInt: parsing "0.1s": invalid syntax"#, "a watch's timeout: \(code) \(body)")
            (code, body) = await t.curl("GET", "/api/v1/namespaces/default/pods/none/log?tailLines=ten")
            #expect(code == 400 && body.contains(#"parsing \"ten\": invalid syntax"#), "\(code) \(body)")

            (code, body) = await t.curl("GET", Self.cms + "?limit=1")
            #expect(try code == 200 && JSONValue.parse(body)["kind"] == "ConfigMapList", "\(code) \(body)")
            // watch=yes is a watch (it ends at its timeout), watch=False a list.
            (code, body) = await t.curl("GET", Self.cms + "?watch=yes&timeoutSeconds=1")
            #expect(code == 200 && body.contains(#""type":"ADDED""#), "\(code) \(body)")
            (code, body) = await t.curl("GET", Self.cms + "?watch=False")
            #expect(try code == 200 && JSONValue.parse(body)["kind"] == "ConfigMapList", "\(code) \(body)")

            // kubectl shows the server's message.
            let r = await t.kubectl("get", "--raw", Self.cms + "?limit=abc")
            #expect(!r.ok && r.stderr.contains("strconv.ParseInt"), "\(r.stderr)")
        }
    }

    @Test func optimisticConcurrency() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var obj = try await createConfigMap(t, "occ")
            let staleRV = obj.resourceVersion ?? ""
            obj["data"] = ["k": "v2"]
            var (code, body) = await t.curl("PUT", Self.cms + "/occ", body: obj.serialized())
            #expect(code == 200, "\(body)")
            obj["data"] = ["k": "v3"]
            obj.resourceVersion = staleRV
            (code, body) = await t.curl("PUT", Self.cms + "/occ", body: obj.serialized())
            #expect(code == 409)
            #expect(body.contains(#"Operation cannot be fulfilled on configmaps \"occ\": the object has been modified; please apply your changes to the latest version and try again"#))
            // Without resourceVersion a PUT is unconditional.
            obj.resourceVersion = nil
            (code, _) = await t.curl("PUT", Self.cms + "/occ", body: obj.serialized())
            #expect(code == 200)
            // A failed JSON patch test answers 422 and changes nothing.
            (code, body) = await t.curl("PATCH", Self.cms + "/occ", body: #"[{"op":"test","path":"/data/k","value":"nope"},{"op":"remove","path":"/data"}]"#,
                                        contentType: "application/json-patch+json")
            #expect(code == 422, "\(body)")
            let now = try await t.json(Self.cms + "/occ")
            #expect(now[path: "data", "k"] == "v3")
        }
    }

    @Test func generateNameAndDeletePreconditions() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, body) = await t.curl("POST", Self.cms, body: #"{"metadata":{"generateName":"job-"}}"#)
            #expect(code == 201)
            let generated = try JSONValue.parse(body)
            let name = try #require(generated.name)
            #expect(name.hasPrefix("job-") && name.count == 9)
            (code, body) = await t.curl("DELETE", Self.cms + "/\(name)", body: #"{"preconditions":{"uid":"not-the-uid"}}"#)
            #expect(code == 409)
            #expect(body.contains("Precondition failed: UID in precondition: not-the-uid"), "\(body)")
            (code, _) = await t.curl("DELETE", Self.cms + "/\(name)?dryRun=All")
            #expect(code == 200)
            #expect(await t.cluster.store.get("configmaps", namespace: "default", name: name) != nil)
            (code, _) = await t.curl("DELETE", Self.cms + "/\(name)", body: #"{"preconditions":{"uid":"\#(generated.uid ?? "")","resourceVersion":"\#(generated.resourceVersion ?? "")"}}"#)
            #expect(code == 200)
            #expect(await t.cluster.store.get("configmaps", namespace: "default", name: name) == nil)
            // Deleting what is not there is a 404 Status.
            (code, body) = await t.curl("DELETE", Self.cms + "/\(name)")
            #expect(code == 404)
            #expect(body.contains(#"configmaps \"\#(name)\" not found"#))
        }
    }

    @Test func pagingOverOneSnapshotAndExpiredTokens() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            for i in 0..<5 { _ = try await createConfigMap(t, "page-\(i)") }
            let first = try await t.json(Self.cms + "?limit=2")
            #expect(first["items"]?.arrayValue?.count == 2)
            let token = try #require(first[path: "metadata", "continue"]?.stringValue)
            #expect(first[path: "metadata", "remainingItemCount"] == 3)
            // Changes after the first page do not show up in later pages of the same list.
            _ = try await createConfigMap(t, "page-9")
            let (delCode, _) = await t.curl("DELETE", Self.cms + "/page-4")
            #expect(delCode == 200)
            let second = try await t.json(Self.cms + "?limit=2&continue=\(token)")
            let third = try await t.json(Self.cms + "?limit=2&continue=\(second[path: "metadata", "continue"]?.stringValue ?? "")")
            let names = ((first["items"]?.arrayValue ?? []) + (second["items"]?.arrayValue ?? []) + (third["items"]?.arrayValue ?? []))
                .compactMap(\.name)
            #expect(names == ["page-0", "page-1", "page-2", "page-3", "page-4"])
            #expect(third[path: "metadata", "continue"] == nil)
            #expect(second[path: "metadata", "resourceVersion"] == first[path: "metadata", "resourceVersion"])
            // A list at an exact past revision sees that snapshot too.
            let rv = first[path: "metadata", "resourceVersion"]?.stringValue ?? ""
            let exact = try await t.json(Self.cms + "?resourceVersion=\(rv)&resourceVersionMatch=Exact")
            #expect(exact["items"]?.arrayValue?.compactMap(\.name) == ["page-0", "page-1", "page-2", "page-3", "page-4"])
            // Once history is compacted the token is too old.
            await t.cluster.compactHistory()
            let (code, body) = await t.curl("GET", Self.cms + "?limit=2&continue=\(token)")
            #expect(code == 410)
            #expect(body.contains("Expired"))
        }
    }

    /// A paged list with a label selector: kube-apiserver cannot count the remaining items (they may not match),
    /// so `remainingItemCount` is absent while `continue` is given; every page walks keys in order, and a key
    /// added between two lists is in the second (the server keeps its key order between pages).
    @Test func selectedPagesHaveNoRemainingCountAndNewKeysAppear() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            for name in ["b", "d", "f", "h"] { _ = try await createConfigMap(t, name, labels: ["tier": "web"]) }
            _ = try await createConfigMap(t, "z", labels: ["tier": "db"])
            func pages(_ query: String) async throws -> (names: [String], first: JSONValue) {
                var names: [String] = [], token: String? = nil, first: JSONValue?
                repeat {
                    let page = try await t.json(Self.cms + "?limit=2&\(query)" + (token.map { "&continue=\($0)" } ?? ""))
                    first = first ?? page
                    names += page["items"]?.arrayValue?.compactMap(\.name) ?? []
                    token = page[path: "metadata", "continue"]?.stringValue
                } while token != nil
                return (names, first ?? .null)
            }
            let selected = try await pages("labelSelector=tier%3Dweb")
            #expect(selected.names == ["b", "d", "f", "h"])
            #expect(selected.first[path: "metadata", "continue"] != nil && selected.first[path: "metadata", "remainingItemCount"] == nil)
            let all = try await pages("")
            #expect(all.names == ["b", "d", "f", "h", "z"] && all.first[path: "metadata", "remainingItemCount"] == 3)
            _ = try await createConfigMap(t, "c", labels: ["tier": "web"])
            let (code, _) = await t.curl("DELETE", Self.cms + "/f")
            #expect(code == 200)
            #expect(try await pages("labelSelector=tier%3Dweb").names == ["b", "c", "d", "h"])
        }
    }

    /// A queued delay holds the next matching request of one user only: another user's request on the same path
    /// is answered at once and leaves the delay queued (LeaderFencingTests holds one replica's lease read so).
    @Test func aQueuedDelayHoldsOnlyTheNamedUsersRequest() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            t.cluster.addToken("slow-token", user: "slow")
            t.cluster.addToken("fast-token", user: "fast")
            let delay = Duration.seconds(5)
            t.cluster.delayNextRequests(1, by: delay, target: FaultTarget(method: "GET", path: "/configmaps", user: "slow"))
            func timedGet(_ token: String) async -> (code: Int, took: Duration) {
                let start = ContinuousClock.now
                let (code, _) = await t.curl("GET", Self.cms, token: token)
                return (code, ContinuousClock.now - start)
            }
            let fast = await timedGet("fast-token")
            #expect(fast.code == 200 && fast.took < delay, "another user is not held: \(fast)")
            let slow = await timedGet("slow-token")
            #expect(slow.code == 200 && slow.took >= delay, "the named user is held: \(slow)")
            let again = await timedGet("slow-token")
            #expect(again.code == 200 && again.took < delay, "one request only: \(again)")
        }
    }

    @Test func selectors() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            _ = try await createConfigMap(t, "a", labels: ["tier": "web", "env": "prod"])
            _ = try await createConfigMap(t, "b", labels: ["tier": "db", "env": "prod"])
            _ = try await createConfigMap(t, "c", labels: ["tier": "web"])
            func names(_ query: String) async throws -> [String] {
                let encoded = query.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? query
                return try await t.json(Self.cms + "?labelSelector=\(encoded)")["items"]?.arrayValue?.compactMap(\.name) ?? []
            }
            #expect(try await names("tier=web") == ["a", "c"])
            #expect(try await names("tier==web,env") == ["a"])
            #expect(try await names("tier!=web") == ["b", "kube-root-ca.crt"].filter { $0 == "b" })
            #expect(try await names("tier in (db,web),!env") == ["c"])
            #expect(try await names("tier notin (web)") == ["b"])
            let byName = try await t.json(Self.cms + "?fieldSelector=metadata.name%3Db")
            #expect(byName["items"]?.arrayValue?.compactMap(\.name) == ["b"])
            let (code, body) = await t.curl("GET", Self.cms + "?fieldSelector=spec.foo%3Dx")
            #expect(code == 400, "\(body)")
        }
    }

    @Test func watchResumeBookmarksAndGone() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let a = try await createConfigMap(t, "w1")
            let rv = a.resourceVersion ?? ""
            _ = try await createConfigMap(t, "w2")
            let (c1, _) = await t.curl("DELETE", Self.cms + "/w1")
            #expect(c1 == 200)
            // Resume from w1's revision: w2 ADDED and w1 DELETED, then a bookmark at the timeout.
            var (code, body) = await t.curl("GET", Self.cms + "?watch=true&resourceVersion=\(rv)&timeoutSeconds=1&allowWatchBookmarks=true")
            #expect(code == 200)
            let events = body.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
            #expect(events.map { $0["type"]?.stringValue ?? "" } == ["ADDED", "DELETED", "BOOKMARK"])
            #expect(events.first?[path: "object", "metadata", "name"] == "w2")
            // resourceVersion=0: the current state first.
            (code, body) = await t.curl("GET", Self.cms + "?watch=1&resourceVersion=0&timeoutSeconds=1")
            #expect(body.contains(#""name":"w2""#))
            // Label selector on the watch: an object leaving the selection is DELETED for that watcher.
            let labelled = try await createConfigMap(t, "sel", labels: ["pick": "yes"])
            async let watched = t.curl("GET", Self.cms + "?watch=true&labelSelector=pick%3Dyes&resourceVersion=\(labelled.resourceVersion ?? "")&timeoutSeconds=2")
            let (pc, _) = await t.curl("PATCH", Self.cms + "/sel", body: #"{"metadata":{"labels":{"pick":"no"}}}"#,
                                       contentType: "application/merge-patch+json")
            #expect(pc == 200)
            let left = await watched
            #expect(left.1.contains(#""type":"DELETED""#), "\(left.1)")
            // After compaction, an old resourceVersion gets an ERROR event with a 410 Status.
            await t.cluster.compactHistory()
            (code, body) = await t.curl("GET", Self.cms + "?watch=true&resourceVersion=\(rv)")
            #expect(code == 200)
            let error = try JSONValue.parse(String(body.split(separator: "\n").first ?? ""))
            #expect(error["type"] == "ERROR")
            #expect(error[path: "object", "code"] == 410)
            #expect(error[path: "object", "reason"] == "Expired")
        }
    }

    @Test func watchListInitialEventsEnd() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            _ = try await createConfigMap(t, "init")
            let (_, body) = await t.curl("GET", Self.cms + "?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")
            let events = body.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
            #expect(events.first?["type"] == "ADDED")
            let marker = events.first { $0["type"] == "BOOKMARK" }
            #expect(marker?[path: "object", "metadata", "annotations", "k8s.io/initial-events-end"] == "true")
        }
    }

    /// A watcher that does not read is cut off once its buffer is full, instead of growing without bound.
    @Test func slowWatcherIsCutOff() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let store = t.cluster.store
            guard let info = await store.resource(group: "", version: "v1", plural: "configmaps") else { throw TestFailure("no configmaps") }
            let (_, stream) = await store.openWatch(info, namespace: nil, labels: LabelQuery(), fields: FieldQuery(), resourceVersion: nil, bookmarks: false)
            #expect(await store.openWatchCount == 1)
            for i in 0..<(watchBufferLimit + 10) {
                _ = try await store.create("configmaps", ["metadata": ["name": .string("slow-\(i)"), "namespace": "default"]])
            }
            #expect(await store.openWatchCount == 0)
            var received = 0
            for await _ in stream { received += 1 }
            #expect(received <= watchBufferLimit)
        }
    }

    @Test func dropWatchesEndsStreams() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            async let watched = t.curl("GET", Self.cms + "?watch=true&timeoutSeconds=30")
            let open = try await eventually { await t.cluster.store.openWatchCount == 1 }
            #expect(open)
            await t.cluster.dropWatches()
            let (code, _) = await watched
            #expect(code == 200)
            #expect(await t.cluster.store.openWatchCount == 0)
        }
    }

    /// `timeoutSeconds=0` means "the server's default" (a random 30–60 minutes), as kube-apiserver reads it
    /// (handlers/get.go), not a watch that ends at once: the stream stays open and carries a later change.
    @Test func aZeroTimeoutWatchTakesTheServerDefault() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            async let watched = t.curl("GET", Self.cms + "?watch=true&timeoutSeconds=0")
            #expect(try await eventually { await t.cluster.store.openWatchCount == 1 })
            _ = try await createConfigMap(t, "after-zero")
            #expect(try await eventually { await t.cluster.store.openWatchCount == 1 }, "still open after the change")
            await t.cluster.dropWatches()
            let (code, body) = await watched
            #expect(code == 200)
            #expect(body.contains(#""name":"after-zero""#), "\(body)")
        }
    }

    @Test func faultInjection() async throws {
        try await withCluster(TestCluster.bare(DevClusterOptions(faults: "error=1:429"))) { t async throws in
            var (code, body) = await t.curl("GET", Self.cms)
            #expect(code == 429)
            #expect(body.contains("TooManyRequests"))
            let headers = await runProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-D", "-", "-H", "Authorization: Bearer \(t.cluster.token)",
                                                             t.cluster.url + Self.cms])
            #expect(headers.stdout.lowercased().contains("retry-after: 1"), "\(headers.stdout)")
            t.cluster.setFaults(FaultSpec(errorRate: 1, errorCode: 503))
            (code, _) = await t.curl("GET", Self.cms)
            #expect(code == 503)
            try t.cluster.setFaults("latency=200ms")
            let start = ContinuousClock.now
            (code, _) = await t.curl("GET", Self.cms)
            #expect(code == 200)
            #expect(ContinuousClock.now - start >= .milliseconds(200))
            t.cluster.setFaults(FaultSpec())
            #expect(throws: (any Error).self) { try FaultSpec(parsing: "error=2:503") }
        }
    }

    @Test func foregroundAndOrphanDeletion() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let owner = try await createConfigMap(t, "fg-owner")
            let ref: JSONValue = [["apiVersion": "v1", "kind": "ConfigMap", "name": "fg-owner", "uid": .string(owner.uid ?? ""),
                                   "controller": true, "blockOwnerDeletion": true]]
            var child: JSONValue = ["metadata": ["name": "fg-child", "ownerReferences": ref, "finalizers": ["test/hold"]]]
            var (code, body) = await t.curl("POST", Self.cms, body: child.serialized())
            #expect(code == 201, "\(body)")
            (code, body) = await t.curl("DELETE", Self.cms + "/fg-owner", body: #"{"propagationPolicy":"Foreground"}"#)
            #expect(code == 200, "\(body)")
            // The owner waits (foregroundDeletion) while its blocking dependent is held by a finalizer.
            let waiting = try await eventually {
                let o = await t.cluster.store.get("configmaps", namespace: "default", name: "fg-owner")
                let c = await t.cluster.store.get("configmaps", namespace: "default", name: "fg-child")
                return o?.finalizers.contains("foregroundDeletion") == true && c?.deletionTimestamp != nil
            }
            #expect(waiting)
            (code, _) = await t.curl("PATCH", Self.cms + "/fg-child", body: #"{"metadata":{"finalizers":null}}"#,
                                     contentType: "application/merge-patch+json")
            #expect(code == 200)
            let bothGone = try await eventually {
                let owner = await t.cluster.store.get("configmaps", namespace: "default", name: "fg-owner")
                let child = await t.cluster.store.get("configmaps", namespace: "default", name: "fg-child")
                return owner == nil && child == nil
            }
            #expect(bothGone)
            // Orphan: the dependent stays, without the reference.
            let owner2 = try await createConfigMap(t, "or-owner")
            child = ["metadata": ["name": "or-child", "ownerReferences": [["apiVersion": "v1", "kind": "ConfigMap", "name": "or-owner",
                                                                           "uid": .string(owner2.uid ?? "")]]]]
            (code, _) = await t.curl("POST", Self.cms, body: child.serialized())
            (code, _) = await t.curl("DELETE", Self.cms + "/or-owner?propagationPolicy=Orphan")
            #expect(code == 200)
            let orphan = await t.cluster.store.get("configmaps", namespace: "default", name: "or-child")
            #expect(orphan != nil)
            #expect(orphan?.ownerReferences.isEmpty == true)
        }
    }

    @Test func namespaceDeletionRemovesContent() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            var (code, _) = await t.curl("POST", "/api/v1/namespaces", body: #"{"metadata":{"name":"team"}}"#)
            #expect(code == 201)
            (code, _) = await t.curl("POST", "/api/v1/namespaces/team/configmaps", body: #"{"metadata":{"name":"x"}}"#)
            #expect(code == 201)
            #expect(await t.cluster.store.get("serviceaccounts", namespace: "team", name: "default") != nil)
            (code, _) = await t.curl("DELETE", "/api/v1/namespaces/team")
            #expect(code == 200)
            let gone = try await eventually {
                await t.cluster.store.get("namespaces", namespace: nil, name: "team") == nil
            }
            #expect(gone)
            #expect(await t.cluster.store.get("configmaps", namespace: "team", name: "x") == nil)
        }
    }

    @Test func persistenceAndRestart() async throws {
        let t = try await TestCluster.bare(DevClusterOptions(dataDir: "<temp>"))
        _ = try await createConfigMap(t, "kept")
        let url = t.cluster.url
        try await t.cluster.restart()
        #expect(t.cluster.url == url)
        let again = try await t.json(Self.cms + "/kept")
        #expect(again.name == "kept")
        let revision = await t.cluster.store.currentRevision
        await t.cluster.stop()
        try await withCluster(TestCluster.bare(reusing: t.dir, DevClusterOptions(dataDir: t.dir + "/data"))) { t2 async throws in
            let reloaded = try await t2.json(Self.cms + "/kept")
            #expect(reloaded.uid == again.uid)
            #expect(await t2.cluster.store.currentRevision == revision)
        }
    }

    /// A damaged data file stops the start with its path, the parser's position and what to do.
    @Test func aTruncatedDataFileIsNamedAtStart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gantry-truncated-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(#"{"revision": 12, "resources": {"configmaps": [{"metadata": {"na"#.utf8).write(to: URL(fileURLWithPath: dir + "/cluster.json"))
        do {
            let cluster = try await DevCluster.start(DevClusterOptions(nodes: "off", dataDir: dir))
            await cluster.stop()
            Issue.record("a truncated data file was loaded")
        } catch let error as PersistenceError {
            #expect(error.description.contains(dir + "/cluster.json") && error.description.contains("byte")
                    && error.description.contains("Move it away"), "\(error)")
        }
    }

    @Test func tablesForCustomResources() async throws {
        try await withCluster(TestCluster.bare()) { t async throws in
            let crd = try await t.cluster.store.create("customresourcedefinitions.apiextensions.k8s.io",
                                                       try JSONValue.parse(#"{"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com","scope":"Cluster","names":{"plural":"widgets","kind":"Widget"},"versions":[{"name":"v1","served":true,"storage":true,"selectableFields":[{"jsonPath":".spec.size"}],"additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"},{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}]}]}}"#))
            #expect(crd[path: "status", "conditions"]?.arrayValue?.count == 2)
            let (code, _) = await t.curl("POST", "/apis/example.com/v1/widgets",
                                         body: #"{"metadata":{"name":"w"},"spec":{"size":3},"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#)
            #expect(code == 201)
            let (_, body) = await t.curl("GET", "/apis/example.com/v1/widgets", headers: ["Accept: application/json;as=Table;v=v1;g=meta.k8s.io"])
            let table = try JSONValue.parse(body)
            #expect(table["kind"] == "Table")
            #expect(table["columnDefinitions"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Name", "Size", "Ready"])
            #expect(table["rows"]?.arrayValue?.first?["cells"] == ["w", 3, "True"])
            // selectableFields make spec.size usable in field selectors; other spec fields are not.
            let bySize = try await t.json("/apis/example.com/v1/widgets?fieldSelector=spec.size%3D3")
            #expect(bySize["items"]?.arrayValue?.count == 1)
            let (badCode, _) = await t.curl("GET", "/apis/example.com/v1/widgets?fieldSelector=spec.colour%3Dred")
            #expect(badCode == 400)
        }
    }
}
