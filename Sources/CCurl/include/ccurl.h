// Thin shim over libcurl: typed wrappers for the variadic curl_easy_setopt/getinfo/multi_setopt calls,
// which Swift cannot call directly, and typed setters for the callbacks, whose C function pointers are
// capture-less `@convention(c)` trampolines on the Swift side (CurlCallbacks.swift) that forward to the
// transfer object passed as userdata. No logic lives here: every decision is made in KubeClient.
#ifndef GANTRY_CCURL_H
#define GANTRY_CCURL_H
#include <curl/curl.h>
#include <stddef.h>

// MARK: curl_easy_setopt, one wrapper per argument type
CURLcode ccurl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode ccurl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode ccurl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode ccurl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode ccurl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
/// CURLOPT_*_BLOB: libcurl copies the bytes (CURL_BLOB_COPY), so the caller's buffer may go away afterwards.
CURLcode ccurl_easy_setopt_blob(CURL *handle, CURLoption option, const void *data, size_t length);

// MARK: curl_easy_getinfo
CURLcode ccurl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);
CURLcode ccurl_easy_getinfo_double(CURL *handle, CURLINFO info, double *value);
CURLcode ccurl_easy_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value);
CURLcode ccurl_easy_getinfo_pointer(CURL *handle, CURLINFO info, void **value);

// MARK: curl_multi_setopt
CURLMcode ccurl_multi_setopt_long(CURLM *multi, CURLMoption option, long value);

// MARK: callbacks (each sets the function and its userdata together)
typedef size_t (*ccurl_data_callback)(char *data, size_t size, size_t nmemb, void *userdata);
typedef int (*ccurl_xferinfo_callback)(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow);

/// CURLOPT_WRITEFUNCTION + CURLOPT_WRITEDATA.
CURLcode ccurl_set_write_callback(CURL *handle, ccurl_data_callback callback, void *userdata);
/// CURLOPT_HEADERFUNCTION + CURLOPT_HEADERDATA.
CURLcode ccurl_set_header_callback(CURL *handle, ccurl_data_callback callback, void *userdata);
/// CURLOPT_XFERINFOFUNCTION + CURLOPT_XFERINFODATA, and CURLOPT_NOPROGRESS off so it gets called.
CURLcode ccurl_set_xferinfo_callback(CURL *handle, ccurl_xferinfo_callback callback, void *userdata);

/// Constants Swift cannot import (macros with casts or function-like macros).
size_t ccurl_writefunc_pause(void);
int ccurl_pause_cont(void);
#endif
