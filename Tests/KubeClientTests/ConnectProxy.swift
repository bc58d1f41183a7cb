import Foundation
import GantryTestSupport
import Synchronization

/// A minimal HTTP CONNECT proxy on 127.0.0.1 (blocking sockets, a thread per tunnel), as a corporate proxy
/// in front of an API server: it records each tunnel's target and relays bytes both ways.
final class ConnectProxy: Sendable {
    let port: Int
    private let listenFD: Int32
    private let targets = Mutex<[String]>([])

    /// Targets of the CONNECT requests seen, in order (`host:port`).
    var tunnels: [String] { targets.withLock { $0 } }
    var url: String { "http://127.0.0.1:\(port)" }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw TestFailure("proxy: cannot listen") }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        listenFD = fd
        port = Int(UInt16(bigEndian: actual.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func stop() {
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 { return }
            Thread.detachNewThread { [self] in tunnel(client) }
        }
    }

    private func tunnel(_ client: Int32) {
        defer { close(client) }
        var head: [UInt8] = []
        var byte: UInt8 = 0
        while !head.reversed().starts(with: Array("\n\r\n\r".utf8)) {
            guard read(client, &byte, 1) == 1 else { return }
            head.append(byte)
        }
        let line = String(decoding: head, as: UTF8.self).split(separator: "\r\n").first ?? ""
        let parts = line.split(separator: " ")
        guard parts.count == 3, parts[0] == "CONNECT", let colon = parts[1].lastIndex(of: ":"),
              let targetPort = UInt16(parts[1][parts[1].index(after: colon)...]) else {
            _ = send(client, "HTTP/1.1 405 Method Not Allowed\r\n\r\n", 36, Int32(MSG_NOSIGNAL))
            return
        }
        targets.withLock { $0.append(String(parts[1])) }
        let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(upstream) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(targetPort.bigEndian)
        addr.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)  // this proxy only reaches loopback
        let connected = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return }
        let ok = Array("HTTP/1.1 200 Connection established\r\n\r\n".utf8)
        _ = send(client, ok, ok.count, Int32(MSG_NOSIGNAL))
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while poll(&fds, 2, -1) > 0 {
            for (from, to) in [(0, 1), (1, 0)] where fds[from].revents != 0 {
                let n = read(fds[from].fd, &buffer, buffer.count)
                guard n > 0, send(fds[to].fd, buffer, n, Int32(MSG_NOSIGNAL)) == n else { return }
            }
        }
    }
}
