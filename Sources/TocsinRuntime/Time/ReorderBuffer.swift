import TocsinCore

/// Holds events until the watermark passes them, then releases them in `(time, arrival)` order.
///
/// Invariant: every buffered event is later than the watermark it was admitted under (late
/// events are rejected before they get here), so releasing everything `<= watermark` in order
/// yields event-time order with arrival order breaking ties. (The buffer stays correct without
/// it, only slower: see *Layout*.)
///
/// Layout: a calendar queue (Brown 1988) in front of a sorted run and a small binary heap, over
/// a slab of payloads with a free list. Event time is cut into buckets of `2^shift` ns, sized
/// from the out-of-orderness bound so that a ring of ``ringSize`` buckets spans at least twice
/// the time the buffer holds. An arriving event is put on its bucket's list in O(1), unordered,
/// and the bucket's bit is set in an occupancy bitmap. The release loop *drains* the next
/// non-empty bucket whenever the run holds fewer than ``runFloor`` events: the bucket's events
/// are put in order (its list holds them newest first, so a bucket that arrived in order is
/// only reversed) and appended to the run, after all of its events, which come from earlier
/// buckets. So the few events that leave next, and their order, are known for the lookahead.
/// An arrival in a drained bucket (just after the watermark), or outside the ring's span
/// (further ahead than the bound allows), goes to the heap; the next event to leave is the
/// earlier of the run's first and the heap's root.
///
/// Why it is correct: every event in the calendar lies in a bucket at or after `front`, the
/// first bucket not drained, and every event of an earlier bucket is in the run or the heap,
/// each in order. So the earlier of their first events precedes everything in the calendar
/// when it is from a bucket before `front`, and it leaves when the watermark has passed it. One
/// from `front` on (a heap arrival beyond the ring's span) may not: the next bucket is drained
/// first. Past the last bucket of time the ring goes on with bucket 0, whose events precede
/// the run's: from then on (``frontWrapped``) such a bucket goes to the heap, and the run's
/// first event is checked against `front` too. Nothing depends on the out-of-orderness bound
/// being kept; a stream that breaks it only costs heap operations.
///
/// Cost: the heap of 24-byte `(time, sequence, slot)` entries that held the whole buffer (~500
/// events in W1, nine levels) cost ~555 instructions per event; a heap of a few events, an
/// append to a bucket list and a bitmap search cost ~410 (cachegrind, W1). With the heap in
/// front of the calendar, the buffer's own code (its lines wherever they were inlined) took
/// 340 of W1's instructions per event; with the run, the next parked bucket kept rather than
/// searched for twice per drain, and `insert` inlined into its caller, 243 (callgrind, 300k
/// events; docs/performance.md, session 42). Sorting moves only the small entries: payloads (the
/// engine's, an event record and its key ids, are 64 bytes, one line of the aligned slab) are
/// written once on insert and moved once on release.
///
/// Prefetching: an event waits in the buffer for the out-of-orderness bound, long enough for its
/// payload and everything it refers to to leave the cache. Each payload carries a small plain
/// `Hint` (addresses, ids) in a parallel array, and ``release(upTo:ahead:_:)`` walks the chain of
/// loads an event will need one link per release, through the events about to leave, the run's
/// first three: on each release the third event's hint is fetched, the second event's payload
/// is fetched and its hint handed to `ahead` (``Lookahead/second``), and the next event's hint
/// is handed over again (``Lookahead/next``). Each call can read what the previous one asked
/// for, a few microseconds earlier. (A third hand-over after `body`, for the partial matches the
/// state slots point to, bought nothing measurable on W1, W2 or W5 and cost ~120 instructions
/// per W1 event: docs/performance.md, session 37.) The calendar's own lines go cold too: when a
/// bucket drains, the next occupied bucket's first entry, link and hint are fetched, an event's
/// processing before the next drain reads them. All of it is cache hints: an insert that
/// overtakes an event costs bandwidth, not correctness.
///
/// Memory: the run, the heap, the payload slab, the hints, the bucket lists and the free list
/// are plain memory the buffer owns, grown by doubling. As arrays inside a value held by the
/// engine (a class), every insert and release checked each array it wrote for uniqueness (a
/// runtime call apiece, ~6 per event) and kept each payload as an optional. A class, so that
/// the engine reaches it without copying; one owner, one thread.
public final class ReorderBuffer<Payload, Hint> {
  /// How far ahead of use a hint is handed out (see the type's notes).
  public enum Lookahead {
    /// The event after next; its hint was fetched a release earlier.
    case second
    /// The next event, before the current one is processed.
    case next
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

  /// Buckets in the calendar's ring (a power of two).
  static var ringSize: Int { 4096 }
  /// The run is refilled from the calendar until it holds this many events (or the calendar
  /// is empty): the next event, the second and the third, for the lookahead.
  static var runFloor: Int { 3 }
  /// A drained bucket of at most this many events is put in order by insertion (its list
  /// holds them in reverse arrival order, so a bucket that arrived in order is reversed and
  /// done); a longer one is sorted.
  private static var insertionSortLimit: Int { 32 }
  /// No slot number reaches this (bucket lists link slots as `Int32`).
  private static var slotLimit: Int { Int(Int32.max) }

  /// The run: `run[runStart..<runEnd]`, the drained buckets' events in order.
  private var run: UnsafeMutablePointer<Entry>
  private var runStart = 0
  private var runEnd = 0
  /// The heap: `heap[0..<heapCount]`, the events that arrived outside the calendar.
  private var heap: UnsafeMutablePointer<Entry>
  private var heapCount = 0
  /// Buffered events: in the run, the heap and the calendar.
  public var count: Int { runEnd - runStart + heapCount + parkedCount }
  /// `payloads[slot]`: initialised exactly for the slots the run's and the heap's entries and the
  /// bucket lists name.
  private var payloads: UnsafeMutablePointer<Payload>
  /// `hints[slot]`: the hint given with the payload in `payloads[slot]` (stale for a free slot);
  /// initialised for every slot below `slotsUsed`.
  private var hints: UnsafeMutablePointer<Hint>
  /// Slots handed out so far (free or not); the slab's initialised hints.
  private var slotsUsed = 0
  /// `freeSlots[0..<freeCount]`: slots below `slotsUsed` whose payload left.
  private var freeSlots: UnsafeMutablePointer<Int>
  private var freeCount = 0
  /// Room in each of the per-slot blocks (the heap never holds more entries than there are
  /// slots).
  private var capacity: Int

  // The calendar.
  /// Bucket `b` (absolute: `time.unsignedOrder >> shift`) lies at `b & ringMask` in the ring.
  private let shift: UInt64
  private let ringMask = UInt64(ringSize - 1)
  /// `bucketHeads[r]`: the first slot on ring bucket `r`'s list, −1 when empty.
  private let bucketHeads: UnsafeMutablePointer<Int32>
  /// Bit `r % 64` of `occupied[r / 64]`: ring bucket `r`'s list is not empty.
  private let occupied: UnsafeMutablePointer<UInt64>
  /// `parked[slot]`, `links[slot]`: a calendar event's entry, and the next slot on its
  /// bucket's list (−1 at the end).
  private var parked: UnsafeMutablePointer<Entry>
  private var links: UnsafeMutablePointer<Int32>
  /// Events on bucket lists.
  private var parkedCount = 0
  /// The first bucket not drained: the calendar's events lie in `front ..< front + ringSize`.
  private var front: UInt64 = 0
  /// The first bucket at or after `front` with a list, while any event is parked: found in the
  /// bitmap as a bucket drains (for the prefetch of its successor) and kept by each arrival
  /// parked, so the next drain does not search again.
  private var nextParked: UInt64 = 0
  /// `front` has gone past the last bucket of time to bucket 0 (events at the end of time): a
  /// drained bucket may then hold events before the run's, and the run's first event may
  /// follow parked ones. Never reset: only streams that reach the end of time pay the checks.
  private var frontWrapped = false

  /// An empty buffer for events up to `span` out of order (the engine's out-of-orderness
  /// bound): the ring spans at least twice it. Any span is correct; it only sizes the buckets.
  public init(span: EventDuration = .seconds(1)) {
    capacity = 16
    run = .allocate(capacity: capacity)
    heap = .allocate(capacity: capacity)
    payloads = Self.allocateAligned(capacity)
    hints = Self.allocateAligned(capacity)
    freeSlots = .allocate(capacity: capacity)
    parked = .allocate(capacity: capacity)
    links = .allocate(capacity: capacity)
    let held = UInt64(max(0, span.nanoseconds)) &+ 1
    let perBucket = (held.multipliedReportingOverflow(by: 2).overflow ? UInt64.max : held * 2) / UInt64(Self.ringSize)
    shift = perBucket == 0 ? 0 : UInt64(64 - (perBucket - 1).leadingZeroBitCount)
    bucketHeads = .allocate(capacity: Self.ringSize)
    bucketHeads.initialize(repeating: -1, count: Self.ringSize)
    occupied = .allocate(capacity: Self.ringSize / 64)
    occupied.initialize(repeating: 0, count: Self.ringSize / 64)
  }

  deinit {
    forEachHeldEntry { (payloads + $0.slot).deinitialize(count: 1) }
    hints.deinitialize(count: slotsUsed)
    run.deallocate()
    heap.deallocate()
    payloads.deallocate()
    hints.deallocate()
    freeSlots.deallocate()
    parked.deallocate()
    links.deallocate()
    bucketHeads.deallocate()
    occupied.deallocate()
  }

  /// Room for `capacity` payloads or hints, aligned to a cache line: an element whose size
  /// divides a line's (the engine's payload, an event and its key ids, is 64 bytes; its hint 32)
  /// then never straddles two lines, so writing it on arrival, fetching it ahead and reading it
  /// each touch one.
  private static func allocateAligned<Element>(_ capacity: Int) -> UnsafeMutablePointer<Element> {
    let alignment = max(MemoryLayout<Element>.alignment, MemoryHint.lineBytes)
    return UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Element>.stride, alignment: alignment)
      .bindMemory(to: Element.self, capacity: capacity)
  }

  /// Calls `body` with the entry of every buffered event: in the run, the heap and the calendar.
  private func forEachHeldEntry(_ body: (Entry) -> Void) {
    for i in runStart..<runEnd { body(run[i]) }
    for i in 0..<heapCount { body(heap[i]) }
    forEachParkedSlot { body(parked[$0]) }
  }

  /// Calls `body` with the slot of every event on a bucket list.
  private func forEachParkedSlot(_ body: (Int) -> Void) {
    guard parkedCount > 0 else { return }
    for r in 0..<Self.ringSize {
      var slot = bucketHeads[r]
      while slot >= 0 {
        body(Int(slot))
        slot = links[Int(slot)]
      }
    }
  }

  /// Doubles the room of the per-slot blocks; the payloads that are initialised move bitwise.
  @inline(never)
  private func grow() {
    let newCapacity = capacity * 2
    precondition(newCapacity <= Self.slotLimit, "reorder buffer: more than \(Self.slotLimit) events held")
    // The payloads lie in the run's, the heap's and the lists' slots, not in a prefix: each
    // moves alone.
    let newPayloads: UnsafeMutablePointer<Payload> = Self.allocateAligned(newCapacity)
    forEachHeldEntry { (newPayloads + $0.slot).moveInitialize(from: payloads + $0.slot, count: 1) }
    payloads.deallocate()
    payloads = newPayloads
    let newRun = UnsafeMutablePointer<Entry>.allocate(capacity: newCapacity)
    newRun.moveInitialize(from: run + runStart, count: runEnd - runStart)
    run.deallocate()
    run = newRun
    runEnd -= runStart
    runStart = 0
    heap = heap.moved(count: heapCount, toCapacity: newCapacity)
    let newHints: UnsafeMutablePointer<Hint> = Self.allocateAligned(newCapacity)
    newHints.moveInitialize(from: hints, count: slotsUsed)
    hints.deallocate()
    hints = newHints
    freeSlots = freeSlots.moved(count: freeCount, toCapacity: newCapacity)
    // Plain values: what is not on a list is never read.
    parked = parked.moved(count: slotsUsed, toCapacity: newCapacity)
    links = links.moved(count: slotsUsed, toCapacity: newCapacity)
    capacity = newCapacity
  }

  /// Buffers an event. The payload is consumed: it moves into its slot without a copy.
  /// - Complexity: O(1) into the calendar; O(log n) when it goes to the heap.
  @inline(__always)
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
    let entry = Entry(time: position.time, sequence: position.sequence, slot: slot)
    let bucket = position.time.unsignedOrder >> shift
    if parkedCount == 0 {
      // Nothing parked: the ring may move on (never back: the heap's events stay before
      // it). Centred on this event, it has room for the bound's disorder either side.
      let half = UInt64(Self.ringSize / 2)
      front = max(front, bucket >= half ? bucket - half : 0)
    }
    // Unsigned: a bucket before `front` wraps to a large distance too.
    if bucket &- front < UInt64(Self.ringSize) {
      if parkedCount == 0 || bucket &- front < nextParked &- front { nextParked = bucket }
      let r = Int(bucket & ringMask)
      parked[slot] = entry
      links[slot] = bucketHeads[r]
      bucketHeads[r] = Int32(truncatingIfNeeded: slot)
      occupied[r >> 6] |= 1 << UInt64(r & 63)
      parkedCount += 1
    } else {
      push(entry)
    }
  }

  /// Adds `entry` to the heap. It rises from the new last place without being stored there
  /// first: reading it back from the heap waited for that store, and the store for the load of
  /// `entry` (a parked entry that had left the cache: ~4% of W1's `perf` samples).
  @inline(__always)
  private func push(_ entry: Entry) {
    heapCount += 1
    rise(entry, from: heapCount - 1)
  }

  /// Removes and hands to `body`, in order, every event with `time <= watermark` (as the only
  /// owner, `inout`, so `body` may take parts of it). Around each event, `ahead` gets the hints
  /// of the events expected to leave after it (see the type's notes).
  /// - Complexity: O(k) for k released events from the run; O(log h) each from a heap of h.
  ///
  /// Inlined into its caller (the engine's release loop, its one caller on the hot path), so
  /// that `body` and `ahead` are inlined or called directly: called through closure contexts,
  /// with `ahead` behind a reabstraction thunk, they cost ~180 instructions per W1 event
  /// (callgrind, 300k events: 1,992.4 → 1,937.5 M).
  @inline(__always)
  public func release(
    upTo watermark: EventTime, ahead: (Hint, Lookahead) -> Void, _ body: (inout Payload) -> Void
  ) {
    releaseInPlace(upTo: watermark, ahead: ahead) { body(&$0); return false }
  }

  /// ``release(upTo:ahead:_:)`` with the payload lent where it lies: `body` returns `true` when
  /// it has left the payload holding no reference (every stored reference `nil`, or a value
  /// whose bits own nothing), and the buffer then frees its slot without deinitialising it.
  /// The engine's release loop gives each event's slot buffer back to the decoder and holds a
  /// short identity: deinitialising such an event was two runtime calls that release nothing,
  /// ~40 instructions per W1 event.
  @inline(__always)
  public func releaseInPlace(
    upTo watermark: EventTime, ahead: (Hint, Lookahead) -> Void, _ body: (inout Payload) -> Bool
  ) {
    while true {
      if runEnd - runStart < Self.runFloor, parkedCount > 0 { refill() }
      guard runStart < runEnd || heapCount > 0 else { return }
      let fromRun = runLeads
      let first = fromRun ? run[runStart] : heap[0]
      // The run and the heap hold every bucket before `front` and the calendar nothing before
      // it, so an event from before `front` leads. One from after may not (an arrival past the
      // ring's span in the heap; after the last bucket of time, whose successor in the ring is
      // bucket 0, anything): the next bucket is drained first.
      if !fromRun || frontWrapped, parkedCount > 0, first.time.unsignedOrder >> shift >= front {
        drainBucket(nextParkedBucket())
        continue
      }
      guard first.time <= watermark else { return }
      if fromRun {
        runStart += 1
      } else {
        heapCount -= 1
        if heapCount > 0 { replaceRoot(with: heap[heapCount]) }
      }
      if runStart == runEnd {
        runStart = 0
        runEnd = 0
      }
      prefetchNext(ahead)
      // Every slot in the run or the heap holds a payload; it leaves exactly once, here: lent to
      // `body` in place (nothing inserts while events are released), then deinitialised unless
      // `body` emptied it, and its slot freed.
      let slot = first.slot
      if !body(&(payloads + slot).pointee) { (payloads + slot).deinitialize(count: 1) }
      freeSlots[freeCount] = slot
      freeCount += 1
    }
  }

  /// Drains the next buckets until the run holds ``runFloor`` events or nothing is parked.
  @inline(__always)
  private func refill() {
    while runEnd - runStart < Self.runFloor, parkedCount > 0 {
      drainBucket(nextParkedBucket())
    }
  }

  /// The first bucket at or after `front` with a list (some event must be parked).
  @inline(__always)
  private func nextParkedBucket() -> UInt64 {
    assert(nextParked == searchParkedBucket(), "the next parked bucket was kept")
    return nextParked
  }

  /// ``nextParkedBucket()`` from the bitmap.
  @inline(__always)
  private func searchParkedBucket() -> UInt64 {
    let start = Int(front & ringMask)
    var word = start >> 6
    var bits = occupied[word] & (~0 << UInt64(start & 63))
    let words = Self.ringSize / 64
    while bits == 0 {
      word = word + 1 == words ? 0 : word + 1
      bits = occupied[word]
    }
    let r = UInt64(word << 6 | bits.trailingZeroBitCount)
    // The ring distance from `front`'s position; wraps past the ring's end.
    return front &+ ((r &- UInt64(start)) & ringMask)
  }

  /// Moves `bucket`'s events, in order, to the end of the run (after every event in it: the
  /// run holds earlier buckets only) and puts `front` after it.
  @inline(__always)
  private func drainBucket(_ bucket: UInt64) {
    let r = Int(bucket & ringMask)
    var slot = Int(bucketHeads[r])
    bucketHeads[r] = -1
    occupied[r >> 6] &= ~(1 << UInt64(r & 63))
    // The list holds the bucket's events newest first: written backwards, a bucket that
    // arrived in order needs no sorting.
    var first = runEnd
    var end = runEnd
    while slot >= 0 {
      if end == capacity {
        // The run and the bucket fit the slab (it has a slot for every buffered event): the
        // run moves to the front of its block.
        let shift = runStart
        assert(shift > 0, "a full run with an event still parked: more events than slots")
        run.moveInitialize(from: run + shift, count: end - shift)
        runStart = 0
        first -= shift
        end -= shift
      }
      run[end] = parked[slot]
      end += 1
      parkedCount -= 1
      slot = Int(links[slot])
    }
    if end - first > 1 {
      reverse(from: first, to: end)
      sortRun(from: first, to: end)
    }
    if frontWrapped && first > runStart && Entry.precedes(run[first], run[first - 1]) {
      // Not after the run: only past the last bucket of time, where the ring's next buckets
      // are those from 0 on. The heap puts them in order.
      for i in first..<end { push(run[i]) }
      end = first
    }
    runEnd = end
    // Wraps only after the last bucket of time (an event at +∞ with one-nanosecond buckets);
    // nothing can be parked after it, and from 0 every arrival goes to the heap, which is
    // still correct.
    front = bucket &+ 1
    if front == 0 { frontWrapped = true }
    // The next bucket's first entry, link and hint, to the cache: they were written when the
    // event arrived, the out-of-orderness bound ago, and had left the cache since (W1: ~5% of
    // the `perf` samples waited on the entry). The next drain is about an event's processing
    // from now; the lookahead reads the hint soon after.
    if parkedCount > 0 {
      nextParked = searchParkedBucket()
      let head = Int(bucketHeads[Int(nextParked & ringMask)])
      MemoryHint.prefetch(parked + head)
      MemoryHint.prefetch(links + head)
      MemoryHint.prefetch(hints + head)
    }
  }

  /// Reverses `run[from..<to]`.
  @inline(__always)
  private func reverse(from: Int, to: Int) {
    var i = from
    var j = to - 1
    while i < j {
      let t = run[i]
      run[i] = run[j]
      run[j] = t
      i += 1
      j -= 1
    }
  }

  /// Puts `run[from..<to]` in `(time, arrival)` order.
  @inline(__always)
  private func sortRun(from: Int, to: Int) {
    guard to - from <= Self.insertionSortLimit else {
      var entries = UnsafeMutableBufferPointer(start: run + from, count: to - from)
      entries.sort(by: Entry.precedes)
      return
    }
    for i in (from + 1)..<to {
      let moving = run[i]
      var j = i
      while j > from, Entry.precedes(moving, run[j - 1]) {
        run[j] = run[j - 1]
        j -= 1
      }
      run[j] = moving
    }
  }

  /// Whether the next event to leave is the run's first (the earlier of it and the heap's root);
  /// `false` when the run is empty.
  @inline(__always)
  private var runLeads: Bool {
    runStart < runEnd && (heapCount == 0 || !Entry.precedes(heap[0], run[runStart]))
  }

  /// The lookahead before an event is processed: the third event's hint to the cache, the
  /// second event's payload to the cache and its hint to `ahead`, then the next event's hint to
  /// `ahead`. From the run, unless the heap holds events (an arrival outside the calendar):
  /// then the next is the earlier of the run's and the heap's first, and the second a guess
  /// (hints only).
  @inline(__always)
  private func prefetchNext(_ ahead: (Hint, Lookahead) -> Void) {
    let n = runEnd - runStart
    if heapCount == 0 {
      guard n > 0 else { return }
      if n > 1 {
        if n > 2 { MemoryHint.prefetch(hints + run[runStart + 2].slot) }
        let second = run[runStart + 1].slot
        MemoryHint.prefetch(payloads + second, bytes: MemoryLayout<Payload>.stride)
        ahead(hints[second], .second)
      }
      ahead(hints[run[runStart].slot], .next)
      return
    }
    let next: Int
    let second: Int?
    if runLeads {
      next = run[runStart].slot
      second = n > 1 && Entry.precedes(run[runStart + 1], heap[0]) ? run[runStart + 1].slot : heap[0].slot
    } else {
      next = heap[0].slot
      second = n > 0 ? run[runStart].slot : (heapCount > 1 ? heap[1].slot : nil)
    }
    if let second {
      MemoryHint.prefetch(payloads + second, bytes: MemoryLayout<Payload>.stride)
      ahead(hints[second], .second)
    }
    ahead(hints[next], .next)
  }

  /// Every buffered payload with its position, in no particular order (for snapshots).
  public func forEach(_ body: (Payload, EventPosition) -> Void) {
    forEachHeldEntry { body(payloads[$0.slot], EventPosition(time: $0.time, sequence: $0.sequence)) }
  }

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
    let n = heapCount
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
