#ifndef GANTRY_CMALLOC_H
#define GANTRY_CMALLOC_H

/// Hands the pages of freed heap memory back to the kernel (glibc's malloc_trim(0), over every arena);
/// returns 1 when some memory was released. Elsewhere than glibc: does nothing, returns 0.
int gantry_malloc_trim(void);

/// Caps how many arenas glibc's malloc creates (mallopt(M_ARENA_MAX, count)); arenas that exist stay.
/// Returns 1 on success. Elsewhere than glibc: does nothing, returns 0.
int gantry_malloc_limit_arenas(int count);

#endif
