// CMemoryHints — cache hints the Swift standard library does not expose.
//
// The engine is memory-bound: an event released from the reorder buffer touches its payload,
// its field values, its key's open mask and each rule's state for that key, and each is a cache
// miss of 100–800 ns on a stream with many keys. Knowing the next event a few microseconds
// ahead, the engine asks for those lines early (docs/performance.md, "Prefetching").
//
// Header-only: Swift imports the static inline function and inlines it like its own code.
#ifndef TOCSIN_MEMORY_HINTS_H
#define TOCSIN_MEMORY_HINTS_H

/// Asks the CPU to start loading the cache line holding `address` for reading. A hint: it never
/// faults (any address is allowed, even an invalid one) and changes no program state.
static inline __attribute__((always_inline)) void tocsin_prefetch(const void *address) {
  __builtin_prefetch(address, 0, 3);
}

#endif
