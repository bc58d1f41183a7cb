import COpenSSL
import Foundation
import Glibc
import Logging

/// Accepts TLS connections and relays each to the internal HTTP port (`TLSRelay`).
///
/// One thread accepts and drives every handshake without blocking (poll), so a client that connects and says
/// nothing costs a descriptor, not a thread, and is dropped after `handshakeTimeout` (Go's http.Server bounds the
/// handshake by its read timeouts the same way). A connection whose handshake completed is relayed by one of at
/// most `maxConnections` threads; the excess waits for a free one. Accept errors (out of descriptors, buffers or
/// memory) pause accepting 5 ms doubling to 1 s, as Go's `Server.Serve` does, and never stop it for good.
final class TLSFrontEnd: @unchecked Sendable {
    // @unchecked: the mutable fields (backend ports, connections, waiting, relayThreads, stopped) are touched only
    // under `lock`; the handshakes in progress belong to the accept thread alone.
    struct Limits: Sendable {
        var handshakeTimeout: TimeInterval = 10
        var maxConnections = 512
        /// Connections accepted but not yet relayed (in their handshake, or waiting for a relay thread).
        var maxPending = 1024
    }

    let material: TLSMaterial
    let authenticator: Authenticator
    let listenFD: Int32
    let port: Int
    let limits: Limits
    private let lock = NSLock()
    private var backendPort: Int
    /// The HTTP/2 backend (`HTTP2Backend`) for connections that negotiated h2; nil: ALPN h2 is not accepted.
    private var http2Port: Int?
    private var connections: Set<Int32> = []
    private var waiting: [Handshaken] = []
    private var relayThreads = 0
    private var stopped = false
    /// stop() writes here to wake the accept thread out of poll.
    private let wakeRead: Int32, wakeWrite: Int32
    private let acceptEnded = DispatchSemaphore(value: 0)

    init(host: String, port: Int, backendPort: Int, http2Port: Int?, material: TLSMaterial, authenticator: Authenticator,
         limits: Limits = Limits()) throws {
        self.material = material
        self.authenticator = authenticator
        self.http2Port = http2Port
        self.backendPort = backendPort
        self.limits = limits
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
        var pipeFDs: [Int32] = [-1, -1]
        guard bound == 0, listen(fd, 128) == 0, Self.setBlocking(fd, false), pipe(&pipeFDs) == 0 else {
            close(fd)
            throw TLSMaterial.Failure(description: "could not listen on \(host):\(port)")
        }
        var actual = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        listenFD = fd
        wakeRead = pipeFDs[0]
        wakeWrite = pipeFDs[1]
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "gantry-tls-accept"
        thread.start()
    }

    var http1BackendPort: Int { lock.withLock { backendPort } }
    /// Threads relaying now (at most `limits.maxConnections`).
    var relayThreadCount: Int { lock.withLock { relayThreads } }

    /// New internal ports after a restart (the backends bind fresh ones rather than the old: a port left free
    /// between stop and bind could be taken by another local process, which would then receive decrypted traffic).
    func setBackendPorts(http1: Int, http2: Int?) {
        lock.withLock {
            backendPort = http1
            if http2Port != nil { http2Port = http2 }
        }
    }

    /// Closes the listener and every connection, relayed or not yet.
    func stop() {
        let stopping = lock.withLock { () -> (open: Set<Int32>, queued: [Handshaken])? in
            if stopped { return nil }
            stopped = true
            defer { waiting = [] }
            return (connections, waiting)
        }
        guard let stopping else { return }
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        // The accept thread closes the listener (and its handshakes) on its way out; bounded in case it is stuck.
        _ = acceptEnded.wait(timeout: .now() + 2)
        close(wakeWrite)
        for fd in stopping.open { shutdown(fd, Int32(SHUT_RDWR)) }
        for c in stopping.queued { end(c) }
    }

    /// Ends the connections but keeps listening (restart).
    func dropConnections() {
        let open = lock.withLock { connections }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    // MARK: Accepting and handshakes (the accept thread)

    /// A connection in its handshake: the socket is non-blocking until it completes.
    private struct Handshake {
        let connection: Handshaken
        let deadline: ContinuousClock.Instant
        var events: Int16 = Int16(POLLIN)
    }

    private func acceptLoop() {
        var handshakes: [Handshake] = []
        var backoff = AcceptBackoff()
        defer {
            for h in handshakes { end(h.connection) }
            close(listenFD)
            close(wakeRead)
            acceptEnded.signal()
        }
        while !lock.withLock({ stopped }) {
            let now = ContinuousClock.now
            handshakes.removeAll { h in
                guard h.deadline <= now else { return false }
                end(h.connection)  // the handshake took too long
                return true
            }
            let accepting = (backoff.resumesAt.map { $0 <= now } ?? true)
                && handshakes.count + lock.withLock({ waiting.count }) < limits.maxPending
            var fds = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: accepting ? listenFD : -1, events: Int16(POLLIN), revents: 0)]
            fds += handshakes.map { pollfd(fd: $0.connection.fd, events: $0.events, revents: 0) }
            let wakeAt = (handshakes.map(\.deadline) + [backoff.resumesAt].compactMap { $0 }).min()
            let timeout = wakeAt.map { Int32(clamping: Int64(max(0, ($0 - now) / .milliseconds(1))) + 1) } ?? -1
            if poll(&fds, nfds_t(fds.count), timeout) < 0 {
                if errno != EINTR { usleep(1000) }  // ENOMEM: give memory a moment rather than spin
                continue
            }
            if fds[0].revents != 0 { return }
            var still: [Handshake] = []
            for (i, h) in handshakes.enumerated() {
                guard fds[i + 2].revents != 0 else { still.append(h); continue }
                if let next = advance(h) { still.append(next) }
            }
            handshakes = still
            if fds[1].revents != 0 { acceptReady(&handshakes, &backoff) }
        }
    }

    /// Accepts what the listen queue holds, up to the pending limit.
    private func acceptReady(_ handshakes: inout [Handshake], _ backoff: inout AcceptBackoff) {
        while handshakes.count < limits.maxPending {
            let fd = accept(listenFD, nil, nil)
            guard fd >= 0 else {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return
                case EINTR, ECONNABORTED, EPROTO: continue
                case let failure:
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM and anything unforeseen: pause, then accept again.
                    if backoff.failed(at: .now) {
                        Logger(label: "gantry.dev.tls").warning("accept failed, retrying with backoff",
                                                                metadata: ["error": "\(String(cString: strerror(failure)))"])
                    }
                    return
                }
            }
            backoff.succeeded()
            guard Self.setBlocking(fd, false), register(fd), let ssl = SSL_new(material.context.pointer) else {
                unregister(fd)
                close(fd)
                continue
            }
            Self.noDelay(fd)
            SSL_set_fd(ssl, fd)
            handshakes.append(Handshake(connection: Handshaken(fd: fd, ssl: ssl),
                                        deadline: .now + .milliseconds(Int64(limits.handshakeTimeout * 1000))))
        }
    }

    /// One step of a handshake: the handshake to keep polling, or nil (handed to a relay, or failed and closed).
    private func advance(_ h: Handshake) -> Handshake? {
        // SSL_get_error reads this thread's error queue, which another connection's failed handshake may have filled.
        ERR_clear_error()
        let r = SSL_accept(h.connection.ssl)
        if r == 1 {
            guard Self.setBlocking(h.connection.fd, true) else { end(h.connection); return nil }
            dispatch(h.connection)
            return nil
        }
        var next = h
        switch SSL_get_error(h.connection.ssl, r) {
        case SSL_ERROR_WANT_READ: next.events = Int16(POLLIN)
        case SSL_ERROR_WANT_WRITE: next.events = Int16(POLLOUT)
        default:
            end(h.connection)
            return nil
        }
        return next
    }

    // MARK: Relay threads

    /// Relays on a new thread while fewer than `maxConnections` do, else queues for the next free one.
    private func dispatch(_ c: Handshaken) {
        enum Decision { case start, queued, refused }
        let decision = lock.withLock { () -> Decision in
            if stopped { return .refused }
            if relayThreads < limits.maxConnections { relayThreads += 1; return .start }
            waiting.append(c)
            return .queued
        }
        switch decision {
        case .refused: end(c)
        case .queued: break
        case .start:
            let thread = Thread { [self] in
                var next: Handshaken? = c
                while let current = next {
                    TLSRelay(frontEnd: self, connection: current).run()
                    end(current)
                    next = lock.withLock { () -> Handshaken? in
                        if !stopped, !waiting.isEmpty { return waiting.removeFirst() }
                        relayThreads -= 1
                        return nil
                    }
                }
            }
            thread.name = "gantry-tls-relay"
            thread.start()
        }
    }

    /// Frees a connection's TLS state and closes it.
    private func end(_ c: Handshaken) {
        SSL_free(c.ssl)
        unregister(c.fd)
        close(c.fd)
    }

    // MARK: Shared with TLSRelay

    var backendPorts: (http1: Int, http2: Int?) { lock.withLock { (backendPort, http2Port) } }

    func register(_ fd: Int32) -> Bool {
        lock.withLock {
            if stopped { return false }
            connections.insert(fd)
            return true
        }
    }

    func unregister(_ fd: Int32) {
        _ = lock.withLock { connections.remove(fd) }
    }

    /// A relay forwards each small write (a request, a watch event) at once: with Nagle's algorithm on, a write
    /// that follows an unacknowledged one waits for the peer's delayed ACK (tens of milliseconds).
    static func noDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    static func setBlocking(_ fd: Int32, _ blocking: Bool) -> Bool {
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { return false }
        return fcntl(fd, F_SETFL, blocking ? flags & ~O_NONBLOCK : flags | O_NONBLOCK) == 0
    }
}

/// A connection whose TLS state travels from the accept thread to one relay thread.
struct Handshaken: @unchecked Sendable {
    // @unchecked: the SSL object is used by one thread at a time; the accept thread hands it over and forgets it.
    let fd: Int32
    let ssl: OpaquePointer
}

/// When the accept loop may accept again after a failed accept: 5 ms, doubling to 1 s, reset by a success
/// (Go's net/http `Server.Serve`).
struct AcceptBackoff: Sendable {
    private(set) var delay: Duration = .zero
    private(set) var resumesAt: ContinuousClock.Instant?

    /// Records a failure; true for the first of a streak (worth a log line).
    mutating func failed(at now: ContinuousClock.Instant) -> Bool {
        let first = delay == .zero
        delay = first ? .milliseconds(5) : min(delay * 2, .seconds(1))
        resumesAt = now + delay
        return first
    }

    mutating func succeeded() {
        delay = .zero
        resumesAt = nil
    }
}
