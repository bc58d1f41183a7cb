@testable import EmbeddedCluster
import Foundation
import GantryTestSupport
import KubeCore
import Testing

/// Two connection limits of kube-apiserver's secure serving, with small values: the HTTP/2 streams a client may
/// have open on one connection (`--http2-max-streams-per-connection`, 100 when unset) and the time a request head
/// may take to arrive (http.Server `ReadHeaderTimeout`, 32 s).
@Suite(.serialized)
struct ConnectionLimitsTests {
    /// The limit is advertised in SETTINGS, curl keeps to it (three parallel watches under a limit of two are all
    /// answered), and a client that opens a stream beyond it is refused.
    @Test func http2StreamsPerConnectionAreAdvertisedAndEnforced() async throws {
        var options = DevClusterOptions(tls: true)
        options.http2MaxStreamsPerConnection = 2
        try await withCluster(TestCluster.bare(options)) { t async throws in
            let watch = "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1"
            var args = ["-sS", "--http2", "--parallel", "--parallel-max", "3", "--cacert", t.caFile, "-H", "Authorization: Bearer \(t.cluster.token)"]
            for _ in 0..<3 { args += ["-o", "/dev/null", "-w", "%{http_version} %{http_code}\n", t.cluster.url + watch] }
            let parallel = await runProcess("/usr/bin/curl", args)
            #expect(parallel.stdout.split(separator: "\n") == ["2 200", "2 200", "2 200"], "\(parallel.stdout) \(parallel.stderr)")

            // A raw client (a compliant library would never open the third stream), speaking to the HTTP/2
            // backend behind the TLS front end with prior knowledge.
            let h2 = try RawHTTP2(port: try #require(await t.cluster.state.http2?.port))
            let settings = try #require(h2.readFrame(), "no SETTINGS from the server")
            #expect(settings.type == RawHTTP2.settings && settings.settingsValue(id: 0x3) == 2, "\(settings)")
            try h2.send(type: RawHTTP2.settings, flags: 0x1, stream: 0, payload: [])  // ACK: the limit now applies
            for stream in [1, 3, 5] as [UInt32] {
                try h2.send(type: RawHTTP2.headers, flags: 0x5, stream: stream, payload: RawHTTP2.requestBlock(
                    path: "/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=30", token: t.cluster.token))
            }
            // kube-apiserver resets only the third stream (RST_STREAM PROTOCOL_ERROR); swift-nio-http2 ends the
            // connection (GOAWAY PROTOCOL_ERROR): either way the stream is refused, never served.
            var refusal: RawHTTP2.Frame? = nil
            var answeredStreams: Set<UInt32> = []
            while refusal == nil, let frame = h2.readFrame() {
                if frame.type == RawHTTP2.headers { answeredStreams.insert(frame.stream) }
                if frame.type == RawHTTP2.goAway || (frame.type == RawHTTP2.rstStream && frame.stream == 5) { refusal = frame }
            }
            let refused = try #require(refusal, "the third stream was not refused")
            #expect(refused.errorCode == 0x1, "\(refused)")  // PROTOCOL_ERROR
            #expect(!answeredStreams.contains(5), "the stream beyond the limit was answered")
        }
    }

    /// Half a request head, or nothing at all on a new connection, is dropped after the read-header timeout; a
    /// request in flight longer than it is not, and after an answer the clock starts with the next request's first
    /// byte.
    @Test func aRequestHeadMustArriveWithinTheReadHeaderTimeout() async throws {
        var options = DevClusterOptions()
        options.readHeaderTimeout = 1
        try await withCluster(TestCluster.bare(options)) { t async throws in
            let port = try #require(URL(string: t.cluster.url)?.port)
            let half = try LoopbackSocket(port: port)
            try half.send("GET /version HTTP/1.1\r\nHost: localhost\r\n")
            let cut = try half.readUntilClosed(limit: .seconds(30))
            #expect(cut.closedByServer && cut.text.isEmpty, "\(cut)")

            let silent = try LoopbackSocket(port: port)
            let dropped = try silent.readUntilClosed(limit: .seconds(30))
            #expect(dropped.closedByServer && dropped.text.isEmpty, "\(dropped)")

            let r = await KeepAliveTests.curl(t, ["/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2", "/version"])
            #expect(r.split(separator: "\n") == ["200 1", "200 0"], "\(r)")

            let later = try LoopbackSocket(port: port)
            try later.send("GET /version HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(later.read(exactly: 12, limit: .seconds(30)).map { String(decoding: $0, as: UTF8.self) } == "HTTP/1.1 200")
            try later.send("GET /version HTTP/1.1\r\n")
            let rest = try later.readUntilClosed(limit: .seconds(30))
            #expect(rest.closedByServer && !rest.text.contains("HTTP/1.1 "), "the half request was answered: \(rest.text)")
        }
    }
}

/// Just enough HTTP/2 to break its rules on purpose: frames, and request headers as HPACK literals.
struct RawHTTP2 {
    static let headers: UInt8 = 0x1, rstStream: UInt8 = 0x3, settings: UInt8 = 0x4, goAway: UInt8 = 0x7

    struct Frame: CustomStringConvertible {
        var type: UInt8
        var flags: UInt8
        var stream: UInt32
        var payload: [UInt8]

        var description: String { "frame type \(type) flags \(flags) stream \(stream) payload \(payload.count) B" }

        /// A SETTINGS parameter's value.
        func settingsValue(id: UInt16) -> UInt32? {
            stride(from: 0, to: payload.count - 5, by: 6).lazy
                .first { UInt16(payload[$0]) << 8 | UInt16(payload[$0 + 1]) == id }
                .map { Self.uint32(payload, at: $0 + 2) }
        }

        /// The error code of a RST_STREAM or GOAWAY.
        var errorCode: UInt32? {
            switch type {
            case RawHTTP2.rstStream where payload.count >= 4: Self.uint32(payload, at: 0)
            case RawHTTP2.goAway where payload.count >= 8: Self.uint32(payload, at: 4)
            default: nil
            }
        }

        static func uint32(_ bytes: [UInt8], at i: Int) -> UInt32 {
            bytes[i..<i + 4].reduce(0) { $0 << 8 | UInt32($1) }
        }
    }

    let socket: LoopbackSocket

    /// Connects and sends the client preface with empty SETTINGS.
    init(port: Int) throws {
        socket = try LoopbackSocket(port: port)
        try socket.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        try send(type: Self.settings, flags: 0, stream: 0, payload: [])
    }

    func send(type: UInt8, flags: UInt8, stream: UInt32, payload: [UInt8]) throws {
        let length = UInt32(payload.count)
        let head: [UInt8] = [UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff), type, flags,
                             UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)]
        try socket.send(bytes: head + payload)
    }

    /// The next frame, or nil once the server closed the connection (or 30 s passed: a guard).
    func readFrame() -> Frame? {
        guard let head = socket.read(exactly: 9, limit: .seconds(30)) else { return nil }
        let length = Int(head[0]) << 16 | Int(head[1]) << 8 | Int(head[2])
        guard let payload = length == 0 ? [] : socket.read(exactly: length, limit: .seconds(30)) else { return nil }
        return Frame(type: head[3], flags: head[4], stream: Frame.uint32(head, at: 5) & 0x7fff_ffff, payload: payload)
    }

    /// A GET's header block: every field a literal without indexing (RFC 7541 §6.2.2), no Huffman coding.
    static func requestBlock(path: String, token: String) -> [UInt8] {
        let fields: [(String, String)] = [(":method", "GET"), (":scheme", "https"), (":path", path), (":authority", "localhost"),
                                          ("authorization", "Bearer \(token)")]
        var block: [UInt8] = []
        for (name, value) in fields {
            block.append(0x00)
            block += integer(name.utf8.count)
            block += Array(name.utf8)
            block += integer(value.utf8.count)
            block += Array(value.utf8)
        }
        return block
    }

    /// An HPACK integer with a 7-bit prefix (RFC 7541 §5.1).
    static func integer(_ n: Int) -> [UInt8] {
        guard n >= 127 else { return [UInt8(n)] }
        var bytes: [UInt8] = [127], rest = n - 127
        while rest >= 128 { bytes.append(UInt8(rest % 128 + 128)); rest /= 128 }
        return bytes + [UInt8(rest)]
    }
}
