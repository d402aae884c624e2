/// Every rule's per-key state: `store[r, k]` is rule `r`'s ``PartialMatches`` for key `k` of
/// its key space.
///
/// One buffer per rule, indexed by key id. Not `[[PartialMatches]]`: every write through nested
/// arrays checks that both arrays are uniquely referenced (two runtime calls per access, ~10
/// accesses per rule touched by an event: 290 instructions per event on the W1 stream), while
/// here an access is an address computed from a pointer and the key id. Noncopyable: it owns its
/// buffers and frees them when it goes.
struct StateStore: ~Copyable {
  private var bases: [UnsafeMutablePointer<PartialMatches>]
  private var counts: [Int]
  private var capacities: [Int]

  /// Empty state for `rules` rules.
  init(rules: Int) {
    bases = (0..<rules).map { _ in UnsafeMutablePointer<PartialMatches>.allocate(capacity: 0) }
    counts = Array(repeating: 0, count: rules)
    capacities = Array(repeating: 0, count: rules)
  }

  deinit {
    for r in bases.indices {
      bases[r].deinitialize(count: counts[r])
      bases[r].deallocate()
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
      let base = UnsafeMutablePointer<PartialMatches>.allocate(capacity: capacity)
      base.moveInitialize(from: bases[r], count: counts[r])
      bases[r].deallocate()
      bases[r] = base
      capacities[r] = capacity
    }
    (bases[r] + counts[r]).initialize(repeating: PartialMatches(), count: count - counts[r])
    counts[r] = count
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
