import TocsinCore
import XCTest

@testable import TocsinRuntime

/// The state budget's eviction FIFO (``EvictionQueue``), a ring: against an array model, through
/// growth, wrap-around and compaction, it hands out the same entries in the same order.
final class EvictionQueueTests: XCTestCase {
  private func entry(_ n: Int) -> LimitState.EvictionEntry {
    LimitState.EvictionEntry(
      rule: n % 3, key: KeyID(n), start: EventPosition(time: .milliseconds(Int64(n)), sequence: UInt64(n)))
  }

  func testRing_BehavesAsAFIFO() {
    var rng = SplitMix64(seed: 0xE71C7)
    var queue = EvictionQueue()
    var model: [LimitState.EvictionEntry] = []
    var next = 0
    var largest = 0
    for step in 0..<20_000 {
      switch Int.random(in: 0..<10, using: &rng) {
      case 0..<5:
        // Bursts of appends, so the ring grows past several sizes.
        for _ in 0..<Int.random(in: 1...8, using: &rng) {
          queue.append(entry(next))
          model.append(entry(next))
          next += 1
        }
      case 5..<9:
        XCTAssertEqual(queue.popFirst(), model.isEmpty ? nil : model.removeFirst(), "step \(step)")
      default:
        let modulus = Int.random(in: 2...5, using: &rng)
        queue.removeAll { $0.key.index % modulus == 0 }
        model.removeAll { $0.key.index % modulus == 0 }
      }
      XCTAssertEqual(queue.count, model.count, "step \(step)")
      largest = max(largest, model.count)
      if step % 97 == 0 { XCTAssertEqual(Array(queue), model, "step \(step)") }
    }
    XCTAssertEqual(Array(queue), model)
    // Appends outnumber pops, so the ring grew through several sizes while wrapping.
    XCTAssertGreaterThan(largest, 1000)
    // Drained, it is empty and takes entries again.
    while queue.popFirst() != nil {}
    XCTAssertEqual(queue.count, 0)
    queue.append(entry(1))
    XCTAssertEqual(queue.popFirst(), entry(1))
    XCTAssertNil(queue.popFirst())
  }
}
