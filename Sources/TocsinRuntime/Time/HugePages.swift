import CMemoryHints

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Large blocks the engine reads at random (key tables, run-queue key records and entry rings,
/// start-queue rings) backed by transparent huge pages where the kernel offers them. (Rule state
/// buffers grow by `realloc`, which moves a large one by remapping its pages; advising them made
/// no measurable difference, and as blocks of these (session 45) they touched as much memory and
/// ran as many instructions, so they are left as they are.)
///
/// Why: each event looks its keys up in tables of several MiB and reads its rules' state for
/// those keys, each a load (or a prefetch) at a random address. With 4 KiB pages those addresses
/// span thousands of pages, more than the TLB maps, so most of them also cost a page walk; a
/// software prefetch that misses the TLB waits for its walk before the next instruction
/// retires (`perf` put 60% of `Engine.prepareArrival`'s samples on the instruction after its
/// key-table prefetch). A 2 MiB page maps 512 times as much.
///
/// How: Linux's default transparent-huge-page mode is `madvise`, so a block asks for them with
/// `madvise(MADV_HUGEPAGE)`. A block of at least a huge page is mapped on its own (`mmap`),
/// aligned to 2 MiB, and unmapped when freed (``deallocate(_:byteCount:)``): from `malloc` it
/// left an advised range in the heap when freed, which later small allocations reused, in huge
/// pages faulted and zeroed whole (the bench's peak RSS, which spans several replay passes, grew by
/// 6–14%). Smaller blocks come from the allocator as before. Nothing depends on the advice
/// being taken: where it is not (another kernel setting, another system), the pages are
/// ordinary ones. Memory use is unchanged for a block the engine fills: these blocks are
/// written from end to end as keys arrive. They grow where they are
/// (``reallocate(_:from:to:alignment:)``), without a copy or a page cleared twice.
///
/// When not at once: on a machine that hands its free memory back to its host (a virtual machine
/// whose balloon device does free page reporting), blocks are advised only once the run has gone
/// on for ``warmUp`` (``policy``, ``startAdvising()``). There the memory a huge page is made of
/// has usually been handed back, so its first touch is the host's fault as well as the guest's:
/// 10–36 ms per 2 MiB page on the Firecracker VMs of session 48, against 0.23 ms for a recycled
/// one and ~1 ms for the same 2 MiB in ordinary pages. A W2 replay (`tocsin run`, 1M events,
/// started on an idle machine) took ~5 s with the blocks advised (system time ~2 s) against
/// ~3.1 s without (0.35 s). What huge pages save, page walks on random reads, is a rate (up to
/// ~10% of W1's user time in the bench's warm passes) and what their first touches cost there is
/// a one-off, so a run that goes on for longer than a replay gets them: at the switch the blocks
/// already mapped are advised too (the kernel's `khugepaged` gathers their pages into huge pages
/// in the background) and later ones from the start. `TOCSIN_HUGE_PAGES` overrides the choice.
public enum HugePages {
  /// Whether and when this process advises its blocks to use huge pages, and why (``Policy``):
  /// decided once, on first use.
  public static let policy = Policy.current()
  /// How long a run goes on before blocks are advised under ``Policy/Advice/afterWarmUp``.
  public static let warmUp = Duration.seconds(30)
  /// Whether blocks are advised now, and the mappings of the blocks not advised (start → mapped
  /// length) that ``startAdvising()`` is to advise. Blocks are mapped, grown and freed rarely (a
  /// doubling at a time), so one lock for them costs nothing measurable.
  private static let advice = Locked<(advising: Bool, unadvised: [UInt: Int])>(
    (policy.advice == .atOnce, [:]))
  /// The size of a transparent huge page on x86-64 and most arm64 kernels.
  static var pageBytes: Int { 1 << 21 }

  /// `byteCount` bytes aligned to `alignment` (a power of two, at most a huge page): at least a
  /// huge page long, a mapping of its own aligned to 2 MiB and advised to use huge pages. Free
  /// with ``deallocate(_:byteCount:)`` and the same `byteCount`.
  static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
    guard byteCount >= pageBytes else {
      return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: alignment)
    }
    let length = mappedLength(byteCount)
    let block = mapAligned(length)
    mapped(block, length: length)
    return block
  }

  /// Grows a block from ``allocate(byteCount:alignment:)`` (or from this function) of
  /// `oldByteCount` bytes to `newByteCount`, keeping its first `oldByteCount` bytes; the bytes
  /// after them read as zeros, or, when not `zeroed`, are uninitialised below a huge page (for a
  /// caller that initialises what it uses: clearing them was a `memset` per doubling). Returns
  /// the block, which may have moved; `block` is no longer valid. Free the result with
  /// ``deallocate(_:byteCount:)`` and `newByteCount`.
  ///
  /// Why: the engine's tables double as keys and partial matches arrive, and a new block for
  /// each doubling meant the kernel zeroed every page of it again (a huge page fault clears
  /// 2 MiB) before the old contents were copied in: `clear_page_erms` took 6.7% of a W2 replay's
  /// samples, nearly all of it under these doublings. A mapping of its own is instead grown by
  /// `mremap`, which moves the old pages' table entries (no byte copied, no page cleared twice)
  /// to a 2 MiB-aligned range, so they stay huge pages; only the added pages are faulted, when
  /// first touched. Smaller blocks, and any system without `mremap`, are copied into a new block
  /// as before.
  static func reallocate(
    _ block: UnsafeMutableRawPointer, from oldByteCount: Int, to newByteCount: Int, alignment: Int,
    zeroed: Bool = true
  ) -> UnsafeMutableRawPointer {
    precondition(newByteCount >= oldByteCount, "reallocate only grows a block")
    if oldByteCount >= pageBytes, let grown = remap(block, from: mappedLength(oldByteCount), to: mappedLength(newByteCount)) {
      return grown
    }
    let grown = allocate(byteCount: newByteCount, alignment: alignment)
    grown.copyMemory(from: block, byteCount: oldByteCount)
    // A fresh mapping is zeroed already; memory from the allocator is not.
    if zeroed && newByteCount < pageBytes { (grown + oldByteCount).initializeMemory(as: UInt8.self, repeating: 0, count: newByteCount - oldByteCount) }
    deallocate(block, byteCount: oldByteCount)
    return grown
  }

  /// Room for `count` elements at 64 bytes (``allocate(byteCount:alignment:)``), uninitialised.
  /// Free with ``deallocate(_:count:)`` and the same `count`.
  static func allocate<Element>(_: Element.Type, count: Int) -> UnsafeMutablePointer<Element> {
    allocate(byteCount: count * MemoryLayout<Element>.stride, alignment: 64).bindMemory(to: Element.self, capacity: count)
  }

  /// Frees a block from ``allocate(_:count:)`` or ``reallocate(_:from:to:)`` of `count` elements.
  static func deallocate<Element>(_ block: UnsafeMutablePointer<Element>, count: Int) {
    deallocate(UnsafeMutableRawPointer(block), byteCount: count * MemoryLayout<Element>.stride)
  }

  /// A block of `oldCount` elements grown to room for `newCount`, its elements moved bitwise
  /// (``reallocate(_:from:to:alignment:zeroed:)``, in place from a huge page on); the added room
  /// is uninitialised, for a caller that initialises what it uses. `block` is no longer valid.
  static func reallocate<Element>(
    _ block: UnsafeMutablePointer<Element>, from oldCount: Int, to newCount: Int
  ) -> UnsafeMutablePointer<Element> {
    let stride = MemoryLayout<Element>.stride
    return reallocate(
      UnsafeMutableRawPointer(block), from: oldCount * stride, to: newCount * stride, alignment: 64, zeroed: false
    ).bindMemory(to: Element.self, capacity: newCount)
  }

  /// Doubles a ring of `capacity` slots (a power of two), `width` elements each, from
  /// ``allocate(byteCount:alignment:)`` with `max(1, capacity * width)` elements at 64 bytes,
  /// where it is (``reallocate(_:from:to:alignment:zeroed:)``), keeping the number of every
  /// queued entry: entry `s` lies at slot `s % capacity` before and `s % (2 * capacity)` after,
  /// which is the same slot or the one `capacity` after it, in the added half, so no move
  /// overwrites an entry not yet moved and only those entries move. Returns the ring, which may
  /// have moved.
  static func doubleRing<Element>(
    _ ring: UnsafeMutablePointer<Element>, capacity: Int, width: Int = 1, queued: Range<UInt64>
  ) -> UnsafeMutablePointer<Element> {
    let grown = reallocate(ring, from: max(1, capacity * width), to: max(1, 2 * capacity * width))
    // The numbers of one lap of the ring (from a multiple of `capacity` to the next) lie in
    // consecutive slots and all stay or all move: one move per lap, two at most.
    let mask = UInt64(capacity - 1)
    var s = queued.lowerBound
    while s < queued.upperBound {
      let lapEnd = min(queued.upperBound, (s | mask) &+ 1)
      if s & UInt64(capacity) != 0 {
        let from = Int(s & mask) * width
        (grown + from + capacity * width).moveInitialize(from: grown + from, count: Int(lapEnd - s) * width)
      }
      s = lapEnd
    }
    return grown
  }

  /// The mapping of `oldLength` bytes at `block` grown to `newLength`: in place when the
  /// addresses after it are free, else moved to a new 2 MiB-aligned range; `nil` (and `block`
  /// untouched) where the kernel cannot.
  private static func remap(_ block: UnsafeMutableRawPointer, from oldLength: Int, to newLength: Int) -> UnsafeMutableRawPointer? {
    guard newLength > oldLength else { return block }
    var grown = tocsin_remap(block, oldLength, newLength, nil)
    if grown == nil {
      // A range of our own to move into (the kernel replaces its mapping with the moved one); an
      // address the kernel picked could split the huge pages.
      let target = mapAligned(newLength)
      grown = tocsin_remap(block, oldLength, newLength, target)
      if grown == nil { munmap(target, newLength) }
    }
    if let grown {
      unmapped(block)
      mapped(grown, length: newLength)
    }
    return grown
  }

  /// A fresh private mapping of `length` bytes (whole pages) aligned to 2 MiB, not advised.
  private static func mapAligned(_ length: Int) -> UnsafeMutableRawPointer {
    // A huge page more than needed, then the unaligned head and the tail beyond it unmapped.
    guard let raw = mmap(nil, length + pageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
      raw != MAP_FAILED
    else { fatalError("out of memory: \(length) bytes") }
    let start = UInt(bitPattern: raw)
    let aligned = (start + UInt(pageBytes - 1)) & ~UInt(pageBytes - 1)
    if aligned > start { munmap(raw, Int(aligned - start)) }
    let end = aligned + UInt(length)
    let mappedEnd = start + UInt(length + pageBytes)
    // swift-format-ignore: NeverForceUnwrap
    // Inside the mapping just made: not null.
    if mappedEnd > end { munmap(UnsafeMutableRawPointer(bitPattern: end)!, Int(mappedEnd - end)) }
    // swift-format-ignore: NeverForceUnwrap
    // Inside the mapping just made: not null.
    return UnsafeMutableRawPointer(bitPattern: aligned)!
  }

  /// Frees a block from ``allocate(byteCount:alignment:)`` of `byteCount` bytes.
  static func deallocate(_ block: UnsafeMutableRawPointer, byteCount: Int) {
    guard byteCount >= pageBytes else { return block.deallocate() }
    unmapped(block)
    munmap(block, mappedLength(byteCount))
  }

  /// The length of the mapping that holds a block of `byteCount` bytes (a huge page or more):
  /// whole huge pages. A mapping that ended inside a huge page had that part in small pages, and
  /// when it grew where it was (`mremap`), the part stayed in small pages, now in the middle of
  /// the block: each doubling of a run-queue ring (3.5, 7, 14 MiB …) left one such stretch, read
  /// at random through the TLB like the rest (W2's user time in `tocsin bench` +5–8% against
  /// blocks copied into fresh mappings). The cost: a huge page is faulted whole, so a block's last
  /// one may hold up to 2 MiB it does not use, once the block reaches into it.
  private static func mappedLength(_ byteCount: Int) -> Int {
    (byteCount + pageBytes - 1) / pageBytes * pageBytes
  }

  /// A block's mapping of `length` bytes made or grown: advised now if blocks are, else kept
  /// for ``startAdvising()``.
  private static func mapped(_ start: UnsafeMutableRawPointer, length: Int) {
    advice.withLock { advice in
      if advice.advising {
        adviseMapping(start, length: length)
      } else if policy.advice != .never {
        advice.unadvised[UInt(bitPattern: start)] = length
      }
    }
  }

  /// A block's mapping at `start` unmapped, or moved away by growth.
  private static func unmapped(_ start: UnsafeMutableRawPointer) {
    advice.withLock { advice in _ = advice.unadvised.removeValue(forKey: UInt(bitPattern: start)) }
  }

  /// From now on blocks are advised huge pages, those already mapped included, unless the
  /// policy says never (then nothing changes). Called once a run has gone on for ``warmUp``
  /// (`RunObserver`); safe to call again, and from any thread.
  public static func startAdvising() {
    guard policy.advice != .never else { return }
    advice.withLock { advice in
      guard !advice.advising else { return }
      advice.advising = true
      for (start, length) in advice.unadvised {
        // swift-format-ignore: NeverForceUnwrap
        // The start of a live mapping: not null.
        adviseMapping(UnsafeMutableRawPointer(bitPattern: start)!, length: length)
      }
      advice.unadvised = [:]
    }
  }

  /// Whether blocks are advised now.
  public static var isAdvising: Bool { advice.withLock { $0.advising } }

  /// Advises a whole mapping of ours (``mappedLength(_:)``: whole huge pages) to be backed by
  /// huge pages.
  ///
  /// Why the whole mapping and not only its whole huge pages: advice on part of a mapping splits
  /// it in two (advised and not), and `mremap` refuses a range that spans two (`EFAULT`). Run
  /// queue blocks are 56 or 24 bytes times a power of two (3.5, 7, 14 MiB …): advised up to their
  /// last whole huge page, every one of them was copied into a new mapping at each doubling,
  /// every page of it faulted and zeroed again (`strace`: W1's 3.5, 7 and 3 MiB blocks).
  private static func adviseMapping(_ start: UnsafeMutableRawPointer, length: Int) {
    #if os(Linux)
      _ = madvise(start, length, MADV_HUGEPAGE)
    #endif
  }

  /// Whether and when blocks are advised huge pages, from `TOCSIN_HUGE_PAGES` and the machine.
  public struct Policy: Equatable, Sendable {
    /// When blocks are advised.
    public enum Advice: Sendable {
      case atOnce, afterWarmUp, never

      /// What reports say of it (`from the start`, `after the first 30 s of a run`, `never`).
      public var text: String {
        switch self {
        case .atOnce: return "from the start"
        case .afterWarmUp: return "after the first \(HugePages.warmUp.components.seconds) s of a run"
        case .never: return "never"
        }
      }
    }

    /// Why.
    public enum Reason: String, Sendable {
      case switchedOn = "switched on"
      case switchedOff = "switched off"
      case freePageReporting = "the machine reports free pages to its host"
      case standard = "default"
    }

    /// When blocks of a huge page or more are advised `MADV_HUGEPAGE`.
    public var advice: Advice
    /// Why.
    public var reason: Reason

    /// The environment variable that overrides the machine's default (`1`, `on`, `true`, `yes`:
    /// from the start; `0`, `off`, `false`, `no`: never; anything else leaves the default).
    public static let switchVariable = "TOCSIN_HUGE_PAGES"

    /// The policy for a switch set to `switchValue` on a machine that does (or does not) report
    /// free pages to its host; `reportsFreePages` is asked only when the switch leaves the choice
    /// to the machine.
    public static func decide(switchValue: String?, reportsFreePages: @autoclosure () -> Bool) -> Policy {
      switch switchValue?.lowercased() {
      case "1", "on", "true", "yes": return Policy(advice: .atOnce, reason: .switchedOn)
      case "0", "off", "false", "no": return Policy(advice: .never, reason: .switchedOff)
      default:
        return reportsFreePages()
          ? Policy(advice: .afterWarmUp, reason: .freePageReporting) : Policy(advice: .atOnce, reason: .standard)
      }
    }

    /// This process's policy: its environment and this machine.
    public static func current() -> Policy {
      decide(
        switchValue: getenv(switchVariable).map { String(cString: $0) }, reportsFreePages: reportsFreePages())
    }

    /// Whether a virtio balloon device under `devices` (Linux's `/sys/bus/virtio/devices`) has
    /// negotiated free page reporting (`VIRTIO_BALLOON_F_REPORTING`, feature bit 5): each
    /// device's `device` file holds its type (`0x0005` for a balloon) and its `features` file one
    /// `0` or `1` per feature bit, bit 0 first.
    public static func reportsFreePages(devices: String = "/sys/bus/virtio/devices") -> Bool {
      #if os(Linux)
        guard let directory = opendir(devices) else { return false }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
          let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
          if name.hasPrefix(".") { continue }
          guard readSmallFile(devices + "/" + name + "/device")?.hasPrefix("0x0005") == true,
            let features = readSmallFile(devices + "/" + name + "/features")
          else { continue }
          let bits = Array(features.utf8)
          if bits.count > 5 && bits[5] == UInt8(ascii: "1") { return true }
        }
      #endif
      return false
    }

    /// The first bytes (up to 4 KiB) of a small file such as a `sysfs` attribute, or `nil`.
    private static func readSmallFile(_ path: String) -> String? {
      let descriptor = open(path, O_RDONLY)
      guard descriptor >= 0 else { return nil }
      defer { close(descriptor) }
      var buffer = [UInt8](repeating: 0, count: 4096)
      let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
      guard count >= 0 else { return nil }
      return String(decoding: buffer.prefix(count), as: UTF8.self)
    }
  }
}

/// `value` behind a `pthread` mutex (Synchronization's `Mutex` needs macOS 15, and the package
/// builds for 13).
private final class Locked<Value>: @unchecked Sendable {
  // @unchecked: `value` is only touched with `mutex` held.
  private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
  private var value: Value

  init(_ value: Value) {
    self.value = value
    pthread_mutex_init(mutex, nil)
  }

  deinit {
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    return try body(&value)
  }
}
