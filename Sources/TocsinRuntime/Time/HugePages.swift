#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Large blocks the engine reads at random (key tables, rule state, run-queue key records)
/// backed by transparent huge pages where the kernel offers them.
///
/// Why: each event looks its keys up in tables of several MiB and reads its rules' state for
/// those keys, each a load (or a prefetch) at a random address. With 4 KiB pages those addresses
/// span thousands of pages, more than the TLB maps, so most of them also cost a page walk; a
/// software prefetch that misses the TLB waits for its walk before the next instruction
/// retires (`perf` put 60% of `Engine.prepareArrival`'s samples on the instruction after its
/// key-table prefetch). A 2 MiB page maps 512 times as much.
///
/// How: Linux's default transparent-huge-page mode is `madvise`, so a block asks for them with
/// `madvise(MADV_HUGEPAGE)`. Only the 2 MiB-aligned part of a range can be mapped so; blocks
/// from ``allocate(byteCount:)`` are aligned to 2 MiB when at least that big. Nothing depends
/// on the advice being taken: where it is not (another kernel setting, another system), the
/// pages are ordinary ones. Memory use is unchanged for a block the engine fills: these blocks
/// are written from end to end as keys arrive.
enum HugePages {
  /// The size of a transparent huge page on x86-64 and most arm64 kernels.
  static var pageBytes: Int { 1 << 21 }

  /// `byteCount` bytes aligned to `alignment` (a power of two, at most a huge page), advised to
  /// use huge pages when at least one huge page long; free with `deallocate()`.
  static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
    guard byteCount >= pageBytes else {
      return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: alignment)
    }
    // `posix_memalign` memory is freed by `free`, which `deallocate()` calls.
    var block: UnsafeMutableRawPointer?
    guard posix_memalign(&block, pageBytes, byteCount) == 0, let block else {
      fatalError("out of memory: \(byteCount) bytes")
    }
    advise(block, byteCount: byteCount)
    return block
  }

  /// Advises the whole huge pages inside `[start, start + byteCount)` to be backed by huge pages
  /// (for a block from `malloc` or `realloc`, whose start is not aligned); does nothing for a
  /// range that holds none.
  static func advise(_ start: UnsafeMutableRawPointer, byteCount: Int) {
    #if os(Linux)
      let mask = UInt(pageBytes - 1)
      let first = (UInt(bitPattern: start) + mask) & ~mask
      let end = (UInt(bitPattern: start) + UInt(byteCount)) & ~mask
      guard end > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
      _ = madvise(aligned, Int(end - first), MADV_HUGEPAGE)
    #endif
  }
}
