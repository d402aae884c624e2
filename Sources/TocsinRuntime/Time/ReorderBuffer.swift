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
public struct ReorderBuffer<Payload> {
  private struct Entry {
    var time: EventTime
    var sequence: UInt64
    var slot: Int

    @inline(__always)
    static func precedes(_ a: Entry, _ b: Entry) -> Bool {
      a.time != b.time ? a.time < b.time : a.sequence < b.sequence
    }
  }

  private var heap: [Entry] = []
  private var payloads: [Payload?] = []
  private var freeSlots: [Int] = []

  /// An empty buffer.
  public init() {}

  /// Number of buffered events.
  public var count: Int { heap.count }

  /// Buffers an event.
  /// - Complexity: O(log n).
  public mutating func insert(_ payload: Payload, at position: EventPosition) {
    let slot: Int
    if let free = freeSlots.popLast() {
      slot = free
      payloads[slot] = payload
    } else {
      slot = payloads.count
      payloads.append(payload)
    }
    heap.append(Entry(time: position.time, sequence: position.sequence, slot: slot))
    siftUp(heap.count - 1)
  }

  /// Removes and returns, in order, every event with `time <= watermark`.
  /// - Complexity: O(k log n) for k released events.
  public mutating func release(upTo watermark: EventTime, _ body: (Payload) -> Void) {
    while let first = heap.first, first.time <= watermark {
      let last = heap.removeLast()
      if !heap.isEmpty {
        heap[0] = last
        siftDown(0)
      }
      freeSlots.append(first.slot)
      // swift-format-ignore: NeverForceUnwrap
      // Every slot in the heap holds a payload; it is taken exactly once, here.
      let payload = payloads[first.slot].take().unsafelyUnwrapped
      body(payload)
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

  private mutating func siftDown(_ start: Int) {
    heap.withUnsafeMutableBufferPointer { h in
      let n = h.count
      var i = start
      let moving = h[i]
      while true {
        let left = 2 * i + 1
        guard left < n else { break }
        let right = left + 1
        let child = right < n && Entry.precedes(h[right], h[left]) ? right : left
        guard Entry.precedes(h[child], moving) else { break }
        h[i] = h[child]
        i = child
      }
      h[i] = moving
    }
  }
}
