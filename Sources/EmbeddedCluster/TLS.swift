import COpenSSL
import Foundation

/// HTTPS for the dev cluster (opt-in, `DevClusterOptions.tls`): kubectl only sends credentials to TLS servers
/// (clientcmd reads a kubeconfig's auth info for TLS transports only), so token auth needs it.
///
/// A throwaway CA and a server certificate for 127.0.0.1/localhost are generated with OpenSSL at start; a small
/// TLS front end (`TLSFrontEnd`, ALPN `h2` or HTTP/1.1) terminates TLS and relays bytes to the HTTP server on an
/// internal loopback port. kubectl trusts the CA through the kubeconfig's
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
        // Asking for client certificates, OpenSSL refuses to resume a session (internal_error alert) unless the
        // context names its sessions: libcurl resumes on every reconnect, so each one after the first failed.
        let sessionContext = Array("gantry-dev".utf8)
        guard SSL_CTX_set_session_id_context(ctx, sessionContext, UInt32(sessionContext.count)) == 1 else {
            throw Failure(description: "setting the TLS session id context failed")
        }
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
