@testable import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// The TLS front end's bounds (handshake timeout, relay threads) and `--data-dir` write failures, in process.
@Suite(.serialized)
struct ServerLimitsTests {
    static let configMaps = "/api/v1/namespaces/default/configmaps"

    /// A client that connects and never starts its handshake is dropped after the handshake timeout.
    @Test func silentClientsAreDroppedAfterTheHandshakeTimeout() async throws {
        var options = DevClusterOptions(tls: true)
        options.handshakeTimeout = 1
        try await withCluster(TestCluster.bare(options)) { t async throws in
            let port = try #require(URL(string: t.cluster.url)?.port)
            let silent = try LoopbackSocket(port: port)
            let answer = try silent.readUntilClosed(limit: .seconds(30))
            #expect(answer.closedByServer && answer.text.isEmpty, "\(answer)")
            #expect(try await t.json("/version")["major"] != nil)
        }
    }

    /// With room for two relayed connections, four HTTP/1.1 watches are served two at a time: the others wait
    /// for a relay thread (they are not refused), and every one ends 200.
    @Test func relayedConnectionsAreBounded() async throws {
        var options = DevClusterOptions(tls: true, http2: false)
        options.maxConnections = 2
        try await withCluster(TestCluster.bare(options)) { t async throws in
            let watches = (0..<4).map { _ in Task { await t.curl("GET", Self.configMaps + "?watch=true&timeoutSeconds=2") } }
            let two = try await eventually(timeout: .seconds(20)) { await t.cluster.store.openWatchCount == 2 }
            #expect(two)
            #expect(t.cluster.tlsFrontEnd?.relayThreadCount == 2)
            #expect(await t.cluster.store.openWatchCount <= 2)
            for watch in watches { #expect(await watch.value.0 == 200) }
            #expect(try await t.json("/version")["major"] != nil)
        }
    }

    /// A change the data directory cannot take (its journal on a full disk: /dev/full, which refuses writes even
    /// to root) is answered 500 naming the file, and made nowhere: not readable, not there after a restart. Once
    /// the disk takes writes again, changes are stored and survive.
    @Test func unstorableChangesAreRefused() async throws {
        let data = NSTemporaryDirectory() + "gantry-full-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: data) }
        var options = DevClusterOptions()
        options.dataDir = data
        let first = try await TestCluster.bare(options)
        var (code, body) = await first.curl("POST", Self.configMaps, body: #"{"metadata":{"name":"before"}}"#)
        #expect(code == 201, "\(body)")
        let journal = data + "/cluster.journal"
        try FileManager.default.removeItem(atPath: journal)
        try FileManager.default.createSymbolicLink(atPath: journal, withDestinationPath: "/dev/full")
        (code, body) = await first.curl("POST", Self.configMaps, body: #"{"metadata":{"name":"lost"}}"#)
        #expect(code == 500 && body.contains("cluster.journal") && body.contains("No space left on device"), "\(code) \(body)")
        (code, _) = await first.curl("GET", Self.configMaps + "/lost")
        #expect(code == 404)
        (code, body) = await first.curl("DELETE", Self.configMaps + "/before")
        #expect(code == 500, "\(body)")
        try FileManager.default.removeItem(atPath: journal)
        (code, body) = await first.curl("POST", Self.configMaps, body: #"{"metadata":{"name":"after"}}"#)
        #expect(code == 201, "\(body)")
        await first.stop()
        let second = try await TestCluster.bare(options)
        try await withCluster(second) { t async throws in
            let names = try await t.json(Self.configMaps)["items"]?.arrayValue?.compactMap(\.name) ?? []
            #expect(names.sorted() == ["after", "before"], "\(names)")
        }
    }

    /// Go's `Server.Serve`: 5 ms after the first failed accept, doubling to at most 1 s, reset by a success.
    @Test func acceptBackoffDoublesToOneSecond() {
        var backoff = AcceptBackoff()
        let now = ContinuousClock.now
        var delays: [Duration] = []
        var firsts: [Bool] = []
        for _ in 0..<10 {
            firsts.append(backoff.failed(at: now))
            delays.append(backoff.delay)
        }
        #expect(delays.map { $0 / .milliseconds(1) } == [5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000])
        #expect(firsts == [true] + Array(repeating: false, count: 9))
        #expect(backoff.resumesAt == now + .seconds(1))
        backoff.succeeded()
        #expect(backoff.resumesAt == nil && backoff.failed(at: now) && backoff.delay == .milliseconds(5))
    }

    /// The journal replays over the snapshot; a last record cut short (never acknowledged) is dropped, a damaged
    /// one before it stops the load naming the file and the byte offset.
    @Test func journalReplay() throws {
        let dir = NSTemporaryDirectory() + "gantry-journal-" + UUID().uuidString.prefix(8)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Persistence(directory: dir)
        try p.write(revision: 5, objects: ["configmaps": ["default/a": ["metadata": ["name": "a", "namespace": "default"]]]], nextServiceIP: 3)
        try p.append(revision: 5, resource: "configmaps", key: "default/stale", object: ["metadata": ["name": "stale"]], nextServiceIP: 3)
        try p.append(revision: 6, resource: "configmaps", key: "default/b", object: ["metadata": ["name": "b", "namespace": "default"]], nextServiceIP: 3)
        try p.append(revision: 7, resource: "configmaps", key: "default/a", object: nil, nextServiceIP: 4)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: p.journal))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"revision":8,"resou"#.utf8))
        try handle.close()
        let loaded = try #require(try p.read())
        #expect(loaded.revision == 7 && loaded.nextServiceIP == 4)
        #expect(loaded.objects["configmaps"]?.keys.sorted() == ["default/b"])
        try Data("{\"revision\":9}\nnot json\n".utf8).write(to: URL(fileURLWithPath: p.journal))
        do {
            _ = try p.read()
            Issue.record("a damaged journal loaded")
        } catch {
            #expect("\(error)".contains(p.journal) && "\(error)".contains("damaged record at byte 15"), "\(error)")
        }
    }
}
