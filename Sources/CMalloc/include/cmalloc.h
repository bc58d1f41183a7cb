#ifndef GANTRY_CMALLOC_H
#define GANTRY_CMALLOC_H

/// Hands the pages of freed heap memory back to the kernel (glibc's malloc_trim(0), over every arena);
/// returns 1 when some memory was released. Elsewhere than glibc: does nothing, returns 0.
int gantry_malloc_trim(void);

#endif
