import EmbeddedCluster
import Foundation
import Glibc

/// A plain TCP connection to a loopback port, for tests of connection handling (idle connections, floods,
/// descriptor exhaustion) that a real client would hide.
public final class LoopbackSocket: @unchecked Sendable {
    // @unchecked: used by one test task at a time; the descriptor is closed once, in `close()` or deinit.
    public private(set) var fd: Int32

    public init(port: Int) throws {
        fd = LoopbackTCP.connect(port: port)
        guard fd >= 0 else { throw TestFailure("connect to 127.0.0.1:\(port): \(String(cString: strerror(errno)))") }
    }

    deinit { close() }

    /// The connection's local (client-side) port.
    public var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        return ok ? Int(UInt16(bigEndian: address.sin_port)) : 0
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    public func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }

    public func send(bytes: [UInt8]) throws {
        guard Glibc.send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw TestFailure("send: \(String(cString: strerror(errno)))")
        }
    }

    /// Exactly `count` bytes, or nil when the server closes the connection first or `limit` passes (a guard).
    public func read(exactly count: Int, limit: Duration) -> [UInt8]? {
        var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while data.count < count {
            let n = recv(fd, &buffer, min(buffer.count, count - data.count), 0)
            guard n > 0 else { return nil }
            data += buffer[..<n]
        }
        return data
    }

    /// Everything read until the server closes the connection, or `limit` passes (a guard: the test then fails
    /// on `closedByServer`, not on time).
    public func readUntilClosed(limit: Duration) throws -> (text: String, closedByServer: Bool) {
        var timeout = timeval(tv_sec: Int(limit.components.seconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n > 0 { data += buffer[..<n]; continue }
            let closed = n == 0 || errno == ECONNRESET
            return (String(decoding: data, as: UTF8.self), closed)
        }
    }
}
