import TocsinCore
import XCTest

@testable import TocsinRuntime

/// The key records the queues of one key space share (``KeyRecords``): where each queue's
/// record lies in a key's block, and queues that share the blocks keeping their records apart
/// while they grow.
final class KeyRecordsTests: XCTestCase {
  func testLayout_RecordsAlignedAndNoneStraddlesALine() {
    // (records' sizes, their offsets, the block's size)
    let cases: [([Int], [Int], Int)] = [
      ([16], [0], 16),
      ([32], [0], 32),
      ([16, 16], [0, 16], 32),
      ([32, 16], [0, 32], 64),
      ([16, 32], [32, 0], 64),
      ([16, 16, 16], [0, 16, 32], 64),
      ([32, 32, 32], [0, 32, 64], 96),
      ([32, 16, 32, 16, 32, 32], [0, 128, 32, 144, 64, 96], 160),
      ([32, 32, 32, 32, 32, 32], [0, 32, 64, 96, 128, 160], 192),
    ]
    for (sizes, offsets, stride) in cases {
      let records = KeyRecords(layout: sizes)
      XCTAssertEqual(records.offsets, offsets, "\(sizes)")
      XCTAssertEqual(records.stride, stride, "\(sizes)")
      XCTAssertEqual(Int(bitPattern: records.base) % 64, 0, "\(sizes): line-aligned")
      for k in 0..<64 {
        for (offset, size) in zip(offsets, sizes) {
          let first = k * stride + offset
          XCTAssertEqual(first / 64, (first + size - 1) / 64, "\(sizes): key \(k)'s record at \(offset) straddles a line")
        }
      }
      // No two records of a block overlap.
      let spans = zip(offsets, sizes).map { $0..<($0 + $1) }.sorted { $0.lowerBound < $1.lowerBound }
      for (a, b) in zip(spans, spans.dropFirst()) { XCTAssertLessThanOrEqual(a.upperBound, b.lowerBound, "\(sizes)") }
    }
  }

  /// Three run queues sharing one set of blocks, each given its own number of entries per key
  /// and its own skip marks, grown past the first 256 keys by whichever queue meets a new key
  /// first: each reads back exactly its own counts, entries and marks.
  func testSharedRecords_KeepEachQueuesOwn() {
    let queues = (0..<3).map { _ in
      RunQueue(within: .seconds(3600), needed: 1, keptSlots: [SlotIndex(0)], slotCount: 1)
    }
    let shared = KeyRecords(layout: queues.map(\.keyRecordBytes))
    for (queue, offset) in zip(queues, shared.offsets) { queue.useKeyRecords(shared, offset: offset) }
    let keys = 3_000
    func entries(_ q: Int, _ k: Int) -> Int { (k * 7 + q * 3) % 5 }
    var sequence: UInt64 = 0
    for k in 0..<keys {
      for q in [k % 3, (k + 1) % 3, (k + 2) % 3] {
        queues[q].ensureKey(k)
        for _ in 0..<entries(q, k) {
          sequence += 1
          queues[q].append(
            EventRecord(
              time: .milliseconds(Int64(sequence)), sequence: sequence, line: Int(sequence), identity: "e\(sequence)",
              slots: [.int(Int64(q * 1_000_000 + k))]),
            key: k)
        }
        if (k + q) % 4 == 0 { queues[q].markSkipped(key: k) }
      }
    }
    XCTAssertGreaterThan(shared.capacity, 2_048)
    for (q, queue) in queues.enumerated() {
      for k in stride(from: 0, to: keys, by: 13) {
        XCTAssertEqual(queue.count(ofKey: k), entries(q, k), "queue \(q), key \(k)")
        XCTAssertEqual(queue.skippedLast(key: k), (k + q) % 4 == 0, "queue \(q), key \(k)")
        for s in queue.liveEntries(key: k) {
          XCTAssertEqual(queue.keptValues(s).pointee, .int(Int64(q * 1_000_000 + k)), "queue \(q), key \(k)")
        }
      }
      // Ids past every key seen have no record yet and count nothing.
      XCTAssertEqual(queue.count(ofKey: shared.capacity + 5), 0)
    }
  }
}
