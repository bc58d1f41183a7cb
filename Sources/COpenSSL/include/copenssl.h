// Thin shim over OpenSSL (libssl, libcrypto): macros and variadic calls Swift cannot reach. No logic.
#ifndef GANTRY_COPENSSL_H
#define GANTRY_COPENSSL_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

/// ALPN on a server context: offer h2 and http/1.1, in that order of preference (a C callback, which Swift
/// cannot pass without a context pointer).
void copenssl_ctx_offer_h2(SSL_CTX *ctx);
/// Ask every client for a certificate but let the handshake succeed whatever it sends (kube-apiserver's
/// RequestClientCert): the verification result is read afterwards with SSL_get_verify_result.
void copenssl_ctx_request_client_certificate(SSL_CTX *ctx);
/// 1 when ALPN selected h2 on this connection, else 0.
int copenssl_negotiated_h2(const SSL *ssl);
#endif
