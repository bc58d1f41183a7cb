import Foundation
import Synchronization

/// Who a request is, as kube-apiserver's authenticator chain decides it: a client certificate signed by the
/// cluster CA (x509, checked first), else a bearer token: the static token table (`--token-auth-file`) or a
/// ServiceAccount token the TokenRequest API issued (ServiceAccountTokens.swift), refused once it expired.
///
/// TLS ends in `TLSFrontEnd`, which verifies the certificate and relays to an internal port; the front end
/// registers that relay connection here by its exact TCP endpoints (source 127.0.0.1:port → the backend's
/// port), so a request arriving on that connection carries the certificate's identity. The four-tuple is
/// unique while the relay lives and the front end unregisters it before closing, so another connection — a
/// local process dialling the internal port from another address or port, or a later relay reusing the
/// port towards the other backend — is not taken for it and must present a token.
final class Authenticator: Sendable {
    /// One relay connection as the backend sees it.
    struct Connection: Hashable {
        var peerIP: String
        var peerPort: Int
        var backendPort: Int
    }
    static let relayIP = "127.0.0.1"

    private struct State {
        /// token → user name, when the token stops being accepted (nil: never), and the objects it is bound to.
        var tokens: [String: (user: String, expires: Date?, binding: TokenBinding?)] = [:]
        /// Relay connections carrying a verified client certificate → its common name.
        var certificatePeers: [Connection: String] = [:]
    }
    private let state = Mutex(State())

    init(adminToken: String) {
        state.withLock { $0.tokens[adminToken] = (Authenticator.adminUser, nil, nil) }
    }

    static let adminUser = "gantry-dev-admin"

    /// The user for a request, nil when it carries no valid credentials.
    func user(authorization: String?, connection: Connection?) -> String? {
        state.withLock { s in
            if let connection, let user = s.certificatePeers[connection] { return user }
            guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
            guard let entry = s.tokens[String(authorization.dropFirst("Bearer ".count))] else { return nil }
            if let expires = entry.expires, expires <= Date() { return nil }
            return entry.user
        }
    }

    /// Adds a token; expired ones are dropped on the way, so issued tokens do not pile up.
    func addToken(_ token: String, user: String, expires: Date? = nil, binding: TokenBinding? = nil) {
        let now = Date()
        state.withLock { s in
            s.tokens = s.tokens.filter { $0.value.expires.map { $0 > now } ?? true }
            s.tokens[token] = (user, expires, binding)
        }
    }

    /// The objects the request's bearer token is bound to (TokenRequest tokens only).
    func binding(authorization: String?) -> TokenBinding? {
        guard let authorization, authorization.hasPrefix("Bearer ") else { return nil }
        return state.withLock { $0.tokens[String(authorization.dropFirst("Bearer ".count))]?.binding }
    }
    func revokeToken(_ token: String) { state.withLock { $0.tokens[token] = nil } }

    func registerCertificatePeer(port: Int, backendPort: Int, user: String) {
        let key = Connection(peerIP: Self.relayIP, peerPort: port, backendPort: backendPort)
        state.withLock { $0.certificatePeers[key] = user }
    }
    func unregisterCertificatePeer(port: Int, backendPort: Int) {
        let key = Connection(peerIP: Self.relayIP, peerPort: port, backendPort: backendPort)
        state.withLock { $0.certificatePeers[key] = nil }
    }
}

/// What a ServiceAccount token stays valid with (pkg/serviceaccount/claims.go `Validate`): its ServiceAccount, and
/// the pod it was bound to, by uid.
struct TokenBinding: Sendable {
    var namespace: String
    var serviceAccount: String
    var serviceAccountUID: String
    /// (name, uid) of the pod in `boundObjectRef`.
    var pod: (name: String, uid: String)?
}
