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
///
/// Memory: the heap, the payload slab, the hints and the free list are plain memory the buffer
/// owns, grown by doubling. As arrays inside a value held by the engine (a class), every
/// insert and release checked each array it wrote for uniqueness (a runtime call apiece, ~6
/// per event) and kept each payload as an optional. A class, so that the engine reaches it
/// without copying; one owner, one thread.
public final class ReorderBuffer<Payload, Hint> {
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

  /// The heap: `heap[0..<count]`.
  private var heap: UnsafeMutablePointer<Entry>
  /// Buffered events.
  public private(set) var count = 0
  /// `payloads[slot]`: initialised exactly for the slots the heap's entries name.
  private var payloads: UnsafeMutablePointer<Payload>
  /// `hints[slot]`: the hint given with the payload in `payloads[slot]` (stale for a free slot);
  /// initialised for every slot below `slotsUsed`.
  private var hints: UnsafeMutablePointer<Hint>
  /// Slots handed out so far (free or not); the slab's initialised hints.
  private var slotsUsed = 0
  /// `freeSlots[0..<freeCount]`: slots below `slotsUsed` whose payload left.
  private var freeSlots: UnsafeMutablePointer<Int>
  private var freeCount = 0
  /// Room in each of the four (the heap never holds more entries than there are slots).
  private var capacity: Int

  /// An empty buffer.
  public init() {
    capacity = 16
    heap = .allocate(capacity: capacity)
    payloads = .allocate(capacity: capacity)
    hints = .allocate(capacity: capacity)
    freeSlots = .allocate(capacity: capacity)
  }

  deinit {
    for i in 0..<count { (payloads + heap[i].slot).deinitialize(count: 1) }
    hints.deinitialize(count: slotsUsed)
    heap.deallocate()
    payloads.deallocate()
    hints.deallocate()
    freeSlots.deallocate()
  }

  /// Doubles the room of all four; the payloads that are initialised move bitwise.
  @inline(never)
  private func grow() {
    let newCapacity = capacity * 2
    // The payloads lie in the heap's slots, not in a prefix: each moves on its own.
    let newPayloads = UnsafeMutablePointer<Payload>.allocate(capacity: newCapacity)
    for i in 0..<count {
      let slot = heap[i].slot
      (newPayloads + slot).moveInitialize(from: payloads + slot, count: 1)
    }
    payloads.deallocate()
    payloads = newPayloads
    heap = heap.moved(count: count, toCapacity: newCapacity)
    hints = hints.moved(count: slotsUsed, toCapacity: newCapacity)
    freeSlots = freeSlots.moved(count: freeCount, toCapacity: newCapacity)
    capacity = newCapacity
  }

  /// Buffers an event. The payload is consumed: it moves into its slot without a copy.
  /// - Complexity: O(log n).
  public func insert(_ payload: consuming Payload, hint: Hint, at position: EventPosition) {
    let slot: Int
    if freeCount > 0 {
      freeCount -= 1
      slot = freeSlots[freeCount]
      hints[slot] = hint
    } else {
      if slotsUsed == capacity { grow() }
      slot = slotsUsed
      slotsUsed += 1
      (hints + slot).initialize(to: hint)
    }
    (payloads + slot).initialize(to: payload)
    heap[count] = Entry(time: position.time, sequence: position.sequence, slot: slot)
    count += 1
    siftUp(count - 1)
  }

  /// Removes and hands to `body`, in order, every event with `time <= watermark` (as the only
  /// owner, `inout`, so `body` may take parts of it). Around each event, `ahead` gets the hints
  /// of the events expected to leave after it (see the type's notes).
  /// - Complexity: O(k log n) for k released events.
  public func release(
    upTo watermark: EventTime, ahead: (Hint, Lookahead) -> Void, _ body: (inout Payload) -> Void
  ) {
    while count > 0, heap[0].time <= watermark {
      let first = heap[0]
      count -= 1
      if count > 0 {
        replaceRoot(with: heap[count])
        prefetchNext(ahead)
      }
      freeSlots[freeCount] = first.slot
      freeCount += 1
      // Every slot in the heap holds a payload; it is moved out exactly once, here.
      var payload = (payloads + first.slot).move()
      body(&payload)
      if count > 0 { ahead(hints[heap[0].slot], .nextAfterBody) }
    }
  }

  /// The lookahead before an event is processed: the hints of the root's grandchildren to the
  /// cache, the second event's payload to the cache and its hint to `ahead`, then the next
  /// event's hint to `ahead`.
  @inline(__always)
  private func prefetchNext(_ ahead: (Hint, Lookahead) -> Void) {
    let n = count
    for i in 3..<max(3, min(7, n)) { MemoryHint.prefetch(hints + heap[i].slot) }
    if n > 1 {
      let second = n > 2 && Entry.precedes(heap[2], heap[1]) ? heap[2].slot : heap[1].slot
      MemoryHint.prefetch(payloads + second, bytes: MemoryLayout<Payload>.stride)
      ahead(hints[second], .second)
    }
    ahead(hints[heap[0].slot], .next)
  }

  /// Every buffered payload with its position, in no particular order (for snapshots).
  public func forEach(_ body: (Payload, EventPosition) -> Void) {
    for i in 0..<count {
      let entry = heap[i]
      body(payloads[entry.slot], EventPosition(time: entry.time, sequence: entry.sequence))
    }
  }

  private func siftUp(_ start: Int) { rise(heap[start], from: start) }

  /// Puts `moving` at the hole `start` or above it: parents that `moving` precedes move down.
  @inline(__always)
  private func rise(_ moving: Entry, from start: Int) {
    let h = heap
    var i = start
    while i > 0 {
      let parent = (i - 1) / 2
      guard Entry.precedes(moving, h[parent]) else { break }
      h[i] = h[parent]
      i = parent
    }
    h[i] = moving
  }

  /// Puts `moving` (the heap's former last entry) in place of the root: Floyd's bottom-up
  /// variant. The hole left by the root goes down to a leaf along the smaller children, one
  /// comparison per level and no test against `moving`, then `moving` rises from there. The
  /// last entry is among the latest events, so it rarely rises more than a level or two: about
  /// half the comparisons of the textbook sift-down, whose two-way test per level also
  /// mispredicted about half the time on nearly random children.
  private func replaceRoot(with moving: Entry) {
    let h = heap
    let n = count
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
    rise(moving, from: i)
  }
}
