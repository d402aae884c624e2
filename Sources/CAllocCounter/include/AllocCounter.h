// CAllocCounter — counts heap allocations made by the `tocsin` executable, for `tocsin bench`.
//
// The target defines malloc, calloc, realloc, free, posix_memalign, aligned_alloc, memalign,
// valloc and pvalloc. Linked into the executable, those definitions interpose the C library's
// for the whole process (the Swift runtime and Foundation included): each forwards to glibc's
// `__libc_*` entry point and, only while counting is switched on, adds one to a counter with a
// relaxed atomic. Switched off (the default) an allocation costs one extra call and one load.
//
// Only the `tocsin` executable links this target; test binaries and libraries do not.
#ifndef TOCSIN_ALLOC_COUNTER_H
#define TOCSIN_ALLOC_COUNTER_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Whether this platform's allocator is interposed (glibc); elsewhere the counters stay zero.
int tocsin_alloc_counter_is_active(void);

/// Resets both counters to zero and starts counting.
void tocsin_alloc_counter_start(void);

/// Stops counting; the counters keep their values.
void tocsin_alloc_counter_stop(void);

/// Allocation calls counted (malloc, calloc, realloc, the aligned variants).
uint64_t tocsin_alloc_counter_allocations(void);

/// free calls counted (of non-null pointers).
uint64_t tocsin_alloc_counter_frees(void);

/// Returns freed heap memory to the system (glibc `malloc_trim(0)`); a no-op elsewhere.
void tocsin_alloc_counter_trim(void);

#ifdef __cplusplus
}
#endif

#endif
