import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// The position of an event in event-time order: `(time, arrival sequence)`.
///
/// Flink's `EventId(timestamp, counter)`. Skip strategies compare these to decide which partial
/// matches a match overlaps.
public struct EventPosition: Hashable, Comparable, Sendable {
  /// The event time.
  public var time: EventTime
  /// The arrival sequence number, breaking ties between equal times.
  public var sequence: UInt64

  /// The position `(time, sequence)`.
  public init(time: EventTime, sequence: UInt64) {
    self.time = time
    self.sequence = sequence
  }

  /// The position of `event`.
  public init(_ event: EventRecord) {
    time = event.time
    sequence = event.sequence
  }

  public static func < (lhs: EventPosition, rhs: EventPosition) -> Bool {
    lhs.time != rhs.time ? lhs.time < rhs.time : lhs.sequence < rhs.sequence
  }
}

/// One partial match (Flink's `ComputationState`): where it is in the automaton, the events it
/// has bound so far, and when it started.
public struct Computation {
  /// The automaton state it waits in.
  public var state: StateID
  /// The most recent bound event; the chain back is the whole match so far. Replaced only
  /// through ``rebind(_:)``, which keeps ``lastTime`` with it (and retired in place).
  public internal(set) var bindings: MatchNode
  /// The first event's position; `within` and skip strategies are measured from it.
  public var start: EventPosition
  /// The time of the most recently bound event (`bindings.event.time`), kept beside the
  /// reference so that `within … between steps` deadlines are read from the computation
  /// itself: read through the node, they cost a cache miss per partial match each time a
  /// key's earliest deadline was asked for (`w2_merchant_hopping`: 52 of its ~390 ns/event).
  public private(set) var lastTime: EventTime
  /// ``absenceDeadline``'s nanoseconds, `Int64.min` for none: an optional time took 9 bytes,
  /// and with ``lastTime`` the computation would have grown from 48 bytes to 56.
  private var absenceNanoseconds = Int64.min

  /// For a match completed by absence (a trailing `not_followed_by` whose window closed), the
  /// window's end; `nil` otherwise. (A deadline is a start time plus a window, never the
  /// earliest representable time, which stands for `nil`.)
  public var absenceDeadline: EventTime? {
    get { absenceNanoseconds == .min ? nil : EventTime(nanosecondsSinceEpoch: absenceNanoseconds) }
    set {
      assert(newValue != .negativeInfinity, "an absence deadline at the earliest time reads as none")
      absenceNanoseconds = newValue?.nanosecondsSinceEpoch ?? .min
    }
  }

  /// Creates a computation.
  public init(state: StateID, bindings: MatchNode, start: EventPosition) {
    self.state = state
    self.bindings = bindings
    self.start = start
    self.lastTime = bindings.event.time
  }

  /// A computation binding `node` alone, an event at `start` (`node`'s own event, whose time is
  /// not read again: the node may be out of the cache).
  init(state: StateID, loneNode node: consuming MatchNode, start: EventPosition) {
    self.state = state
    self.bindings = node
    self.start = start
    self.lastTime = start.time
  }

  /// Replaces the bindings with `node`.
  mutating func rebind(_ node: MatchNode) {
    bindings = node
    lastTime = node.event.time
  }

  /// The position of the most recently bound event.
  public var last: EventPosition { EventPosition(bindings.event) }
}

/// The matching state of one rule for one key.
///
/// Invariant: `partials` and `completed` are sorted by `start` (stable for equal starts), which
/// holds by construction because new partial matches start at the newest event.
/// The start computation (waiting in the start state with nothing bound) is implicit: it exists
/// for every key and is never stored.
public struct PartialMatches {
  /// Open partial matches, earliest start first.
  public var partials: [Computation] = []
  /// Complete matches held back by a skip strategy until no earlier partial match could still
  /// produce an earlier match (Flink's `completedMatches`). Always empty with `no_skip`.
  public var completed: [Computation] = []
  /// The deadline of the timer currently scheduled for this key, if any.
  public var scheduledDeadline: EventTime?
  /// Whether every partial match waits in a state an event no step can use leaves unchanged
  /// (``RuleMatcher/isSettled(_:)``), as of the last event processed. Removing partial matches
  /// (timeouts, state limits) keeps it true; only ``RuleMatcher/process`` sets it.
  public var isSettled = true
  /// Whether the key's start waits in its rule's start queue (Engine+StartQueues.swift), and the
  /// low 32 bits of its entry number there (``StartQueue/number(low:)``). A key has a queued start or general state,
  /// never both; kept here, in the slot the release loop fetches ahead anyway, not in a record
  /// of the queue's (a cache miss of its own per rule and event), and in what was padding.
  var hasQueuedStart = false
  var queuedStart: UInt32 = 0

  /// An empty state.
  public init() {}

  /// Whether nothing is open or held: the key's state can be dropped.
  public var isEmpty: Bool { partials.isEmpty && completed.isEmpty }

  /// The earliest start among stored computations.
  public var earliestStart: EventPosition? {
    switch (partials.first?.start, completed.first?.start) {
    case (let a?, let b?): return min(a, b)
    case (let a?, nil): return a
    case (nil, let b?): return b
    case (nil, nil): return nil
    }
  }

  #if TOCSIN_INTERNAL_CHECKS
    /// Verifies the sort invariant.
    public func _checkInvariants() {
      for list in [partials, completed] where list.count > 1 {
        for i in 1..<list.count {
          precondition(list[i - 1].start <= list[i].start, "partial matches out of start order")
        }
      }
    }
  #else
    /// No-op without `TOCSIN_INTERNAL_CHECKS`.
    @inline(__always) public func _checkInvariants() {}
  #endif
}

extension Array where Element == Computation {
  /// Starts loading the newest node of every partial match (a cache hint). Issued together
  /// before a key's partial matches are walked, the misses overlap; taken one by one, each
  /// reference count update waits for its node's line before the next can start.
  ///
  /// The references are read as bit patterns, so no reference count is touched.
  @inline(__always)
  func prefetchNodes() {
    guard count > 0 else { return }
    withUnsafeBytes { raw in
      let stride = MemoryLayout<Computation>.stride
      var offset = Computation.bindingsOffset
      while offset < raw.count {
        if let node = UnsafeRawPointer(bitPattern: raw.load(fromByteOffset: offset, as: UInt.self)) {
          MemoryHint.prefetch(node)
        }
        offset &+= stride
      }
    }
  }
}

extension Computation {
  /// Where ``bindings`` (one reference) lies in a computation. Computed, not stored: a stored
  /// `static let` is read through `swift_once`, a call per use.
  static var bindingsOffset: Int {
    // swift-format-ignore: NeverForceUnwrap
    // A stored property of a struct always has an offset.
    MemoryLayout<Computation>.offset(of: \Computation.bindings)!
  }
}
