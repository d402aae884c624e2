import HeapModule
import TocsinCore

/// Holds events until the watermark passes them, then releases them in `(time, arrival)` order.
///
/// Invariant: every buffered event is later than the watermark it was admitted under (late
/// events are rejected before they get here), so releasing everything `<= watermark` in heap
/// order yields event-time order with arrival order breaking ties.
public struct ReorderBuffer<Payload> {
  private struct Entry: Comparable {
    var position: EventPosition
    var payload: Payload
    static func < (a: Entry, b: Entry) -> Bool { a.position < b.position }
    static func == (a: Entry, b: Entry) -> Bool { a.position == b.position }
  }

  private var heap = Heap<Entry>()

  /// An empty buffer.
  public init() {}

  /// Number of buffered events.
  public var count: Int { heap.count }

  /// Buffers an event.
  /// - Complexity: O(log n).
  public mutating func insert(_ payload: Payload, at position: EventPosition) {
    heap.insert(Entry(position: position, payload: payload))
  }

  /// Every buffered event with its position, in no particular order (for checkpoints, which
  /// re-insert them through ``insert(_:at:)`` on restore).
  /// - Complexity: O(n).
  public var unorderedContents: [(position: EventPosition, payload: Payload)] {
    heap.unordered.map { ($0.position, $0.payload) }
  }

  /// Removes and returns, in order, every event with `time <= watermark`.
  /// - Complexity: O(k log n) for k released events.
  public mutating func release(upTo watermark: EventTime, _ body: (Payload) -> Void) {
    while let min = heap.min, min.position.time <= watermark {
      body(heap.removeMin().payload)
    }
  }
}
