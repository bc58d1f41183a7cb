#include "copenssl.h"
#include <string.h>

static const unsigned char server_protocols[] = "\x02h2\x08http/1.1";

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned int inlen, void *arg) {
    (void)ssl; (void)arg;
    unsigned char *chosen = NULL;
    if (SSL_select_next_proto(&chosen, outlen, server_protocols, sizeof(server_protocols) - 1, in, inlen)
            != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK;  /* no common protocol: carry on without ALPN (HTTP/1.1) */
    }
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

static int accept_any_certificate(int preverify_ok, X509_STORE_CTX *ctx) {
    (void)preverify_ok; (void)ctx;
    return 1;
}

void copenssl_ctx_request_client_certificate(SSL_CTX *ctx) { SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate); }

void copenssl_ctx_offer_h2(SSL_CTX *ctx) { SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL); }

int copenssl_negotiated_h2(const SSL *ssl) {
    const unsigned char *proto = NULL;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &proto, &len);
    return len == 2 && memcmp(proto, "h2", 2) == 0;
}

/* OpenSSL frees its global state from an atexit handler unless told not to. Our processes exit from one thread
 * while others may still be inside OpenSSL (the libcurl loop closing TLS connections, an embedded server's
 * handshake), and those then dereferenced freed locks: `kubectl gantry logs -f` crashed with SIGSEGV in
 * CRYPTO_THREAD_read_lock as it exited. The option only takes effect on OpenSSL's first initialisation, so it
 * runs as the process loads, before libcurl or any of our code touches OpenSSL; the OS reclaims the memory. */
__attribute__((constructor)) static void copenssl_keep_state_until_exit(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
