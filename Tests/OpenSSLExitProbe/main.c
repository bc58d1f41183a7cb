// Exits the process while another thread is inside OpenSSL, as a CLI command exits while the libcurl loop
// closes its TLS connections. Linked with CCurl (and through it COpenSSL), as KubeClient is. Exit status 0 means
// the process ended cleanly; OpenSSL's atexit cleanup racing the thread ends it with SIGSEGV, SIGBUS or SIGABRT.
#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

static atomic_int digesting;

static void *digest_forever(void *unused) {
    (void)unused;
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length;
    for (;;) {
        EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
        EVP_Digest("gantry", 6, out, &length, md, NULL);
        EVP_MD_free(md);
        atomic_store(&digesting, 1);
    }
    return NULL;
}

int main(void) {
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) return 2;
    pthread_t thread;
    if (pthread_create(&thread, NULL, digest_forever, NULL) != 0) return 3;
    while (!atomic_load(&digesting)) {}
    exit(0);
}
