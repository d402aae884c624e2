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

static int clamped(size_t bytes) { return bytes > 0x7fffffff ? 0x7fffffff : (int)bytes; }

bool tocsin_heap_reserve_configure(size_t pad, size_t trim, size_t mmapThreshold) {
  if ((pid_t)syscall(SYS_gettid) != getpid()) return false;
  mallopt(M_TOP_PAD, clamped(pad));
  mallopt(M_TRIM_THRESHOLD, clamped(trim));
  mallopt(M_MMAP_THRESHOLD, clamped(mmapThreshold));
  return true;
}

uintptr_t tocsin_heap_reserve_end(void) { return (uintptr_t)sbrk(0); }

long tocsin_heap_reserve_fault(uintptr_t *populated) {
  uintptr_t end = (uintptr_t)sbrk(0);
  if (end <= *populated) {
    *populated = end;
    return 0;
  }
  uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
  uintptr_t start = *populated & ~(page - 1);
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

long tocsin_heap_reserve_fault(uintptr_t *populated) {
  (void)populated;
  return -1;
}

#endif
