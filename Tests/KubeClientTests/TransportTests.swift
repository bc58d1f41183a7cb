import Foundation
import KubeClient
import KubeCore
import Testing

let configMaps = ResourceType.configMaps

func configMap(_ name: String, _ data: [String: String] = [:]) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)],
     "data": .object(data.mapValues(JSONValue.string))]
}

@Suite("Transport through libcurl against a scripted server")
struct TransportTests {
    @Test func crudRoundTripAndErrors() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        let created = try await client.create(configMaps, configMap("a", ["k": "v"]), namespace: "ns1")
        #expect(created.resourceVersion != nil)
        #expect(created.namespace == "ns1")

        let fetched = try await client.get(configMaps, namespace: "ns1", name: "a")
        #expect(fetched["data"]?["k"] == "v")

        // 409 AlreadyExists
        await #expect { try await client.create(configMaps, configMap("a"), namespace: "ns1") } throws: {
            ($0 as? APIError)?.isAlreadyExists == true
        }
        // 404 NotFound
        await #expect { try await client.get(configMaps, namespace: "ns1", name: "missing") } throws: {
            ($0 as? APIError)?.isNotFound == true
        }
        // 422 with causes
        do {
            _ = try await client.create(configMaps, configMap("bad", ["invalid": "1"]), namespace: "ns1")
            Issue.record("expected 422")
        } catch let error as APIError {
            #expect(error.isInvalid)
            #expect(error.causes.first?.field == "data.invalid")
        }

        var updated = fetched
        updated["data"] = ["k": "v2"]
        let afterUpdate = try await client.update(configMaps, updated)
        #expect(afterUpdate["data"]?["k"] == "v2")
        // 409 Conflict: `updated` still carries the old resourceVersion
        await #expect { try await client.update(configMaps, updated) } throws: { ($0 as? APIError)?.isConflict == true }

        let patched = try await client.patch(configMaps, namespace: "ns1", name: "a", patch: ["data": ["p": "1"]])
        #expect(patched["data"]?["p"] == "1")
        #expect(patched.annotations["content-type"] == "application/merge-patch+json")

        try await client.delete(configMaps, namespace: "ns1", name: "a")
        try await client.delete(configMaps, namespace: "ns1", name: "a")  // 404 is success
        await #expect { try await client.get(configMaps, namespace: "ns1", name: "a") } throws: { ($0 as? APIError)?.isNotFound == true }
    }

    @Test func unauthorizedIsAnAPIError() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client(token: "wrong")
        await #expect { try await client.get(configMaps, namespace: "x", name: "y") } throws: { ($0 as? APIError)?.isUnauthorized == true }
    }

    @Test func pagingFollowsContinue() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        for i in 0..<7 { _ = try await client.create(configMaps, configMap("cm\(i)"), namespace: "p") }
        let page = try await client.list(configMaps, namespace: "p", options: ListOptions(limit: 3))
        #expect(page.items.count == 3)
        #expect(page.continueToken != nil)
        #expect(page.items.first?.kind == "ConfigMap")
        let all = try await client.listAll(configMaps, namespace: "p", pageSize: 3)
        #expect(all.items.map { $0.name ?? "" } == (0..<7).map { "cm\($0)" })
        #expect(all.continueToken == nil)
        #expect(!all.resourceVersion.isEmpty)
    }

    @Test func expiredContinueRestartsTheList() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        for i in 0..<5 { _ = try await client.create(configMaps, configMap("cm\(i)"), namespace: "e") }
        // labelSelector=expire makes the fake hand out a continue token that answers 410 once.
        let all = try await client.listAll(configMaps, namespace: "e", options: ListOptions(labelSelector: "expire"), pageSize: 2)
        #expect(all.items.count == 5)
    }

    @Test func retriesTransientErrorsHonouringRetryAfter() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client(options: ClientOptions(retryBaseDelay: .milliseconds(10)))
        _ = try await client.create(configMaps, configMap("r"), namespace: "r")
        try await server.injectFault(code: 503, count: 2)
        _ = try await client.get(configMaps, namespace: "r", name: "r")  // two 503s, then success

        try await server.injectFault(code: 429, count: 1, retryAfter: 1)
        let t0 = ContinuousClock.now
        _ = try await client.get(configMaps, namespace: "r", name: "r")
        #expect(ContinuousClock.now - t0 >= .milliseconds(900))

        // Non-idempotent POST is not retried on a 500…
        try await server.injectFault(code: 500, count: 1)
        await #expect { try await client.create(configMaps, configMap("s"), namespace: "r") } throws: { ($0 as? APIError)?.code == 500 }
        // …and more failures than maxRetries surface.
        try await server.injectFault(code: 503, count: 10)
        await #expect { try await client.get(configMaps, namespace: "r", name: "r") } throws: { ($0 as? APIError)?.code == 503 }
    }

    @Test func connectionRefusedIsATransportError() async throws {
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:1"), options: ClientOptions(maxRetries: 1, retryBaseDelay: .milliseconds(1)))
        await #expect { try await client.get(configMaps, namespace: "x", name: "y") } throws: {
            guard case .transport(let code, _) = $0 as? KubeClientError else { return false }
            return code == 7
        }
    }

    @Test func watchDeliversEventsAcrossChunkBoundaries() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        let first = try await client.create(configMaps, configMap("w"), namespace: "w")
        let rv = try #require(first.resourceVersion)
        let stream = client.watch(configMaps, namespace: "w", options: ListOptions(resourceVersion: rv, timeoutSeconds: 120))
        let writer = Task {
            try await Task.sleep(for: .milliseconds(100))
            _ = try await client.create(configMaps, configMap("x"), namespace: "w")
            _ = try await client.patch(configMaps, namespace: "w", name: "x", patch: ["data": ["a": "b"]])
            try await client.delete(configMaps, namespace: "w", name: "x")
        }
        var seen: [String] = []
        for try await event in stream {
            switch event {
            case .added(let o): seen.append("ADDED \(o.name ?? "")")
            case .modified(let o): seen.append("MODIFIED \(o.name ?? "")")
            case .deleted(let o): seen.append("DELETED \(o.name ?? "")")
            default: seen.append("other")
            }
            if seen.count == 3 { break }
        }
        try await writer.value
        #expect(seen == ["ADDED x", "MODIFIED x", "DELETED x"])
    }

    @Test func watchWithTooOldVersionThrowsGone() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        let stream = client.watch(configMaps, namespace: "w", options: ListOptions(resourceVersion: "3"))
        await #expect { for try await _ in stream {} } throws: { ($0 as? APIError)?.isGone == true }
    }

    @Test func cancellingAWatchClosesTheConnection() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        let stream = client.watch(configMaps, namespace: "c", options: ListOptions(timeoutSeconds: 600))
        let task = Task {
            for try await _ in stream {}
        }
        try await waitUntil("watch open") { (try await server.stats()["open_watches"]?.intValue ?? 0) == 1 }
        let cancelledAt = ContinuousClock.now
        task.cancel()
        let result = await task.result
        // Typically milliseconds; the bound is loose only because a loaded test run can delay this task.
        #expect(ContinuousClock.now - cancelledAt < .seconds(3))
        #expect(throws: CancellationError.self) { try result.get() }
        try await waitUntil("server saw the close") { (try await server.stats()["open_watches"]?.intValue ?? 1) == 0 }
    }

    @Test func logsStreamLinesIncludingLongOnesAndTheLastPartialLine() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        var lines: [String] = []
        for try await line in client.logs(namespace: "l", pod: "p") { lines.append(line) }
        #expect(lines.count == 4)
        #expect(lines[0] == "line one")
        #expect(lines[1] == "line two")
        #expect(lines[2].count == 100_000)
        #expect(lines[3] == "last without newline")
    }

    @Test func followedLogsEndWhenTheConsumerStops() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        var ticks = 0
        for try await line in client.logs(namespace: "l", pod: "p", follow: true) where line.hasPrefix("tick") {
            ticks += 1
            if ticks == 3 { break }
        }
        #expect(ticks == 3)
        try await waitUntil { (try await server.stats()["open_watches"]?.intValue ?? 1) == 0 }
    }

    @Test func lineLongerThanTheBoundIsAnError() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client(options: ClientOptions(maxLineLength: 1000))
        await #expect(throws: KubeClientError.lineTooLong(limit: 1000)) {
            for try await _ in client.logs(namespace: "l", pod: "p") {}
        }
    }

    @Test func slowConsumerPausesTheTransferWithBoundedBuffer() async throws {
        let server = try await FakeAPIServer.start()
        // A 4 KiB buffer and a 100 KB line: the transfer must pause and resume many times and still deliver it whole.
        let client = try server.client(options: ClientOptions(streamBufferBytes: 4096))
        var lines: [String] = []
        for try await line in client.logs(namespace: "l", pod: "p") {
            try await Task.sleep(for: .milliseconds(5))
            lines.append(line)
        }
        #expect(lines.map(\.count) == [8, 8, 100_000, 20])
    }

    @Test func sendsBearerTokenAndUserAgent() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client(options: ClientOptions(userAgent: "gantry-test/1"))
        _ = try await client.list(configMaps, namespace: "u")
        let stats = try JSONValue.parse(try await client.raw(method: "GET", path: "/debug/stats").body)
        #expect(stats["ua"] == "gantry-test/1")
        #expect(stats["auth"]?.arrayValue?.contains("Bearer test-token") == true)
    }
}

/// Polls `condition` every 50 ms for up to `timeout`.
func waitUntil(_ what: String = "condition", timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws {
    // Checks once more after the deadline: under a loaded test run this task may sleep past the deadline.
    let deadline = ContinuousClock.now + timeout
    while true {
        let late = ContinuousClock.now >= deadline
        if try await condition() { return }
        if late { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("\(what): not met within \(timeout)")
}

@Suite("Connection reuse and client-side rate limiting")
struct ConnectionTests {
    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client()
        for _ in 0..<5 { _ = try await client.list(configMaps, namespace: "k") }
        let stats = try JSONValue.parse(try await client.raw(method: "GET", path: "/debug/stats").body)
        #expect(stats["connections"] == 1)
    }

    @Test func tokenBucketPacesRequests() async throws {
        let server = try await FakeAPIServer.start()
        let client = try server.client(options: ClientOptions(qps: 10, burst: 1))
        let start = ContinuousClock.now
        for _ in 0..<4 { _ = try await client.list(configMaps, namespace: "q") }
        // burst 1, then one token every 100 ms: at least ~300 ms for 4 requests.
        #expect(ContinuousClock.now - start >= .milliseconds(280))
    }
}
