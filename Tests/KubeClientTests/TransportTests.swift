import EmbeddedCluster
import Foundation
import GantryTestSupport
@testable import KubeClient
import KubeCore
import Synchronization
import Testing

let configMaps = ResourceType.configMaps

func configMap(_ name: String, _ data: [String: String] = [:]) -> JSONValue {
    ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": .string(name)],
     "data": .object(data.mapValues(JSONValue.string))]
}

/// A pod object for log tests (no simulated nodes run it: the test writes its log).
func logPod(_ name: String) -> JSONValue {
    ["apiVersion": "v1", "kind": "Pod", "metadata": ["name": .string(name)], "spec": ["containers": [["name": "main", "image": "busybox"]]]]
}

/// Transport behaviour of the libcurl client (retries, paging restarts, streaming, backpressure, cancellation,
/// headers), driven against the embedded API server with its fault injection.
@Suite("Transport through libcurl against the embedded API server")
struct TransportTests {
    @Test func expiredContinueRestartsTheList() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            for i in 0..<5 { _ = try await f.client.create(configMaps, configMap("cm\(i)")) }
            // The first continuation answers 410 Expired, as after etcd compacted its revision.
            f.cluster.failNextRequests(1, code: 410, target: FaultTarget(queryParameter: "continue"))
            let all = try await f.client.listAll(configMaps, namespace: "default", pageSize: 2)
            #expect(all.items.compactMap(\.name) == (0..<5).map { "cm\($0)" })
            let lists = f.cluster.requests().filter { $0.path.hasSuffix("/configmaps") && $0.method == "GET" }
            #expect(lists.map(\.code) == [200, 410, 200, 200, 200], "first page, expired continuation, then three pages again")
            #expect(!lists[2].query.contains("continue="))
        }
    }

    @Test func retriesTransientErrorsHonouringRetryAfter() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(retryBaseDelay: .milliseconds(10)))) { f async throws in
            let client = f.client
            _ = try await client.create(configMaps, configMap("r"))
            f.cluster.failNextRequests(2, code: 503)
            _ = try await client.get(configMaps, namespace: "default", name: "r")  // two 503s, then success

            f.cluster.failNextRequests(1, code: 429, retryAfterSeconds: 1)
            let t0 = ContinuousClock.now
            _ = try await client.get(configMaps, namespace: "default", name: "r")
            #expect(ContinuousClock.now - t0 >= .milliseconds(900))

            // Non-idempotent POST is not retried on a 500…
            f.cluster.failNextRequests(1, code: 500)
            await #expect { try await client.create(configMaps, configMap("s")) } throws: { ($0 as? APIError)?.code == 500 }
            await #expect { try await client.get(configMaps, namespace: "default", name: "s") } throws: { ($0 as? APIError)?.isNotFound == true }
            // …and more failures than maxRetries surface.
            f.cluster.failNextRequests(10, code: 503)
            await #expect { try await client.get(configMaps, namespace: "default", name: "r") } throws: { ($0 as? APIError)?.code == 503 }
        }
    }

    /// A request that outlives `requestTimeout` (the server delays every answer by 8 s) is aborted with
    /// `.timeout`; idempotent requests retry it, within `maxRetries`. Two 300 ms attempts end long before one
    /// delayed answer would: the bound is the server's delay, not a guess at how loaded the machine is.
    @Test func slowAnswerHitsTheRequestTimeout() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(requestTimeout: .milliseconds(300), userAgent: "slow-test",
                                                                     maxRetries: 1, retryBaseDelay: .milliseconds(5)))) { f async throws in
            f.cluster.setFaults(FaultSpec(latency: .seconds(8)))
            let started = ContinuousClock.now
            await #expect { try await f.client.get(configMaps, namespace: "default", name: "x") } throws: {
                guard case .timeout = $0 as? KubeClientError else { return false }
                return true
            }
            #expect(ContinuousClock.now - started < .seconds(8), "aborted, not waited out")
            f.cluster.setFaults(FaultSpec())
            // Logged when the server answers, after its delay.
            try await waitUntil("both attempts reached the server", timeout: .seconds(60)) {
                f.cluster.requests().filter { $0.userAgent == "slow-test" }.count == 2
            }
        }
    }

    @Test func connectionRefusedIsATransportError() async throws {
        let client = try KubeClient(config: KubeConfig(server: "http://127.0.0.1:1"), options: ClientOptions(maxRetries: 1, retryBaseDelay: .milliseconds(1)))
        await #expect { try await client.get(configMaps, namespace: "x", name: "y") } throws: {
            guard case .transport(let code, _) = $0 as? KubeClientError else { return false }
            return code == 7
        }
    }

    @Test func watchFromACompactedVersionEndsWithGone() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            let first = try await f.client.create(configMaps, configMap("old"))
            _ = try await f.client.create(configMaps, configMap("newer"))
            await f.cluster.compactHistory()
            // As kube-apiserver's watch cache answers it: 200, then one ERROR event carrying a 410 Status.
            var events: [WatchEvent] = []
            for try await event in f.client.watch(configMaps, namespace: "default", options: ListOptions(resourceVersion: first.resourceVersion)) {
                events.append(event)
            }
            #expect(events.count == 1)
            guard case .error(let error) = events.first else { Issue.record("expected an ERROR event, got \(events)"); return }
            #expect(error.isGone && error.code == 410)
        }
    }

    @Test func logsStreamLongLinesAndTheLastPartialLine() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            _ = try await f.client.create(.pods, logPod("p"))
            for line in ["line one", "line two", String(repeating: "x", count: 100_000)] {
                await f.cluster.logs.append(namespace: "default", pod: "p", container: "main", line: line)
            }
            await f.cluster.logs.append(namespace: "default", pod: "p", container: "main", line: "last without newline", terminated: false)
            var lines: [String] = []
            for try await line in f.client.logs(namespace: "default", pod: "p") { lines.append(line) }
            #expect(lines.map(\.count) == [8, 8, 100_000, 20])
            #expect(lines.first == "line one" && lines.last == "last without newline")
        }
    }

    @Test func logsSinceTime() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            _ = try await f.client.create(.pods, logPod("p"))
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            for i in 0..<4 {
                await f.cluster.logs.append(namespace: "default", pod: "p", container: "main", line: "step \(i)", at: start + Double(i * 60))
            }
            let since = Timestamp.format(start + 120)
            let lines = try await collect(f.client.logs(namespace: "default", pod: "p", sinceTime: since))
            #expect(lines == ["step 2", "step 3"])
        }
    }

    @Test func followedLogsEndWhenTheConsumerStops() async throws {
        try await withCluster(ClusterFixture.start()) { f async throws in
            _ = try await f.client.create(.pods, logPod("p"))
            let logs = f.cluster.logs
            let ticker = Task {
                try await waitUntil("follower attached") { await logs.followerCount(namespace: "default", pod: "p", container: "main") == 1 }
                for i in 0..<5 { await logs.append(namespace: "default", pod: "p", container: "main", line: "tick \(i)") }
            }
            var ticks = 0
            for try await line in f.client.logs(namespace: "default", pod: "p", follow: true) where line.hasPrefix("tick") {
                ticks += 1
                if ticks == 3 { break }
            }
            try await ticker.value
            #expect(ticks == 3)
            // The client closed the connection: the server drops the follower at once, with no line to write.
            try await waitUntil("server dropped the follower") {
                await logs.followerCount(namespace: "default", pod: "p", container: "main") == 0
            }
        }
    }

    @Test func lineLongerThanTheBoundIsAnError() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(maxLineLength: 1000))) { f async throws in
            _ = try await f.client.create(.pods, logPod("p"))
            await f.cluster.logs.append(namespace: "default", pod: "p", container: "main", line: String(repeating: "y", count: 5000))
            await #expect(throws: KubeClientError.lineTooLong(limit: 1000)) {
                for try await _ in f.client.logs(namespace: "default", pod: "p") {}
            }
        }
    }

    /// A 4 KiB buffer and a 100 KB line. Observed from the curl loop's side (the client's own StreamBuffer,
    /// wrapped to count what it accepts and refuses, on the client's real curl loop against the server): with
    /// nobody reading, the transfer pauses once the buffer holds 4 KiB, holding at most one more chunk than
    /// the bound; read afterwards, every byte arrives once and in order (the refused bytes are delivered again
    /// after the resume). Then through the public API, a slow consumer still gets the line whole.
    @Test func slowConsumerPausesTheTransferWithBoundedBuffer() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(streamBufferBytes: 4096))) { f async throws in
            _ = try await f.client.create(.pods, logPod("p"))
            for line in ["a", String(repeating: "z", count: 100_000), "b"] {
                await f.cluster.logs.append(namespace: "default", pod: "p", container: "main", line: line)
            }

            let loop = try CurlMultiLoop()
            defer { loop.stop() }
            let sink = ObservedStreamBuffer(highWater: 4096)
            let transfer = CurlTransfer(request: TransportRequest(
                method: "GET", url: f.cluster.url + "/api/v1/namespaces/default/pods/p/log",
                headers: [("Accept", "*/*"), ("Authorization", "Bearer \(f.cluster.token)")], body: nil, timeout: nil,
                tls: TLSSettings(), userAgent: "pause-test"), sink: sink)
            loop.submit(transfer)
            #expect(try await sink.inner.head().status == 200)
            try await waitUntil("the transfer paused on a full buffer") { sink.counts.refusals > 0 }
            let atPause = sink.counts
            #expect(atPause.accepted >= 4096, "paused before the buffer was full: \(atPause)")
            #expect(atPause.accepted < 4096 + atPause.largestChunk, "accepted a chunk into a full buffer: \(atPause)")
            var body: [UInt8] = []
            while let taken = try await sink.take() {
                for chunk in taken.chunks { body += chunk }
                if taken.needsResume { loop.resume(transfer) }
            }
            #expect(body == Array(("a\n" + String(repeating: "z", count: 100_000) + "\nb\n").utf8), "\(body.count) bytes")

            var lines: [String] = []
            for try await line in f.client.logs(namespace: "default", pod: "p") {
                try await Task.sleep(for: .milliseconds(5))  // a slow consumer, not a wait
                lines.append(line)
            }
            #expect(lines.map(\.count) == [1, 100_000, 1])
        }
    }

    @Test func sendsBearerTokenAndUserAgent() async throws {
        try await withCluster(ClusterFixture.start(tls: true, options: ClientOptions(userAgent: "gantry-test/1"))) { f async throws in
            _ = try await f.client.list(configMaps, namespace: "default")
            let mine = f.cluster.requests().filter { $0.userAgent == "gantry-test/1" }
            #expect(mine.count == 1)
            #expect(mine.first?.user == "gantry-dev-admin")  // authenticated by the kubeconfig's token
        }
    }
}

/// The client's stream buffer, wrapped to count from the curl loop's side what it accepts and refuses (a
/// refusal pauses the transfer).
final class ObservedStreamBuffer: TransferSink {
    struct Counts: Sendable, CustomStringConvertible {
        var accepted = 0, taken = 0, refusals = 0, largestChunk = 0
        var description: String { "accepted \(accepted) B, taken \(taken) B, \(refusals) refusals, largest chunk \(largestChunk) B" }
    }
    let inner: StreamBuffer
    private let state = Mutex(Counts())
    var counts: Counts { state.withLock { $0 } }
    init(highWater: Int) { inner = StreamBuffer(highWater: highWater) }

    func receiveHead(status: Int, headers: [(name: String, value: String)]) { inner.receiveHead(status: status, headers: headers) }
    func receiveBody(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let accepted = inner.receiveBody(bytes)
        state.withLock { c in
            if accepted {
                c.accepted += bytes.count
                c.largestChunk = max(c.largestChunk, bytes.count)
            } else {
                c.refusals += 1
            }
        }
        return accepted
    }
    func complete(_ error: (any Error)?) { inner.complete(error) }
    var isFinished: Bool { inner.isFinished }
    func take() async throws -> (chunks: [[UInt8]], needsResume: Bool)? {
        let taken = try await inner.take()
        state.withLock { $0.taken += taken?.chunks.reduce(0) { $0 + $1.count } ?? 0 }
        return taken
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
    @Test(arguments: [false, true]) func sequentialRequestsReuseOneConnection(tls: Bool) async throws {
        try await withCluster(ClusterFixture.start(tls: tls, options: ClientOptions(userAgent: "reuse-test"))) { f async throws in
            for _ in 0..<5 { _ = try await f.client.list(configMaps, namespace: "default") }
            let mine = f.cluster.requests().filter { $0.userAgent == "reuse-test" }
            #expect(mine.count == 5)
            #expect(Set(mine.compactMap(\.peerPort)).count == 1, "five requests over one kept-alive connection")
        }
    }

    /// Where the server offers HTTP/2 (ALPN h2 over TLS, as kube-apiserver does), libcurl multiplexes every
    /// request and watch of the client over one connection, and cancelling a watch resets its stream. Without
    /// HTTP/2 each open watch holds a connection of its own.
    @Test(arguments: [true, false]) func watchesAndRequestsShareOneHTTP2Connection(http2: Bool) async throws {
        try await withCluster(ClusterFixture.start(tls: true, http2: http2, options: ClientOptions(userAgent: "mux-test"))) { f async throws in
            let client = f.client
            let watches = (0..<5).map { _ in
                Task { for try await _ in client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 120)) {} }
            }
            defer { watches.forEach { $0.cancel() } }
            try await waitUntil("five watches open") { await f.cluster.store.openWatchCount == 5 }
            for _ in 0..<3 { _ = try await client.list(configMaps, namespace: "default") }
            let mine = f.cluster.requests().filter { $0.userAgent == "mux-test" }
            #expect(mine.count == 8)
            let connections = Set(mine.compactMap(\.peerPort)).count
            if http2 {
                #expect(mine.allSatisfy { $0.httpVersion == "HTTP/2" })
                #expect(connections == 1, "five watches and three lists multiplexed over one connection")
                // Cancelling resets the stream (RST_STREAM), which ends the watch on the server. libcurl 7.88–8.14
                // queues that frame until the connection's next write (curl#17611, fixed by curl#17638), so the
                // reset travels with the next request on the shared connection; the server then closes the watch
                // without needing an event on it.
                watches[0].cancel()
                _ = await watches[0].result
                _ = try await client.list(configMaps, namespace: "default")
                try await waitUntil("the cancelled watch closed on the server") { await f.cluster.store.openWatchCount == 4 }
            } else {
                #expect(mine.allSatisfy { $0.httpVersion == "HTTP/1.1" })
                #expect(connections >= 5, "one connection per open watch")
            }
        }
    }

    @Test func tokenBucketPacesRequests() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(qps: 10, burst: 1))) { f async throws in
            let start = ContinuousClock.now
            for _ in 0..<4 { _ = try await f.client.list(configMaps, namespace: "default") }
            // burst 1, then one token every 100 ms: at least ~300 ms for 4 requests.
            #expect(ContinuousClock.now - start >= .milliseconds(280))
        }
    }

    /// A second connection pool for streams keeps the first client's bucket: one `--qps` bounds the process.
    @Test func aClientWithItsOwnConnectionsSharesTheRateLimit() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(qps: 5, burst: 1))) { f async throws in
            let streams = try f.client.withOwnConnections()
            #expect(streams.rateLimiter != nil && streams.rateLimiter === f.client.rateLimiter)
            #expect(streams.loop !== f.client.loop, "its own connections")
            _ = try await streams.list(configMaps, namespace: "default")
        }
    }

    /// client-go does not rate-limit watches (`Request.Watch`): with the one token spent and the next ~17 minutes
    /// away, a watch still reaches the server.
    @Test func watchesTakeNoTokenOfTheRateLimit() async throws {
        try await withCluster(ClusterFixture.start(options: ClientOptions(qps: 0.001, burst: 1))) { f async throws in
            _ = try await f.client.list(configMaps, namespace: "default")
            let watching = Task { for try await _ in f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 60)) {} }
            defer { watching.cancel() }
            let deadline = ContinuousClock.now + .seconds(30)
            while !f.cluster.requests().contains(where: { $0.query.contains("watch=true") }), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(f.cluster.requests().contains { $0.query.contains("watch=true") }, "the watch waited for a token")
        }
    }
}
