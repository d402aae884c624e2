import TocsinCore
import XCTest

@testable import TocsinRuntime

/// ``StateStore``: each rule's states start on a cache line however `realloc` places the buffer,
/// and growing keeps every state where its key id says.
final class StateStoreTests: XCTestCase {
  func testStatesStayPutAndLineAlignedAcrossGrowth() {
    let rules = 3
    var store = StateStore(rules: rules)
    // Other blocks allocated in between, freed in another order, so that `realloc` moves the
    // buffers to blocks at various offsets into a line.
    var others: [UnsafeMutableRawPointer] = []
    for step in 1...14 {
      for r in 0..<rules {
        let count = (1 << step) + r * 7
        store.ensure(rule: r, count: count)
        XCTAssertEqual(store.count(of: r), count)
        // swift-format-ignore: NeverForceUnwrap
        let first = store.address(of: r, 0)!
        XCTAssertEqual(UInt(bitPattern: first) % UInt(MemoryHint.lineBytes), 0, "rule \(r), \(count) keys: line-aligned")
        for k in 0..<count where store[r, k].scheduledDeadline == nil {
          store[r, k].scheduledDeadline = .milliseconds(Int64(r * 1_000_000 + k))
        }
        others.append(UnsafeMutableRawPointer.allocate(byteCount: 16 + 16 * (step % 5), alignment: 16))
      }
      if step % 3 == 0 {
        for block in others.reversed() { block.deallocate() }
        others.removeAll()
      }
    }
    for r in 0..<rules {
      for k in store.indices(of: r) {
        XCTAssertEqual(store[r, k].scheduledDeadline, .milliseconds(Int64(r * 1_000_000 + k)), "rule \(r), key \(k)")
      }
    }
    for block in others { block.deallocate() }
  }
}
