import COpenSSL
import Foundation
import Glibc

/// Relays one TLS connection whose handshake completed to the HTTP/1.1 or HTTP/2 backend (by ALPN), on the
/// calling thread, until either side closes. A verified client certificate is registered with the
/// `Authenticator` for the backend connection's endpoints while the relay lives.
struct TLSRelay {
    let frontEnd: TLSFrontEnd
    let connection: Handshaken

    func run() {
        let ssl = connection.ssl, client = connection.fd
        let h2 = copenssl_negotiated_h2(ssl) == 1
        let (http1Port, http2Port) = frontEnd.backendPorts
        guard !h2 || http2Port != nil else { return }  // h2 is only offered when there is an HTTP/2 backend
        let backendPort = h2 ? http2Port ?? 0 : http1Port
        let backend = LoopbackTCP.connect(port: backendPort)
        guard backend >= 0 else { return }
        TLSFrontEnd.noDelay(backend)
        guard frontEnd.register(backend) else { close(backend); return }
        let certificateUser = TLSMaterial.verifiedClientName(ssl)
        let relayPort = certificateUser == nil ? nil : Self.localPort(backend)
        if let certificateUser, let relayPort {
            frontEnd.authenticator.registerCertificatePeer(port: relayPort, backendPort: backendPort, user: certificateUser)
        }
        defer {
            if let relayPort { frontEnd.authenticator.unregisterCertificatePeer(port: relayPort, backendPort: backendPort) }
            frontEnd.unregister(backend)
            close(backend)
        }
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: backend, events: Int16(POLLIN), revents: 0)]
        while true {
            // Bytes OpenSSL already decrypted do not show up in poll.
            let pending = SSL_pending(ssl) > 0
            if !pending {
                fds[0].revents = 0
                fds[1].revents = 0
                guard poll(&fds, 2, -1) > 0 else { if errno == EINTR { continue }; return }
            }
            if pending || fds[0].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
                guard n > 0, Self.writeAll(backend, buffer, Int(n)) else { return }
            }
            if !pending && fds[1].revents != 0 {
                let n = buffer.withUnsafeMutableBytes { read(backend, $0.baseAddress, $0.count) }
                guard n > 0 else { SSL_shutdown(ssl); return }
                var offset = 0
                while offset < n {
                    let w = buffer.withUnsafeBytes { SSL_write(ssl, $0.baseAddress.map { $0 + offset }, Int32(n - offset)) }
                    guard w > 0 else { return }
                    offset += Int(w)
                }
            }
        }
    }

    private static func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let w = buffer.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, count - offset, Int32(MSG_NOSIGNAL)) }
            if w <= 0 { if errno == EINTR { continue }; return false }
            offset += w
        }
        return true
    }

    private static func localPort(_ fd: Int32) -> Int? {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return ok == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }
}

/// A blocking TCP connection to 127.0.0.1 (the relay's backends; tests of connection handling dial the server
/// the same way).
public enum LoopbackTCP {
    /// The connected descriptor, or -1 with `errno` set.
    public static func connect(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else {
            let saved = errno
            close(fd)
            errno = saved
            return -1
        }
        return fd
    }
}
