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
#endif
