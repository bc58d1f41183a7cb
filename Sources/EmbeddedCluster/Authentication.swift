import Synchronization

/// Who a request is, as kube-apiserver's authenticator chain decides it: a client certificate signed by the
/// cluster CA (x509, checked first), else a bearer token from the static token table (`--token-auth-file`).
///
/// TLS ends in `TLSFrontEnd`, which verifies the certificate and relays to the internal HTTP port; the front
/// end registers the source port of that relay connection here, so a request arriving from that port carries
/// the certificate's identity. A local process that connects to the internal port directly is not registered
/// and must present a token.
final class Authenticator: Sendable {
    private struct State {
        /// token → user name.
        var tokens: [String: String] = [:]
        /// Source port of a relay connection on the internal port → the client certificate's common name.
        var certificatePeers: [Int: String] = [:]
    }
    private let state = Mutex(State())

    init(adminToken: String) {
        state.withLock { $0.tokens[adminToken] = Authenticator.adminUser }
    }

    static let adminUser = "gantry-dev-admin"

    /// The user for a request, nil when it carries no valid credentials.
    func user(authorization: String?, peerPort: Int?) -> String? {
        state.withLock { s in
            if let peerPort, let user = s.certificatePeers[peerPort] { return user }
            guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
            return s.tokens[String(authorization.dropFirst("Bearer ".count))]
        }
    }

    func addToken(_ token: String, user: String) { state.withLock { $0.tokens[token] = user } }
    func revokeToken(_ token: String) { state.withLock { $0.tokens[token] = nil } }

    func registerCertificatePeer(port: Int, user: String) { state.withLock { $0.certificatePeers[port] = user } }
    func unregisterCertificatePeer(port: Int) { state.withLock { $0.certificatePeers[port] = nil } }
}
