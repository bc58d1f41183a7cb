import COpenSSL
import Foundation

/// HTTPS for the dev cluster (opt-in, `DevClusterOptions.tls`): kubectl only sends credentials to TLS servers
/// (clientcmd reads a kubeconfig's auth info for TLS transports only), so token auth needs it.
///
/// A throwaway CA and a server certificate for 127.0.0.1/localhost are generated with OpenSSL at start; a small
/// TLS front end (blocking sockets, one thread per connection, ALPN `h2` or HTTP/1.1) terminates TLS and relays
/// bytes to the HTTP server on an internal loopback port. kubectl trusts the CA through the kubeconfig's
/// `certificate-authority-data`.
struct TLSMaterial: Sendable {
    let caPEM: String
    /// A client certificate for the admin user (CN `gantry-dev-admin`, O `system:masters`), signed by the CA.
    let clientCertificatePEM: String
    let clientKeyPEM: String
    /// SSL_CTX with the server certificate and key, freed with the last front end that uses it.
    let context: SSLContext

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Owns one SSL_CTX.
    final class SSLContext: @unchecked Sendable {
        // @unchecked: configured once in `generate`, then only read (SSL_new), which OpenSSL allows across threads.
        let pointer: OpaquePointer
        init(_ pointer: OpaquePointer) { self.pointer = pointer }
        deinit { SSL_CTX_free(pointer) }
    }

    /// Frees OpenSSL objects of one `generate` run on every path out of it.
    private final class Owned {
        var keys: [OpaquePointer] = []
        var certificates: [OpaquePointer] = []
        deinit {
            keys.forEach { EVP_PKEY_free($0) }
            certificates.forEach { X509_free($0) }
        }
        func key(_ k: OpaquePointer?) throws -> OpaquePointer {
            guard let k else { throw Failure(description: "EC key generation failed") }
            keys.append(k)
            return k
        }
        func certificate(_ c: OpaquePointer?) throws -> OpaquePointer {
            guard let c else { throw Failure(description: "certificate generation failed") }
            certificates.append(c)
            return c
        }
    }

    /// `offerHTTP2`: accept `h2` by ALPN (the front end then needs an HTTP/2 backend).
    static func generate(offerHTTP2: Bool) throws -> TLSMaterial {
        let owned = Owned()
        let caKey = try owned.key(newKey()), serverKey = try owned.key(newKey()), clientKey = try owned.key(newKey())
        let ca = try owned.certificate(certificate(subject: [("CN", "gantry-dev-ca")], key: caKey, issuer: nil, issuerKey: caKey,
                                                   extensions: [(NID_basic_constraints, "critical,CA:TRUE"),
                                                                (NID_key_usage, "critical,keyCertSign,cRLSign,digitalSignature")]))
        let server = try owned.certificate(certificate(subject: [("CN", "gantry-dev")], key: serverKey, issuer: ca, issuerKey: caKey,
                                                       extensions: [(NID_basic_constraints, "critical,CA:FALSE"),
                                                                    (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
                                                                    (NID_ext_key_usage, "serverAuth"),
                                                                    (NID_subject_alt_name, "IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost")]))
        let client = try owned.certificate(certificate(subject: [("O", "system:masters"), ("CN", Authenticator.adminUser)], key: clientKey,
                                                       issuer: ca, issuerKey: caKey,
                                                       extensions: [(NID_basic_constraints, "critical,CA:FALSE"),
                                                                    (NID_key_usage, "critical,digitalSignature,keyEncipherment"),
                                                                    (NID_ext_key_usage, "clientAuth")]))
        guard let caPEM = pem(ca), let clientPEM = pem(client), let clientKeyPEM = pem(privateKey: clientKey) else {
            throw Failure(description: "PEM encoding failed")
        }
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw Failure(description: "SSL_CTX_new failed") }
        let context = SSLContext(ctx)  // from here on freed on every path
        guard SSL_CTX_use_certificate(ctx, server) == 1, SSL_CTX_use_PrivateKey(ctx, serverKey) == 1 else {
            throw Failure(description: "loading the server certificate failed")
        }
        // Client certificates are asked for and verified against the CA, but never fail the handshake (kube-
        // apiserver's RequestClientCert): a client without one, or with one the CA did not sign, goes on to
        // token authentication, as the apiserver's union authenticator does, and is refused (401) without one.
        guard X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), ca) == 1,
              SSL_CTX_add_client_CA(ctx, ca) == 1 else { throw Failure(description: "loading the client CA failed") }
        copenssl_ctx_request_client_certificate(ctx)
        if offerHTTP2 { copenssl_ctx_offer_h2(ctx) }
        return TLSMaterial(caPEM: caPEM, clientCertificatePEM: clientPEM, clientKeyPEM: clientKeyPEM, context: context)
    }

    /// The verified client certificate's common name, nil without one (or if it did not verify).
    static func verifiedClientName(_ ssl: OpaquePointer) -> String? {
        guard let cert = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(cert) }
        guard SSL_get_verify_result(ssl) == X509_V_OK else { return nil }
        var buffer = [CChar](repeating: 0, count: 256)
        let n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, &buffer, Int32(buffer.count))
        guard n > 0 else { return nil }
        return String(decoding: buffer.prefix(Int(n)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func newKey() -> OpaquePointer? {
        guard let pctx = EVP_PKEY_CTX_new_id(NID_X9_62_id_ecPublicKey, nil) else { return nil }
        defer { EVP_PKEY_CTX_free(pctx) }
        guard EVP_PKEY_keygen_init(pctx) == 1, EVP_PKEY_CTX_set_ec_paramgen_curve_nid(pctx, NID_X9_62_prime256v1) == 1 else { return nil }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen(pctx, &key) == 1 else { return nil }
        return key
    }

    static func certificate(subject: [(String, String)], key: OpaquePointer, issuer: OpaquePointer?, issuerKey: OpaquePointer,
                            extensions: [(Int32, String)]) -> OpaquePointer? {
        guard let x = X509_new() else { return nil }
        X509_set_version(x, 2)
        ASN1_INTEGER_set(X509_get_serialNumber(x), Int.random(in: 1..<Int(Int32.max)))
        X509_gmtime_adj(X509_getm_notBefore(x), -3600)
        X509_gmtime_adj(X509_getm_notAfter(x), 10 * 365 * 86400)
        X509_set_pubkey(x, key)
        let name = X509_get_subject_name(x)
        let mbstringASC: Int32 = 0x1000 | 1  // MBSTRING_ASC
        for (field, value) in subject { X509_NAME_add_entry_by_txt(name, field, mbstringASC, value, -1, -1, 0) }
        X509_set_issuer_name(x, issuer.map { X509_get_subject_name($0) } ?? name)
        var v3 = X509V3_CTX()
        X509V3_set_ctx(&v3, issuer ?? x, x, nil, nil, 0)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &v3, nid, value) else { X509_free(x); return nil }
            X509_add_ext(x, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(x, issuerKey, EVP_sha256()) > 0 else { X509_free(x); return nil }
        return x
    }

    static func pem(_ cert: OpaquePointer) -> String? {
        pem { PEM_write_bio_X509($0, cert) == 1 }
    }

    static func pem(privateKey: OpaquePointer) -> String? {
        pem { PEM_write_bio_PrivateKey($0, privateKey, nil, nil, 0, nil, nil) == 1 }
    }

    private static func pem(_ write: (OpaquePointer) -> Bool) -> String? {
        guard let bio = BIO_new(BIO_s_mem()) else { return nil }
        defer { BIO_free(bio) }
        guard write(bio) else { return nil }
        var data: UnsafeMutablePointer<CChar>? = nil
        let length = BIO_ctrl(bio, 3 /* BIO_CTRL_INFO */, 0, &data)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}

/// Accepts TLS connections and relays each to the internal HTTP port.
final class TLSFrontEnd: @unchecked Sendable {
    // @unchecked: the mutable fields (backendPort, connections, stopped) are touched only under `lock`.
    let material: TLSMaterial
    let authenticator: Authenticator
    let listenFD: Int32
    let port: Int
    private let lock = NSLock()
    private var backendPort: Int
    /// The HTTP/2 backend (`HTTP2Backend`) for connections that negotiated h2; nil: ALPN h2 is not accepted.
    private var http2Port: Int?
    private var connections: Set<Int32> = []
    private var stopped = false

    init(host: String, port: Int, backendPort: Int, http2Port: Int?, material: TLSMaterial, authenticator: Authenticator) throws {
        self.material = material
        self.authenticator = authenticator
        self.http2Port = http2Port
        self.backendPort = backendPort
        // Writes to a peer that went away must fail with EPIPE, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TLSMaterial.Failure(description: "socket failed") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw TLSMaterial.Failure(description: "TLS needs an IPv4 host, not \(host)")
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw TLSMaterial.Failure(description: "could not listen on \(host):\(port)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "gantry-dev-tls-accept"
        thread.start()
    }

    var http1BackendPort: Int { lock.withLock { backendPort } }

    /// New internal ports after a restart (the backends bind fresh ones rather than the old: a port left free
    /// between stop and bind could be taken by another local process, which would then receive decrypted traffic).
    func setBackendPorts(http1: Int, http2: Int?) {
        lock.withLock {
            backendPort = http1
            if http2Port != nil { http2Port = http2 }
        }
    }

    /// Closes the listener and every relayed connection.
    func stop() {
        let open = lock.withLock { () -> Set<Int32> in
            stopped = true
            return connections
        }
        shutdown(listenFD, Int32(SHUT_RDWR))
        close(listenFD)
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Ends the relayed connections but keeps listening (restart).
    func dropConnections() {
        let open = lock.withLock { connections }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listenFD, nil, nil)
            if client < 0 {
                if lock.withLock({ stopped }) { return }
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let thread = Thread { [self] in relay(client) }
            thread.name = "gantry-dev-tls-conn"
            thread.start()
        }
    }

    private func register(_ fds: Int32...) -> Bool {
        lock.withLock {
            if stopped { return false }
            for fd in fds { connections.insert(fd) }
            return true
        }
    }

    private func unregister(_ fds: Int32...) {
        lock.withLock { for fd in fds { connections.remove(fd) } }
    }

    private func relay(_ client: Int32) {
        guard register(client), let ssl = SSL_new(material.context.pointer) else { close(client); return }
        defer {
            SSL_free(ssl)
            unregister(client)
            close(client)
        }
        Self.noDelay(client)
        SSL_set_fd(ssl, client)
        guard SSL_accept(ssl) == 1 else { return }
        let h2 = copenssl_negotiated_h2(ssl) == 1
        let (http1Port, http2Port) = lock.withLock { (self.backendPort, self.http2Port) }
        guard !h2 || http2Port != nil else { return }  // h2 is only offered when there is an HTTP/2 backend
        let backendPort = h2 ? http2Port ?? 0 : http1Port
        let backend = connectBackend(port: backendPort)
        guard backend >= 0 else { return }
        guard register(backend) else { close(backend); return }
        let certificateUser = TLSMaterial.verifiedClientName(ssl)
        let relayPort = certificateUser == nil ? nil : localPort(backend)
        if let certificateUser, let relayPort {
            authenticator.registerCertificatePeer(port: relayPort, backendPort: backendPort, user: certificateUser)
        }
        defer {
            if let relayPort { authenticator.unregisterCertificatePeer(port: relayPort, backendPort: backendPort) }
            unregister(backend)
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
                guard n > 0, writeAll(backend, buffer, Int(n)) else { return }
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

    private func writeAll(_ fd: Int32, _ buffer: [UInt8], _ count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let w = buffer.withUnsafeBytes { send(fd, $0.baseAddress.map { $0 + offset }, count - offset, Int32(MSG_NOSIGNAL)) }
            if w <= 0 { if errno == EINTR { continue }; return false }
            offset += w
        }
        return true
    }

    /// A relay forwards each small write (a request, a watch event) at once: with Nagle's algorithm on, a write
    /// that follows an unacknowledged one waits for the peer's delayed ACK (tens of milliseconds).
    private static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    private func localPort(_ fd: Int32) -> Int? {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return ok == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
    }

    private func connectBackend(port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return -1 }
        Self.noDelay(fd)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        let ok = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if ok != 0 { close(fd); return -1 }
        return fd
    }
}
