import TocsinCore

/// Deadlines of `within` windows, keyed by rule and key: when the watermark passes one, that
/// key's partial matches are checked for time-outs.
///
/// Entries may be stale (the key rescheduled since); the engine checks the key's
/// ``PartialMatches/scheduledDeadline`` and ignores mismatches. Timers due at one watermark step
/// come out sorted by deadline, then rule, then key, so firing order is deterministic.
///
/// Layout: a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan 1990). The engine only ever asks for
/// "everything due by the watermark", and the watermark never goes back, so the queue is
/// monotone: bucket `b > 0` holds the timers whose deadline first differs from `last` (the
/// smallest deadline taken out so far, never past the watermark) in bit `b − 1`, and bucket 0
/// those at or before `last`. Scheduling appends to one bucket (O(1), sequential memory). A pop
/// empties bucket 0, or re-spreads the lowest non-empty bucket below it, each timer moving to a
/// lower bucket at most 64 times in all. With a binary heap of a million timers (20 rules ×
/// 100k keys) every pop sifted through ~20 levels, the lower ones cache misses: 6.4% of the W2
/// run in `perf`.
///
/// A timer scheduled at or before `last` (the engine schedules only later deadlines, but the
/// queue does not depend on it) goes to bucket 0 and fires at the next ``popExpired(upTo:_:)``,
/// which is due anyway: `last` is at or before every time asked for since.
public struct TimerQueue {
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

  /// `buckets[b]`: the timers whose radix key first differs from `last` in bit `b − 1`.
  private var buckets = [[Timer]](repeating: [], count: 65)
  /// `minimum[b]`: the smallest radix key in `buckets[b]` (`UInt64.max` when empty).
  private var minimum = [UInt64](repeating: .max, count: 65)
  /// Bit `b − 1` set when `buckets[b]` (b ≥ 1) is not empty.
  private var occupied: UInt64 = 0
  /// The radix key of the smallest deadline taken out so far (0 before any).
  private var last: UInt64 = 0
  /// Reused for each pop's batch.
  private var due: [Timer] = []

  /// An empty queue.
  public init() {}

  /// Number of scheduled (possibly stale) timers.
  public private(set) var count = 0

  /// A timer among the earliest scheduled, without removing it (for cache hints: the first of
  /// the lowest non-empty bucket, not necessarily the earliest).
  public var next: Timer? {
    if let first = buckets[0].first { return first }
    guard occupied != 0 else { return nil }
    return buckets[occupied.trailingZeroBitCount + 1].first
  }

  /// Schedules a timer.
  /// - Complexity: O(1) amortised.
  public mutating func schedule(_ timer: Timer) {
    place(timer, radix: Self.radix(timer.deadline))
    count += 1
  }

  /// Removes and returns, sorted, every timer with `deadline <= time`. `time` must not go back
  /// between calls (the engine passes the watermark).
  /// - Complexity: O(k log k) for k timers returned, plus O(64) amortised re-spreading per timer
  ///   over its lifetime.
  public mutating func popExpired(upTo time: EventTime, _ body: (Timer) -> Void) {
    let limit = Self.radix(time)
    var batch = due
    due = []
    batch.removeAll(keepingCapacity: true)
    while true {
      if !buckets[0].isEmpty {
        // Everything here is at or before `last`, which is at or before `limit`.
        batch.append(contentsOf: buckets[0])
        buckets[0].removeAll(keepingCapacity: true)
        minimum[0] = .max
        continue
      }
      guard occupied != 0 else { break }
      let b = occupied.trailingZeroBitCount + 1
      guard minimum[b] <= limit else { break }
      respread(b)
    }
    count -= batch.count
    if batch.count > 1 { batch.sort() }
    for timer in batch { body(timer) }
    due = batch
  }

  /// Makes bucket `b`'s smallest key the new `last` and moves each of its timers to the bucket
  /// it belongs to under it (always a lower one).
  private mutating func respread(_ b: Int) {
    last = minimum[b]
    var moving: [Timer] = []
    swap(&moving, &buckets[b])
    minimum[b] = .max
    occupied &= ~(1 << UInt64(b - 1))
    for timer in moving { place(timer, radix: Self.radix(timer.deadline)) }
    moving.removeAll(keepingCapacity: true)
    swap(&moving, &buckets[b])  // keep the bucket's capacity for the next round
  }

  @inline(__always)
  private mutating func place(_ timer: Timer, radix key: UInt64) {
    let b = key <= last ? 0 : 64 - (key ^ last).leadingZeroBitCount
    buckets[b].append(timer)
    if key < minimum[b] { minimum[b] = key }
    if b > 0 { occupied |= 1 << UInt64(b - 1) }
  }

  /// The deadline as an unsigned key with the same order.
  @inline(__always)
  private static func radix(_ time: EventTime) -> UInt64 {
    UInt64(bitPattern: time.nanosecondsSinceEpoch) ^ (1 << 63)
  }
}
