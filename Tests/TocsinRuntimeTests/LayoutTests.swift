import TocsinCore
import TocsinExpressions
import TocsinRuntime
import XCTest

/// Pins the size of the hot per-match structures (docs/architecture.md quotes these figures).
final class LayoutTests: XCTestCase {
  func testPartialMatchFootprint() {
    XCTAssertEqual(MemoryLayout<Value>.size, 17)
    XCTAssertEqual(MemoryLayout<EventRecord>.stride, 48)
    // A partial match is one `Computation` in its key's array plus the `MatchNode`s it does not
    // share with other partial matches.
    XCTAssertEqual(MemoryLayout<Computation>.stride, 48)
  }
}
