import TocsinCore

/// Holds events until the watermark passes them, then releases them in `(time, arrival)` order.
///
/// Invariant: every buffered event is later than the watermark it was admitted under (late
/// events are rejected before they get here), so releasing everything `<= watermark` in heap
/// order yields event-time order with arrival order breaking ties.
///
/// Layout: a binary min-heap of 24-byte `(time, sequence, slot)` entries over a slab of payloads
/// with a free list. Sifting moves only the small entries — payloads (an event record and its
/// key ids, ~100 bytes) are written once on insert and moved once on release. Arrivals are
/// nearly sorted (disorder is bounded), so most inserts sift up by zero or one level.
///
/// Prefetching: an event waits in the buffer for the out-of-orderness bound, long enough for its
/// payload and everything it refers to to leave the cache. Each payload carries a small plain
/// `Hint` (addresses, ids) in a parallel array, and ``release(upTo:ahead:_:)`` walks the chain of
/// loads an event will need one link per release, through the events about to leave: the
/// heap's root leaves next, the smaller of its children after it, and the third-smallest is
/// among the next level. So on each release the hints of the root's grandchildren are fetched,
/// the second event's payload is fetched and its hint handed to `ahead` (``Lookahead/second``),
/// the next event's hint is handed over again (``Lookahead/next``) and, once `body` has run,
/// once more (``Lookahead/nextAfterBody``). Each call can read what the previous one asked for,
/// a few microseconds earlier. All of it is cache hints: an insert that overtakes an event
/// costs bandwidth, not correctness.
public struct ReorderBuffer<Payload, Hint> {
  /// How far ahead of use a hint is handed out (see the type's notes).
  public enum Lookahead {
    /// The event after next; its hint was fetched a release earlier.
    case second
    /// The next event, before the current one is processed.
    case next
    /// The next event, after the current one is processed.
    case nextAfterBody
  }

  private struct Entry {
    var time: EventTime
    var sequence: UInt64
    var slot: Int

    /// `(time, sequence)` order, compared as one 128-bit number so that it compiles to a
    /// compare and a subtract-with-borrow, without branches.
    @inline(__always)
    static func precedes(_ a: Entry, _ b: Entry) -> Bool {
      a.orderKey < b.orderKey
    }

    @inline(__always)
    var orderKey: UInt128 {
      UInt128(time.unsignedOrder) << 64 | UInt128(sequence)
    }
  }

  private var heap: [Entry] = []
  private var payloads: [Payload?] = []
  /// `hints[slot]`: the hint given with the payload in `payloads[slot]` (stale for a free slot).
  private var hints: [Hint] = []
  private var freeSlots: [Int] = []

  /// An empty buffer.
  public init() {}

  /// Number of buffered events.
  public var count: Int { heap.count }

  /// Buffers an event. The payload is consumed: it moves into its slot without a copy.
  /// - Complexity: O(log n).
  public mutating func insert(_ payload: consuming Payload, hint: Hint, at position: EventPosition) {
    let slot: Int
    if let free = freeSlots.popLast() {
      slot = free
      payloads[slot] = payload
      hints[slot] = hint
    } else {
      slot = payloads.count
      payloads.append(payload)
      hints.append(hint)
    }
    heap.append(Entry(time: position.time, sequence: position.sequence, slot: slot))
    siftUp(heap.count - 1)
  }

  /// Removes and hands to `body`, in order, every event with `time <= watermark` (as the only
  /// owner, `inout`, so `body` may take parts of it). Around each event, `ahead` gets the hints
  /// of the events expected to leave after it (see the type's notes).
  /// - Complexity: O(k log n) for k released events.
  public mutating func release(
    upTo watermark: EventTime, ahead: (Hint, Lookahead) -> Void, _ body: (inout Payload) -> Void
  ) {
    while let first = heap.first, first.time <= watermark {
      let last = heap.removeLast()
      if !heap.isEmpty {
        replaceRoot(with: last)
        prefetchNext(ahead)
      }
      freeSlots.append(first.slot)
      // swift-format-ignore: NeverForceUnwrap
      // Every slot in the heap holds a payload; it is taken exactly once, here.
      var payload = payloads[first.slot].take().unsafelyUnwrapped
      body(&payload)
      if let next = heap.first { ahead(hints[next.slot], .nextAfterBody) }
    }
  }

  /// The lookahead before an event is processed: the hints of the root's grandchildren to the
  /// cache, the second event's payload to the cache and its hint to `ahead`, then the next
  /// event's hint to `ahead`.
  @inline(__always)
  private func prefetchNext(_ ahead: (Hint, Lookahead) -> Void) {
    heap.withUnsafeBufferPointer { h in
      let n = h.count
      hints.withUnsafeBufferPointer { hints in
        let base = hints.baseAddress.unsafelyUnwrapped
        for i in 3..<max(3, min(7, n)) { MemoryHint.prefetch(base + h[i].slot) }
      }
      if n > 1 {
        let second = n > 2 && Entry.precedes(h[2], h[1]) ? h[2].slot : h[1].slot
        payloads.withUnsafeBufferPointer {
          MemoryHint.prefetch($0.baseAddress.unsafelyUnwrapped + second, bytes: MemoryLayout<Payload?>.stride)
        }
        ahead(hints[second], .second)
      }
      ahead(hints[h[0].slot], .next)
    }
  }

  /// Every buffered payload with its position, in no particular order (for snapshots).
  public func forEach(_ body: (Payload, EventPosition) -> Void) {
    for entry in heap {
      if let payload = payloads[entry.slot] {
        body(payload, EventPosition(time: entry.time, sequence: entry.sequence))
      }
    }
  }

  private mutating func siftUp(_ start: Int) {
    heap.withUnsafeMutableBufferPointer { h in
      var i = start
      let moving = h[i]
      while i > 0 {
        let parent = (i - 1) / 2
        guard Entry.precedes(moving, h[parent]) else { break }
        h[i] = h[parent]
        i = parent
      }
      h[i] = moving
    }
  }

  /// Puts `moving` (the heap's former last entry) in place of the root: Floyd's bottom-up
  /// variant. The hole left by the root goes down to a leaf along the smaller children, one
  /// comparison per level and no test against `moving`, then `moving` rises from there. The
  /// last entry is among the latest events, so it rarely rises more than a level or two: about
  /// half the comparisons of the textbook sift-down, whose two-way test per level also
  /// mispredicted about half the time on nearly random children.
  private mutating func replaceRoot(with moving: Entry) {
    heap.withUnsafeMutableBufferPointer { h in
      let n = h.count
      var i = 0
      // Both children exist: take the smaller (arrival breaks time ties).
      while 2 * i + 2 < n {
        let left = 2 * i + 1
        let child = left &+ (Entry.precedes(h[left + 1], h[left]) ? 1 : 0)
        h[i] = h[child]
        i = child
      }
      // Only a left child.
      if 2 * i + 1 < n {
        h[i] = h[2 * i + 1]
        i = 2 * i + 1
      }
      while i > 0 {
        let parent = (i - 1) / 2
        guard Entry.precedes(moving, h[parent]) else { break }
        h[i] = h[parent]
        i = parent
      }
      h[i] = moving
    }
  }
}
