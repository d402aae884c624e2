// See include/AllocCounter.h.
//
// Why forward to `__libc_malloc` and friends rather than `dlsym(RTLD_NEXT, "malloc")`: dlsym can
// itself allocate, which needs a bootstrap allocator to break the recursion; glibc exports its
// implementation under these names precisely so an interposer can call it (they have been part
// of the GLIBC_2.2.5 ABI since 2002). glibc has no `__libc_posix_memalign` or
// `__libc_aligned_alloc`; both are implemented here on `__libc_memalign`, whose blocks
// `__libc_free` accepts.
#include "AllocCounter.h"

#include <stdatomic.h>
#include <stddef.h>

#if defined(__linux__) && defined(__GLIBC__)

#include <errno.h>
#include <malloc.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static atomic_int counting = 0;
static atomic_uint_fast64_t allocations = 0;
static atomic_uint_fast64_t frees = 0;

// The fast path when counting is off: one relaxed load and a predicted branch.
#define COUNT(counter)                                                      \
  do {                                                                      \
    if (__builtin_expect(atomic_load_explicit(&counting, memory_order_relaxed), 0)) \
      atomic_fetch_add_explicit(&(counter), 1, memory_order_relaxed);       \
  } while (0)

void *malloc(size_t size) {
  COUNT(allocations);
  return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
  COUNT(allocations);
  return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
  COUNT(allocations);
  return __libc_realloc(pointer, size);
}

void free(void *pointer) {
  if (pointer != NULL) COUNT(frees);
  __libc_free(pointer);
}

void *memalign(size_t alignment, size_t size) {
  COUNT(allocations);
  return __libc_memalign(alignment, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
  COUNT(allocations);
  return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
  // POSIX: the alignment must be a power of two and a multiple of sizeof(void *).
  if (alignment == 0 || (alignment & (alignment - 1)) != 0 || alignment % sizeof(void *) != 0)
    return EINVAL;
  COUNT(allocations);
  void *pointer = __libc_memalign(alignment, size);
  if (pointer == NULL && size != 0) return ENOMEM;
  *result = pointer;
  return 0;
}

void *valloc(size_t size) {
  COUNT(allocations);
  return __libc_valloc(size);
}

void *pvalloc(size_t size) {
  COUNT(allocations);
  return __libc_pvalloc(size);
}

int tocsin_alloc_counter_is_active(void) { return 1; }

void tocsin_alloc_counter_start(void) {
  atomic_store_explicit(&allocations, 0, memory_order_relaxed);
  atomic_store_explicit(&frees, 0, memory_order_relaxed);
  atomic_store_explicit(&counting, 1, memory_order_seq_cst);
}

void tocsin_alloc_counter_stop(void) { atomic_store_explicit(&counting, 0, memory_order_seq_cst); }

uint64_t tocsin_alloc_counter_allocations(void) {
  return atomic_load_explicit(&allocations, memory_order_relaxed);
}

uint64_t tocsin_alloc_counter_frees(void) {
  return atomic_load_explicit(&frees, memory_order_relaxed);
}

void tocsin_alloc_counter_trim(void) { malloc_trim(0); }

#else  // Not glibc: nothing is interposed and nothing is counted.

int tocsin_alloc_counter_is_active(void) { return 0; }
void tocsin_alloc_counter_start(void) {}
void tocsin_alloc_counter_stop(void) {}
uint64_t tocsin_alloc_counter_allocations(void) { return 0; }
uint64_t tocsin_alloc_counter_frees(void) { return 0; }
void tocsin_alloc_counter_trim(void) {}

#endif
