#ifndef CMALLOC_SHIM_H
#define CMALLOC_SHIM_H

// glibc's malloc tuning (`mallopt`), which Swift's Glibc module does not export.
#include <malloc.h>

/// Limits the number of malloc arenas (glibc's M_ARENA_MAX); returns 1 on success.
static inline int cmalloc_set_arena_max(int arenas) {
#ifdef M_ARENA_MAX
    return mallopt(M_ARENA_MAX, arenas);
#else
    return 0;
#endif
}

/// Returns free heap pages to the system (glibc's malloc_trim); 1 if memory was released.
static inline int cmalloc_trim(void) {
    return malloc_trim(0);
}

#endif
