import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// One rule's lone starts over all its keys (Engine+StartQueues.swift): for each key that has
/// one, the partial match that has bound only its first event, as that event (bound as its node
/// would bind it), its time and key, in the order they started. A key has at most one; its state
/// slot says which (``PartialMatches/queuedStart``).
///
/// Every entry has the same window (``window``) and entries are pushed in event-time order, so
/// they time out from the head. An entry taken back for the general state stays in the ring,
/// without its event, until the head passes it. Entries are 64 bytes, one cache line each (the
/// time, the key id, the event), in a ring that doubles.
///
/// The entry holds the event itself, not a match node: the node is made when the start is taken
/// back (``take(_:into:)``), from the rule's pool. A lone start that times out untaken (the
/// case start queues are for) held as a node cost a node made (an allocation while the pool is
/// empty), a second line to fetch when it timed out a window later, and the node's trip through
/// the pool's retire ring.
///
/// Plain memory the queue owns (a class, one owner, one thread), like ``RunQueue``.
final class StartQueue {
  struct Entry {
    /// The start's event time (the entry's, kept when the event is taken back).
    var time: EventTime
    var key: UInt32
    /// The start's event as its node binds it (``RuleMatcher/binding(_:step:)``); `nil` once
    /// taken back.
    var event: EventRecord?
  }

  /// How long a lone start stays open (``RuleMatcher/shortestWindow``: its last event is its first).
  let window: EventDuration
  /// The state every lone start waits in (``RuleMatcher/loneStartState``).
  let waiting: StateID
  private var entries: UnsafeMutablePointer<Entry>
  private var mask: UInt64
  private(set) var head: UInt64 = 0
  private(set) var tail: UInt64 = 0
  /// This queue's time in the engine's ``TimeOutFloor``, lowered by a push into the empty
  /// queue; ``TimeOutFloor/Cell/none`` for a queue on its own.
  var timeOutFloor = TimeOutFloor.Cell.none
  /// Live entries: the rule's partial matches held here.
  private(set) var live = 0

  init(window: EventDuration, waiting: StateID) {
    self.window = window
    self.waiting = waiting
    assert(MemoryLayout<Entry>.stride == 64, "a start queue entry is one cache line")
    mask = 255
    entries = Self.allocateRing(capacity: 256)
  }

  deinit {
    var s = head
    while s < tail {
      (entries + Int(s & mask)).deinitialize(count: 1)
      s &+= 1
    }
    Self.deallocateRing(entries, capacity: Int(mask + 1))
  }

  /// A ring of `capacity` entries, each on a cache line of its own.
  private static func allocateRing(capacity: Int) -> UnsafeMutablePointer<Entry> {
    HugePages.allocate(byteCount: capacity * MemoryLayout<Entry>.stride, alignment: 64)
      .bindMemory(to: Entry.self, capacity: capacity)
  }

  /// Frees a ring from ``allocateRing(capacity:)`` (its entries deinitialised or moved out).
  private static func deallocateRing(_ entries: UnsafeMutablePointer<Entry>, capacity: Int) {
    HugePages.deallocate(UnsafeMutableRawPointer(entries), byteCount: capacity * MemoryLayout<Entry>.stride)
  }

  /// The number of the queued entry whose number's low 32 bits are `low` (every queued number is
  /// among the last 2³² pushed: the ring holds fewer).
  @inline(__always)
  func number(low: UInt32) -> UInt64 { tail &- UInt64(UInt32(truncatingIfNeeded: tail) &- low) }

  /// Where entry `s` lies (for cache hints).
  @inline(__always)
  func address(of s: UInt64) -> UnsafeMutablePointer<Entry> { entries + Int(s & mask) }

  /// Queues the lone start of key `k` on `event` (bound as its node would bind it), the newest so
  /// far; returns its number.
  @inline(__always)
  func push(_ event: consuming EventRecord, key k: Int) -> UInt64 {
    if tail &- head > mask { grow() }
    let time = event.time
    // The entry 8 pushes on was last written a lap of the ring ago, and in a long ring (W2's
    // `merchant_hopping`: ten minutes of starts, over a megabyte) it has left the cache: a store
    // to it would wait in the store buffer, and the next retain or release (a locked
    // instruction) waits for the store buffer to drain (docs/performance.md, session 38).
    // Fetched now, it is there in time.
    MemoryHint.prefetch(entries + Int((tail &+ 8) & mask))
    (entries + Int(tail & mask)).initialize(to: Entry(time: time, key: UInt32(truncatingIfNeeded: k), event: event))
    // The head's time-out is the queue's earliest (entries come in time order): only a first
    // entry can lower the floor.
    if tail == head { timeOutFloor.lower(to: time + window) }
    tail &+= 1
    live += 1
    return tail &- 1
  }

  /// Takes live entry `s` out as the general state's partial match waiting in ``waiting``, its
  /// node made from `nodes`; the entry stays queued, empty, until the head passes it. The event
  /// moves from the entry into the node (no reference count touched: the event's buffer was
  /// bound a window ago and is out of the cache).
  @inline(__always)
  func take(_ s: UInt64, into nodes: MatchNodePool) -> Computation {
    let e = address(of: s)
    live -= 1
    // swift-format-ignore: NeverForceUnwrap
    // A live entry has its event.
    let event = e.pointee.event.take()!
    let start = EventPosition(event)
    return Computation(state: waiting, loneNode: nodes.make(step: 0, event: event, previous: nil), start: start)
  }

  /// When the head entry times out; ``EventTime/infinity`` when the queue is empty.
  var headTimeOut: EventTime { head < tail ? address(of: head).pointee.time + window : .infinity }

  /// Whether the head's window has closed by `now` (``popExpired(upTo:ahead:expired:)`` would
  /// pop something).
  @inline(__always)
  func hasExpired(upTo now: EventTime) -> Bool {
    head < tail && address(of: head).pointee.time + window <= now
  }

  /// Times out every lone start whose window has closed by `now` (`start + window <= now`, as
  /// ``RuleMatcher/isTimedOut(_:at:)``), handing each one's key and event to `expired`. Each
  /// pop first hands `ahead` the key of the entry 8 places on (written a window ago), for a
  /// cache hint, and fetches that entry's event buffer, which `expired` will release.
  @inline(__always)
  func popExpired(upTo now: EventTime, ahead: (Int) -> Void, expired: (Int, inout EventRecord) -> Void) {
    while hasExpired(upTo: now) {
      let e = address(of: head)
      let next = head &+ 8
      if next < tail {
        let n = address(of: next)
        ahead(Int(n.pointee.key))
        let event = UnsafeRawPointer(n) + (MemoryLayout<Entry>.offset(of: \Entry.event) ?? 0)
        EventRecord.prefetchSlots(ofRecordAt: event)
      }
      // The ring was written a window ago: the entry 8 past `next` (a line of its own) is asked
      // for now, so that reading `next` then waits for nothing.
      if next &+ 8 < tail { MemoryHint.prefetch(address(of: next &+ 8)) }
      if var event = e.pointee.event.take() {
        live -= 1
        expired(Int(e.pointee.key), &event)
      }
      e.deinitialize(count: 1)
      head &+= 1
    }
  }

  /// Calls `body` with each live lone start's key and event, oldest first.
  func forEachLive(_ body: (Int, EventRecord) -> Void) {
    var s = head
    while s < tail {
      let e = address(of: s)
      if let event = e.pointee.event { body(Int(e.pointee.key), event) }
      s &+= 1
    }
  }

  /// Doubles the ring where it is, keeping every entry's number
  /// (``HugePages/doubleRing(_:capacity:width:queued:)``, as ``RunQueue``'s ring). A new ring for
  /// each doubling faulted and zeroed every page of it again: 2.7% of a W2 replay's samples, in
  /// the kernel.
  @inline(never)
  private func grow() {
    entries = HugePages.doubleRing(entries, capacity: Int(mask + 1), queued: head..<tail)
    mask = mask << 1 | 1
  }
}
