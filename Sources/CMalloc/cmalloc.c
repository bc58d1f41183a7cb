#include "cmalloc.h"
#include <stdlib.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int gantry_malloc_trim(void) {
#if defined(__GLIBC__)
    return malloc_trim(0);
#else
    return 0;
#endif
}

int gantry_malloc_limit_arenas(int count) {
#if defined(__GLIBC__)
    return mallopt(M_ARENA_MAX, count);
#else
    (void)count;
    return 0;
#endif
}
