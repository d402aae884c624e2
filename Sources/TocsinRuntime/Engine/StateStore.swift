import TocsinCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Every rule's per-key state: `store[r, k]` is rule `r`'s ``PartialMatches`` for key `k` of
/// its key space.
///
/// One buffer per rule, indexed by key id. Not `[[PartialMatches]]`: every write through nested
/// arrays checks that both arrays are uniquely referenced (two runtime calls per access, ~10
/// accesses per rule touched by an event: 290 instructions per event on the W1 stream), while
/// here an access is an address computed from a pointer and the key id. Noncopyable: it owns its
/// buffers and frees them when it goes.
///
/// The buffers come from `malloc` and grow with `realloc` (a `PartialMatches` is bitwise
/// movable: two array references, a time, a flag). A buffer past glibc's mmap threshold is
/// then moved by remapping its pages, not copied into freshly faulted ones: growing by
/// doubling copied every rule's states again at each step (`grow` was 3.4% of the samples of a
/// 300k-event W1 replay, most of it page faults on the new buffer and the copy).
///
/// Each buffer's states start on a cache line (a few bytes into its block): a 32-byte state
/// then never straddles two lines, and the one line the release's lookahead fetches for it is
/// all of it. From `malloc` a buffer starts 16 bytes into a line as often as not, and then every
/// other key's state was split over two lines.
struct StateStore: ~Copyable {
  private var bases: [UnsafeMutablePointer<PartialMatches>]
  /// Per rule, the bytes from its buffer's block to its first state (below a cache line).
  private var offsets: [Int]
  private var counts: [Int]
  private var capacities: [Int]

  /// Empty state for `rules` rules.
  init(rules: Int) {
    let empty = (0..<rules).map { _ in Self.resize(nil, offset: 0, initialized: 0, to: 0) }
    bases = empty.map(\.base)
    offsets = empty.map(\.offset)
    counts = Array(repeating: 0, count: rules)
    capacities = Array(repeating: 0, count: rules)
  }

  deinit {
    for r in bases.indices {
      bases[r].deinitialize(count: counts[r])
      free(UnsafeMutableRawPointer(bases[r]) - offsets[r])
    }
  }

  /// Number of keys with a slot for rule `r` (ids below it; every slot is initialised).
  @inline(__always)
  func count(of r: Int) -> Int { counts[r] }

  /// The key ids with a slot for rule `r`.
  @inline(__always)
  func indices(of r: Int) -> Range<Int> { 0..<counts[r] }

  /// Rule `r`'s state for key id `k` (which must have a slot: ``ensure(rule:count:)``).
  @inline(__always)
  subscript(r: Int, k: Int) -> PartialMatches {
    unsafeAddress {
      precondition(k < counts[r], "state slot out of range")
      return UnsafePointer(bases[r] + k)
    }
    unsafeMutableAddress {
      precondition(k < counts[r], "state slot out of range")
      return bases[r] + k
    }
  }

  /// Where rule `r`'s state for key id `k` lies, or `nil` without a slot (for cache hints).
  @inline(__always)
  func address(of r: Int, _ k: Int) -> UnsafeMutablePointer<PartialMatches>? {
    k < counts[r] ? bases[r] + k : nil
  }

  /// Gives rule `r` empty slots up to key id `count - 1`; the buffer grows by doubling.
  @inline(__always)
  mutating func ensure(rule r: Int, count: Int) {
    if counts[r] < count { grow(rule: r, to: count) }
  }

  @inline(never)
  private mutating func grow(rule r: Int, to count: Int) {
    if capacities[r] < count {
      let capacity = max(count, 2 * capacities[r], 16)
      (bases[r], offsets[r]) = Self.resize(bases[r], offset: offsets[r], initialized: counts[r], to: capacity)
      capacities[r] = capacity
    }
    (bases[r] + counts[r]).initialize(repeating: PartialMatches(), count: count - counts[r])
    counts[r] = count
  }

  /// `base` (from this function, `offset` bytes into its block, or `nil`) with room for
  /// `capacity` states starting on a cache line, its first `initialized` states moved along;
  /// and the new offset.
  private static func resize(
    _ base: UnsafeMutablePointer<PartialMatches>?, offset: Int, initialized: Int, to capacity: Int
  ) -> (base: UnsafeMutablePointer<PartialMatches>, offset: Int) {
    let line = MemoryHint.lineBytes
    let stride = MemoryLayout<PartialMatches>.stride
    let bytes = max(1, capacity) * stride + line
    let block = base.map { UnsafeMutableRawPointer($0) - offset }
    guard let raw = realloc(block, bytes) else { fatalError("out of memory: \(bytes) bytes of rule state") }
    let misalignment = Int(UInt(bitPattern: raw) % UInt(line))
    let newOffset = misalignment == 0 ? 0 : line - misalignment
    // `realloc` kept the states at the old offset into the block; they are bitwise movable.
    if newOffset != offset, initialized > 0 {
      (raw + newOffset).copyMemory(from: raw + offset, byteCount: initialized * stride)
    }
    return ((raw + newOffset).bindMemory(to: PartialMatches.self, capacity: max(1, capacity)), newOffset)
  }

  /// Number of open partial matches over all rules and keys.
  var openPartialMatches: Int {
    var total = 0
    for r in bases.indices {
      for k in 0..<counts[r] { total += bases[r][k].partials.count }
    }
    return total
  }
}
