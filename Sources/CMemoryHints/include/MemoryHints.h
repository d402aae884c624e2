// CMemoryHints — memory operations the Swift standard library does not expose: cache hints,
// and growing a mapping without copying it (`tocsin_remap`, for `HugePages.reallocate`).
//
// The engine is memory-bound: an event released from the reorder buffer touches its payload,
// its field values, its key's open mask and each rule's state for that key, and each is a cache
// miss of 100–800 ns on a stream with many keys. Knowing the next event a few microseconds
// ahead, the engine asks for those lines early (docs/performance.md, "Prefetching").
//
// Header-only: Swift imports the static inline functions and inlines them like its own code.
#ifndef TOCSIN_MEMORY_HINTS_H
#define TOCSIN_MEMORY_HINTS_H

/// Asks the CPU to start loading the cache line holding `address` for reading. A hint: it never
/// faults (any address is allowed, even an invalid one) and changes no program state.
static inline __attribute__((always_inline)) void tocsin_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

/// `tocsin_prefetch` of two addresses in one call. To Swift's optimiser a C call is opaque; one
/// call where a hint names two lines keeps the value the addresses came from unused after it, so
/// the optimiser need not copy it (and retain its references) to keep it alive across a second.
static inline __attribute__((always_inline)) void tocsin_prefetch2(const void *first, const void *second) {
  __builtin_prefetch(first, 0, 3);
  __builtin_prefetch(second, 0, 3);
}

/// Moves and grows a private anonymous mapping (Linux `mremap`): the `oldLength` bytes at `old`
/// become the first bytes of a mapping of `newLength` at `target` (a range the caller mapped,
/// which the moved mapping replaces), or at `old` itself when `target` is null and the addresses
/// after it are free. The kernel moves page-table entries, so no byte is copied; the pages past
/// the old length read as zeros. Returns the new address, or null when it could not (then `old`
/// is untouched), and always null where there is no `mremap`. (`mremap` is variadic, which
/// Swift does not import.)
#include <stddef.h>
#if defined(__linux__)
extern void *mremap(void *old_address, size_t old_size, size_t new_size, int flags, ...);
static inline void *tocsin_remap(void *old, size_t oldLength, size_t newLength, void *target) {
  // MREMAP_MAYMOVE = 1, MREMAP_FIXED = 2 (<linux/mman.h>); MAP_FAILED is (void *)-1.
  void *moved = target ? mremap(old, oldLength, newLength, 1 | 2, target) : mremap(old, oldLength, newLength, 0);
  return moved == (void *)-1 ? (void *)0 : moved;
}
#else
static inline void *tocsin_remap(void *old, size_t oldLength, size_t newLength, void *target) {
  (void)old; (void)oldLength; (void)newLength; (void)target;
  return (void *)0;
}
#endif

#endif
