import EmbeddedCluster
import GantryTestSupport
import KubeClient
import KubeCore
import Testing

/// Requests through the API server's service proxy, back to back over the client's one HTTP/2 connection (libcurl,
/// TLS), as `gantry bench --only blue-green` sends them, while the Service's selector moves between two ready pods
/// (a blue/green swap): every answer is the backend's 200, all on one connection.
///
/// libcurl 7.88 resets (RST_STREAM) every stream answered by HEADERS alone, as these empty-bodied health answers are;
/// swift-nio-http2's default answered the 201st reset within 30 s with GOAWAY ENHANCE_YOUR_CALM, so the request then
/// in flight failed with `curl 16: Error in the HTTP2 framing layer` and the client reconnected, every ~200 requests
/// (the blue-green benchmark's failed requests). kube-apiserver (Go) counts no resets.
@Suite("Service proxy under load")
struct ServiceProxyLoadTests {
    static let requests = 500

    @Test func proxiedRequestsAcrossSelectorSwapsAllSucceedOnOneConnection() async throws {
        let fixture = try await ClusterFixture.start(tls: true, nodes: "1x{cpu: 8}",
                                                     options: ClientOptions(userAgent: "proxy-load", maxRetries: 0))
        try await withCluster(fixture) { f async throws in
            let client = f.client
            for color in ["blue", "green"] {
                var pod: JSONValue = ["metadata": ["labels": ["app": "model", "color": .string(color)]],
                                      "spec": ["containers": [["name": "server", "image": "acme/llm-serving:1",
                                                               "ports": [["name": "http", "containerPort": 8080]]]]]]
                pod.name = "server-\(color)"
                _ = try await client.create(.pods, pod, namespace: "default")
            }
            var service: JSONValue = ["spec": ["selector": ["app": "model", "color": "blue"],
                                               "ports": [["name": "http", "port": 80, "targetPort": "http"]]]]
            service.name = "model"
            _ = try await client.create(.services, service, namespace: "default")
            // Both colours Ready (so behind the alias whenever it selects them) before the load starts: any failure
            // below is the transport's.
            for color in ["blue", "green"] {
                #expect(try await eventually(timeout: .seconds(30)) {
                    let pod = try await client.get(.pods, namespace: "default", name: "server-\(color)")
                    return pod[path: "status", "conditions"]?.arrayValue?.contains { $0["type"] == "Ready" && $0["status"] == "True" } == true
                })
            }

            var failures: [String] = []
            var color = "blue"
            for i in 1...Self.requests {
                if i % 50 == 0 {
                    color = color == "blue" ? "green" : "blue"
                    _ = try await client.patch(.services, namespace: "default", name: "model",
                                               patch: ["spec": ["selector": ["color": .string(color)]]])
                }
                do {
                    let answer = try await client.proxy(.services, namespace: "default", name: "model", port: "http", path: "/v2/health/ready")
                    if answer.status != 200 { failures.append("request \(i): \(answer.status) \(String(decoding: answer.body, as: UTF8.self))") }
                } catch {
                    failures.append("request \(i): \(error)")
                }
            }
            #expect(failures.isEmpty, "\(failures.count) of \(Self.requests) failed: \(failures.prefix(10))")
            let proxied = f.cluster.requests().filter { $0.userAgent == "proxy-load" && $0.path.contains("/services/model:http/proxy/") }
            #expect(proxied.count == Self.requests)
            #expect(Set(proxied.compactMap(\.peerPort)).count == 1, "the client reconnected: \(Set(proxied.compactMap(\.peerPort)).count) connections")
            #expect(proxied.allSatisfy { $0.httpVersion == "HTTP/2" })
        }
    }
}
