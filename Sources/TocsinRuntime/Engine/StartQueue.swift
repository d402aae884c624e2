import TocsinAutomaton
import TocsinCore
import TocsinExpressions

/// One rule's lone starts over all its keys (Engine+StartQueues.swift): for each key that has
/// one, the partial match that has bound only its first event, as its match node, start and key,
/// in the order they started. A key has at most one; its state slot says which
/// (``PartialMatches/queuedStart``).
///
/// Every entry has the same window (``window``) and entries are pushed in event-time order, so
/// they time out from the head. An entry taken back for the general state stays in the ring,
/// without its node, until the head passes it. Entries are 32 bytes (a node reference, the
/// start, the key id) in a ring that doubles.
///
/// Plain memory the queue owns (a class, one owner, one thread), like ``RunQueue``.
final class StartQueue {
  struct Entry {
    /// The partial match's one node; `nil` once taken back.
    var node: MatchNode?
    var start: EventPosition
    var key: UInt32
  }

  /// How long a lone start stays open (``RuleMatcher/shortestWindow``: its last event is its first).
  let window: EventDuration
  /// The state every lone start waits in (``RuleMatcher/loneStartState``).
  let waiting: StateID
  private var entries: UnsafeMutablePointer<Entry>
  private var mask: UInt64
  private(set) var head: UInt64 = 0
  private(set) var tail: UInt64 = 0
  /// Live entries: the rule's partial matches held here.
  private(set) var live = 0

  init(window: EventDuration, waiting: StateID) {
    self.window = window
    self.waiting = waiting
    mask = 255
    entries = .allocate(capacity: 256)
  }

  deinit {
    var s = head
    while s < tail {
      (entries + Int(s & mask)).deinitialize(count: 1)
      s &+= 1
    }
    entries.deallocate()
  }

  /// The number of the queued entry whose number's low 32 bits are `low` (every queued number is
  /// among the last 2³² pushed: the ring holds fewer).
  @inline(__always)
  func number(low: UInt32) -> UInt64 { tail &- UInt64(UInt32(truncatingIfNeeded: tail) &- low) }

  /// Where entry `s` lies (for cache hints).
  @inline(__always)
  func address(of s: UInt64) -> UnsafeMutablePointer<Entry> { entries + Int(s & mask) }

  /// Queues the lone start of key `k` started at `start`, the newest so far; returns its number.
  @inline(__always)
  func push(_ node: consuming MatchNode, start: EventPosition, key k: Int) -> UInt64 {
    if tail &- head > mask { grow() }
    (entries + Int(tail & mask)).initialize(to: Entry(node: node, start: start, key: UInt32(truncatingIfNeeded: k)))
    tail &+= 1
    live += 1
    return tail &- 1
  }

  /// Takes live entry `s` out as the general state's partial match waiting in ``waiting``; the
  /// entry stays queued, empty, until the head passes it. The node moves from the entry into
  /// the computation: the node was bound a window ago and is out of the cache, and a copy
  /// retained it (an atomic update of its line, then a release of the entry's reference: 2.7%
  /// of W2's samples).
  @inline(__always)
  func take(_ s: UInt64) -> Computation {
    let e = address(of: s)
    live -= 1
    // swift-format-ignore: NeverForceUnwrap
    // A live entry has its node.
    return Computation(state: waiting, loneNode: e.pointee.node.take()!, start: e.pointee.start)
  }

  /// Whether the head's window has closed by `now` (``popExpired(upTo:ahead:expired:)`` would
  /// pop something).
  @inline(__always)
  func hasExpired(upTo now: EventTime) -> Bool {
    head < tail && address(of: head).pointee.start.time + window <= now
  }

  /// Times out every lone start whose window has closed by `now` (`start + window <= now`, as
  /// ``RuleMatcher/isTimedOut(_:at:)``), handing each one's key and node to `expired`. Each
  /// pop first hands `ahead` the key of the entry 8 places on (written a window ago), for a
  /// cache hint.
  @inline(__always)
  func popExpired(upTo now: EventTime, ahead: (Int) -> Void, expired: (Int, inout MatchNode) -> Void) {
    while hasExpired(upTo: now) {
      let e = address(of: head)
      let next = head &+ 8
      if next < tail { ahead(Int(address(of: next).pointee.key)) }
      // The ring was written a window ago: its line 8 entries past `next` is asked for now, so
      // that reading `next`'s key then waits for nothing.
      if next &+ 8 < tail { MemoryHint.prefetch(address(of: next &+ 8)) }
      if var node = e.pointee.node.take() {
        live -= 1
        expired(Int(e.pointee.key), &node)
      }
      e.deinitialize(count: 1)
      head &+= 1
    }
  }

  /// Calls `body` with each live lone start's key, node and start, oldest first.
  func forEachLive(_ body: (Int, MatchNode, EventPosition) -> Void) {
    var s = head
    while s < tail {
      let e = address(of: s)
      if let node = e.pointee.node { body(Int(e.pointee.key), node, e.pointee.start) }
      s &+= 1
    }
  }

  /// Doubles the ring, keeping every entry's number (entry `s` moves from `s & mask` to
  /// `s & grownMask`).
  @inline(never)
  private func grow() {
    let capacity = Int(mask + 1)
    let grownMask = mask << 1 | 1
    let grown = UnsafeMutablePointer<Entry>.allocate(capacity: 2 * capacity)
    var s = head
    while s < tail {
      (grown + Int(s & grownMask)).moveInitialize(from: entries + Int(s & mask), count: 1)
      s &+= 1
    }
    entries.deallocate()
    entries = grown
    mask = grownMask
  }
}
