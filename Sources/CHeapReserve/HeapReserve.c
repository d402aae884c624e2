// See include/HeapReserve.h.
#define _GNU_SOURCE
#include "HeapReserve.h"

#if defined(__GLIBC__) && defined(__linux__)
#include <errno.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

/// The size of a transparent huge page on x86-64 and most arm64 kernels.
static const uintptr_t hugePageBytes = 2u << 20;

static int clamped(size_t bytes) { return bytes > 0x7fffffff ? 0x7fffffff : (int)bytes; }

bool tocsin_heap_reserve_configure(size_t pad, size_t trim, size_t mmapThreshold) {
  if ((pid_t)syscall(SYS_gettid) != getpid()) return false;
  mallopt(M_TOP_PAD, clamped(pad));
  mallopt(M_TRIM_THRESHOLD, clamped(trim));
  mallopt(M_MMAP_THRESHOLD, clamped(mmapThreshold));
  return true;
}

uintptr_t tocsin_heap_reserve_end(void) { return (uintptr_t)sbrk(0); }

long tocsin_heap_reserve_fault(uintptr_t *populated, bool hugePages) {
  uintptr_t end = (uintptr_t)sbrk(0);
  if (end <= *populated) {
    *populated = end;
    return 0;
  }
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = *populated & ~(page - 1);
  if (hugePages) {
    // Transparent huge pages where the system allows them on request (`madvise` mode): the
    // whole 2 MiB extents of the range not yet touched are then faulted in as one page each,
    // which spares the engine's thread TLB misses as well. Only up to the last whole extent:
    // the rest is left for the next call, when the heap has grown past it, so that it too is
    // whole and untouched (the heap grows by a pad of several extents, so the engine does not
    // reach it first). Advice only: ignored where refused.
    uintptr_t whole = end & ~(hugePageBytes - 1);
    if (whole <= start) return 0;
    end = whole;
    (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
  }
  // The break is page-aligned in practice; a partial last page is populated whole by the kernel.
  if (madvise((void *)start, end - start, MADV_POPULATE_WRITE) != 0) {
    // The heap shrank under us (ENOMEM for the unmapped part): try again next time. Anything
    // else (EINVAL: a kernel without MADV_POPULATE_WRITE) means it cannot be done.
    if (errno == ENOMEM) return 0;
    return -1;
  }
  *populated = end;
  return (long)(end - start);
}

#else

bool tocsin_heap_reserve_configure(size_t pad, size_t trim, size_t mmapThreshold) {
  (void)pad;
  (void)trim;
  (void)mmapThreshold;
  return false;
}

uintptr_t tocsin_heap_reserve_end(void) { return 0; }

long tocsin_heap_reserve_fault(uintptr_t *populated, bool hugePages) {
  (void)populated;
  (void)hugePages;
  return -1;
}

#endif
