import CHeapReserve

/// The engine's heap growth, faulted in by `--workers 2`'s decoding thread (CHeapReserve).
///
/// The engine's thread bounds a two-worker run, and ~8% of its time went to page faults: first
/// touches of heap it had just grown into (W1: 27k faults, most of them in the key tables, the
/// partial matches and the timers as they fill). Each costs a trap and a zeroed page whichever
/// thread takes it, so the decoding thread, which has time to spare, takes them instead: the
/// heap is made to grow ``pad`` ahead of use, and after each batch the decoding thread faults in
/// what it grew since (``faultIn()``). The engine's thread took 2–4k faults on W1 after this.
///
/// What it costs: the main heap holds up to ``pad`` more populated memory, and requests below
/// ``mmapThreshold`` come from the heap, where a grown table's old block is reused rather than
/// unmapped: W1's peak RSS 187 → 200–202 MiB. The settings are process-wide and stay; they are made
/// only from the process's main thread (the main heap's), so a pipeline run from another thread
/// (tests) does nothing.
struct HeapReserve {
  /// How far ahead of use the main heap grows (`M_TOP_PAD`). 4 MiB left 6.9k of W1's faults on
  /// the engine's thread, 8 MiB 2.8k: the engine outran the decoding thread's batches.
  static let pad = 8 << 20
  /// Free bytes at the heap's end before it is given back (`M_TRIM_THRESHOLD`): with glibc's
  /// 128 KiB, the heap shrank and regrew, and the regrown pages faulted again.
  static let trim = 32 << 20
  /// Requests from this size on get their own mapping (`M_MMAP_THRESHOLD`; glibc's largest
  /// dynamic value). Below it they come from the heap, populated ahead.
  static let mmapThreshold = 32 << 20

  /// The heap's end as of the last ``faultIn()``: pages below it were faulted in or in use.
  private var populated: UInt
  /// Whether faulting in still applies (configured, and the kernel supports it).
  private(set) var isActive: Bool
  /// Bytes asked to be faulted in so far.
  private(set) var bytesFaultedIn = 0

  /// Tunes the heap for it; call on the engine's thread. Inactive off the main thread and
  /// without glibc.
  init() {
    isActive = tocsin_heap_reserve_configure(Self.pad, Self.trim, Self.mmapThreshold)
    populated = UInt(tocsin_heap_reserve_end())
  }

  /// Faults in what the heap grew since the last call; call on the decoding thread.
  mutating func faultIn() {
    guard isActive else { return }
    let bytes = tocsin_heap_reserve_fault(&populated)
    if bytes < 0 {
      isActive = false
    } else {
      bytesFaultedIn += bytes
    }
  }
}
