// Thin shim over libcurl: typed wrappers for the variadic curl_easy_setopt/getinfo calls,
// which Swift cannot call directly. No logic lives here.
#ifndef GANTRY_CCURL_H
#define GANTRY_CCURL_H
#include <curl/curl.h>
#endif
