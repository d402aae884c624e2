import HeapModule
import TocsinCore

/// Deadlines of `within` windows, keyed by rule and key: when the watermark passes one, that
/// key's partial matches are checked for time-outs.
///
/// Entries may be stale (the key rescheduled since); the engine checks the key's
/// ``PartialMatches/scheduledDeadline`` and ignores mismatches. Ties are broken by rule then key
/// so firing order is deterministic.
public struct TimerQueue {
  /// One scheduled deadline.
  public struct Timer: Comparable {
    /// When it fires.
    public var deadline: EventTime
    /// The rule.
    public var rule: Int
    /// The key within the rule's key space.
    public var key: KeyID

    public static func < (a: Timer, b: Timer) -> Bool {
      if a.deadline != b.deadline { return a.deadline < b.deadline }
      if a.rule != b.rule { return a.rule < b.rule }
      return a.key < b.key
    }
  }

  private var heap = Heap<Timer>()

  /// An empty queue.
  public init() {}

  /// Number of scheduled (possibly stale) timers.
  public var count: Int { heap.count }

  /// The earliest timer, without removing it.
  public var next: Timer? { heap.min }

  /// Schedules a timer.
  /// - Complexity: O(log n).
  public mutating func schedule(_ timer: Timer) { heap.insert(timer) }

  /// Removes and returns, earliest first, every timer with `deadline <= time`.
  public mutating func popExpired(upTo time: EventTime, _ body: (Timer) -> Void) {
    while let min = heap.min, min.deadline <= time { body(heap.removeMin()) }
  }
}
