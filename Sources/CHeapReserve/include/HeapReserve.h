// CHeapReserve — lets a second thread take the page faults of the engine's heap growth.
//
// With `--workers 2` the engine's thread bounds the run, and ~8% of its time went to first
// touches of fresh heap pages: the kernel traps, allocates and zeroes a page for every 4 KiB the
// engine's state grows into (key tables, partial matches, timers). The decoding thread has time
// to spare. So the main heap is told to grow well ahead of use, and the decoding thread, between
// batches, faults in the pages between what it populated last and the heap's end: the engine
// then finds them present. See docs/performance.md ("Figures of session 19").
//
// glibc only (its main heap grows by `brk`, and `mallopt` tunes it); elsewhere every function
// reports that it does nothing.
#ifndef TOCSIN_HEAP_RESERVE_H
#define TOCSIN_HEAP_RESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/// Tunes malloc's main heap so that it grows ahead of use and keeps what it grew: `pad` bytes
/// beyond each request when it extends the heap (`M_TOP_PAD`), no trimming until `trim` bytes
/// are free at its end (`M_TRIM_THRESHOLD`), and requests below `mmapThreshold` served from the
/// heap rather than from their own mappings (`M_MMAP_THRESHOLD`; a mapping is fresh pages every
/// time, and the key tables, state buffers and timer queues the engine doubles are such
/// requests). Process-wide and lasting. Only from the process's main thread, whose allocations
/// the main heap serves: returns `false` (and changes nothing) from any other thread, or
/// without glibc.
bool tocsin_heap_reserve_configure(size_t pad, size_t trim, size_t mmapThreshold);

/// The main heap's current end (the program break), or 0 without glibc.
uintptr_t tocsin_heap_reserve_end(void);

/// Faults in, writable, the main heap's pages from `*populated` (rounded down to a page) up to
/// its current end, and sets `*populated` to that end. Memory contents are unchanged (pages
/// already present are left as they are, absent ones are mapped zeroed, as the first write would
/// have). If the heap shrank below `*populated`, only lowers `*populated`. Safe while other
/// threads allocate and write: populating never writes memory. Returns the bytes asked for, 0
/// when there was nothing new, or -1 when the kernel cannot do it (`MADV_POPULATE_WRITE` needs
/// Linux 5.14) or without glibc: the caller should stop asking.
long tocsin_heap_reserve_fault(uintptr_t *populated);

#endif
