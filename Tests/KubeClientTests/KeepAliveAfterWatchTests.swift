import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// The operator's own client over HTTP/1.1 (plain, and TLS without h2): after watches that end at their
/// `timeoutSeconds`, its next requests go over the connection it already had (API-SEMANTICS rule 31).
@Suite("Keep-alive after a watch ends")
struct KeepAliveAfterWatchTests {
    @Test(arguments: [false, true]) func requestsAfterAWatchReuseItsConnection(tls: Bool) async throws {
        let fixture = try await ClusterFixture.start(tls: tls, http2: false, options: ClientOptions(userAgent: "keepalive-test"))
        try await withCluster(fixture) { f async throws in
            for round in 0..<3 {
                for try await _ in f.client.watch(configMaps, namespace: "default", options: ListOptions(timeoutSeconds: 1)) {}
                _ = try await f.client.create(configMaps, ["metadata": ["name": .string("after-watch-\(round)")]], namespace: "default")
            }
            let mine = f.cluster.requests().filter { $0.userAgent == "keepalive-test" }
            #expect(mine.count == 6 && mine.allSatisfy { $0.code < 300 }, "\(mine.map(\.code))")
            #expect(Set(mine.compactMap(\.peerPort)).count == 1, "\(mine.map { "\($0.method) \($0.peerPort ?? 0)" })")
        }
    }
}
