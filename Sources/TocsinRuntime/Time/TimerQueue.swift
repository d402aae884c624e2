import TocsinCore

/// Deadlines of `within` windows, keyed by rule and key: when the watermark passes one, that
/// key's partial matches are checked for time-outs.
///
/// Entries may be stale (the key rescheduled since); the engine checks the key's
/// ``PartialMatches/scheduledDeadline`` and ignores mismatches. Timers due at one watermark step
/// come out sorted by deadline, then rule, then key, so firing order is deterministic.
///
/// Layout: a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990) with 6-bit digits. The engine only
/// ever asks for "everything due by the watermark", and the watermark never goes back, so the
/// queue is monotone. `last` is the smallest deadline taken out so far (never past the
/// watermark); a timer at or before it waits in the *due* bucket, and any other in the bucket
/// named by the highest 6-bit digit where its deadline differs from `last` and that digit's value
/// (64 buckets per digit position, 11 positions). Scheduling appends to one bucket (O(1),
/// sequential memory). A pop empties the due bucket, or re-spreads the lowest non-empty bucket
/// (found with two trailing-zero counts): its smallest deadline becomes `last`, and each of its
/// timers moves to a bucket of a lower position. A timer therefore moves at most 11 times, and
/// one an hour (2^42 ns) ahead at most 7, where single-bit buckets moved it once per bit level
/// (~0.26k instructions per W1 event). With a binary heap of a million timers (20 rules × 100k
/// keys) every pop sifted through ~20 levels, the lower ones cache misses: 6.4% of the W2 run in
/// `perf`.
///
/// A timer scheduled at or before `last` (the engine schedules only later deadlines, but the
/// queue does not depend on it) goes to the due bucket and fires at the next
/// ``popExpired(upTo:into:)``, which is due anyway: `last` is at or before every time asked for since.
///
/// Memory: the buckets, their minima and the occupancy words are plain memory the queue owns
/// (a class, held by the engine as a constant). As nested arrays inside a value in the engine,
/// every timer placed checked the outer array, its bucket and the minima for uniqueness (a
/// runtime call each), and every pop the due bucket and the caller's list: `perf` put ~1% of a W2
/// replay in those checks under `popExpired` alone.
public final class TimerQueue {
  /// One scheduled deadline.
  public struct Timer: Comparable {
    /// When it fires.
    public var deadline: EventTime
    /// The rule.
    public var rule: Int
    /// The key within the rule's key space.
    public var key: KeyID

    /// A timer for (rule, key) at `deadline`.
    public init(deadline: EventTime, rule: Int, key: KeyID) {
      self.deadline = deadline
      self.rule = rule
      self.key = key
    }

    public static func < (a: Timer, b: Timer) -> Bool {
      if a.deadline != b.deadline { return a.deadline < b.deadline }
      if a.rule != b.rule { return a.rule < b.rule }
      return a.key < b.key
    }
  }

  /// One bucket's timers, unordered: `count` of them at `base`, room for `capacity`.
  private struct Bucket {
    var base: UnsafeMutablePointer<Timer>?
    var count = 0
    var capacity = 0
  }

  /// Bits per digit, digits per key, buckets per digit position.
  private static let digitBits = 6
  private static let positions = (64 + digitBits - 1) / digitBits
  private static let digits = 1 << digitBits
  private static let bucketCount = 1 + positions * digits
  /// `buckets[0]`: due (at or before `last`); `buckets[1 + p·64 + v]`: the timers whose radix key
  /// first differs from `last` in digit position `p`, where it has the value `v`.
  private let buckets: UnsafeMutablePointer<Bucket>
  /// `minimum[b]`: the smallest radix key in `buckets[b]` (`UInt64.max` when empty).
  private let minimum: UnsafeMutablePointer<UInt64>
  /// Bit `v` of `occupied[p]`: `buckets[1 + p·64 + v]` is not empty.
  private let occupied: UnsafeMutablePointer<UInt64>
  /// Bit `p`: `occupied[p]` is not zero.
  private var occupiedPositions: UInt64 = 0
  /// The radix key of the smallest deadline taken out so far (0 before any).
  private var last: UInt64 = 0
  /// The smallest radix key in the queue (`UInt64.max` when empty): the due bucket's minimum,
  /// or else the lowest non-empty bucket's, whose keys are below every other bucket's.
  private var earliest: UInt64 = .max

  /// Whether ``popExpired(upTo:into:)`` sorts the timers it returns (see ``init(sortsDue:)``).
  public let sortsDue: Bool

  /// An empty queue. With `sortsDue` false, timers due together come out in no particular
  /// order (that of their bucket), for timers whose firing order nobody can see: sorting the
  /// rounded timers of W2's quiet rules, hundreds due at once, cost ~290 instructions per
  /// event (`Engine.timerQuantum(for:options:)`).
  public init(sortsDue: Bool = true) {
    self.sortsDue = sortsDue
    buckets = .allocate(capacity: Self.bucketCount)
    buckets.initialize(repeating: Bucket(), count: Self.bucketCount)
    minimum = .allocate(capacity: Self.bucketCount)
    minimum.initialize(repeating: .max, count: Self.bucketCount)
    occupied = .allocate(capacity: Self.positions)
    occupied.initialize(repeating: 0, count: Self.positions)
  }

  deinit {
    for b in 0..<Self.bucketCount { buckets[b].base?.deallocate() }
    buckets.deallocate()
    minimum.deallocate()
    occupied.deallocate()
  }

  /// Number of scheduled (possibly stale) timers.
  public private(set) var count = 0

  /// A timer among the earliest scheduled, without removing it (for cache hints: the first of
  /// the lowest non-empty bucket, not necessarily the earliest).
  public var next: Timer? {
    if buckets[0].count > 0 { return buckets[0].base?.pointee }
    guard let b = lowestBucket else { return nil }
    return buckets[b].base?.pointee
  }

  /// The non-empty bucket of the smallest keys (not counting the due one).
  private var lowestBucket: Int? {
    guard occupiedPositions != 0 else { return nil }
    let p = occupiedPositions.trailingZeroBitCount
    return 1 + (p << Self.digitBits) + occupied[p].trailingZeroBitCount
  }

  /// Schedules a timer.
  /// - Complexity: O(1) amortised.
  public func schedule(_ timer: Timer) {
    place(timer, radix: timer.deadline.unsignedOrder)
    count += 1
  }

  /// Removes every timer with `deadline <= time` and appends them, sorted (unless the queue
  /// does not sort, ``sortsDue``), to `due` (the caller's buffer, kept for its capacity).
  /// `time` must not go back between calls (the engine passes the watermark).
  /// - Complexity: O(k log k) for k timers returned, plus at most 11 moves per timer over its
  ///   lifetime.
  public func popExpired(upTo time: EventTime, into due: inout [Timer]) {
    let limit = time.unsignedOrder
    // Most watermark steps fire nothing: answered without touching a bucket.
    guard limit >= earliest else { return }
    let start = due.count
    while true {
      if buckets[0].count > 0 {
        // Everything here is at or before `last`, which is at or before `limit`.
        due.append(contentsOf: UnsafeBufferPointer(start: buckets[0].base, count: buckets[0].count))
        buckets[0].count = 0
        minimum[0] = .max
        continue
      }
      guard let b = lowestBucket, minimum[b] <= limit else { break }
      respread(b)
    }
    count -= due.count - start
    // Sorted in place through the buffer: `due[start...].sort()` went through a slice, which
    // copied the timers out and back (an allocation per call with two or more due).
    if sortsDue, due.count - start > 1 {
      due.withUnsafeMutableBufferPointer { all in
        var timers = UnsafeMutableBufferPointer(rebasing: all[start...])
        timers.sort()
      }
    }
    // The due bucket is empty here: the lowest bucket holds the smallest keys.
    earliest = lowestBucket.map { minimum[$0] } ?? .max
  }

  /// Whether a timer may be due by `time`: `false` means ``popExpired(upTo:into:)`` would take
  /// none.
  @inline(__always)
  public func mayHaveDue(upTo time: EventTime) -> Bool { time.unsignedOrder >= earliest }

  /// Makes bucket `b`'s smallest key the new `last` and moves each of its timers to the bucket
  /// it belongs to under it: one of a lower digit position, or the due bucket, never `b` (every
  /// key in `b` agrees with the new `last` down to `b`'s digit), so `b`'s timers are read in
  /// place and the bucket keeps its memory for the next round.
  private func respread(_ b: Int) {
    last = minimum[b]
    minimum[b] = .max
    let p = (b - 1) >> Self.digitBits
    occupied[p] &= ~(1 << UInt64((b - 1) & (Self.digits - 1)))
    if occupied[p] == 0 { occupiedPositions &= ~(1 << UInt64(p)) }
    let moving = buckets[b]
    guard let base = moving.base else { return }
    for i in 0..<moving.count {
      let timer = base[i]
      let target = place(timer, radix: timer.deadline.unsignedOrder)
      assert(target != b, "a re-spread timer went back to its bucket")
    }
    buckets[b].count = 0
  }

  /// Appends `timer` to the bucket its radix key belongs to under `last`; returns that bucket.
  @inline(__always)
  @discardableResult
  private func place(_ timer: Timer, radix key: UInt64) -> Int {
    if key < earliest { earliest = key }
    guard key > last else {
      append(timer, to: 0)
      if key < minimum[0] { minimum[0] = key }
      return 0
    }
    let p = (63 - (key ^ last).leadingZeroBitCount) / Self.digitBits
    let v = Int(truncatingIfNeeded: key >> UInt64(p * Self.digitBits)) & (Self.digits - 1)
    let b = 1 + (p << Self.digitBits) + v
    append(timer, to: b)
    if key < minimum[b] { minimum[b] = key }
    occupied[p] |= 1 << UInt64(v)
    occupiedPositions |= 1 << UInt64(p)
    return b
  }

  @inline(__always)
  private func append(_ timer: Timer, to b: Int) {
    if buckets[b].count == buckets[b].capacity { grow(b) }
    // `grow` gave the bucket room, so it has memory.
    buckets[b].base.unsafelyUnwrapped[buckets[b].count] = timer
    buckets[b].count += 1
  }

  /// Doubles bucket `b`'s room (16 timers at first).
  @inline(never)
  private func grow(_ b: Int) {
    let capacity = max(16, 2 * buckets[b].capacity)
    buckets[b].base =
      buckets[b].base?.moved(count: buckets[b].count, toCapacity: capacity) ?? .allocate(capacity: capacity)
    buckets[b].capacity = capacity
  }
}
