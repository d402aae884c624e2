import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// Pins the size of the hot per-match structures (docs/architecture.md quotes these figures).
final class LayoutTests: XCTestCase {
  func testPartialMatchFootprint() {
    XCTAssertEqual(MemoryLayout<Value>.size, 17)
    XCTAssertEqual(MemoryLayout<EventRecord>.stride, 48)
    // A partial match is one `Computation` in its key's array plus the `MatchNode`s it does not
    // share with other partial matches.
    XCTAssertEqual(MemoryLayout<Computation>.stride, 48)
    // A rule's state for one key: a slot in the rule's buffer for every key id of its space,
    // most of them empty, so its size is paid per key and rule (two lists, the timer's deadline
    // and queue, the settled flag).
    XCTAssertEqual(MemoryLayout<PartialMatches>.stride, 32)
  }

  /// A buffered event (its record and the key ids of the first four key spaces) fills one cache
  /// line of the reorder buffer's line-aligned slab, and its hint half of one.
  func testBufferedEventIsOneLine() {
    XCTAssertEqual(MemoryLayout<Engine.Buffered>.stride, MemoryHint.lineBytes)
    XCTAssertEqual(MemoryLayout<Engine.ReleaseHint>.stride, MemoryHint.lineBytes / 2)
  }

  /// `MatchNode.instanceBytes` (the span its cache hints fetch) is the header plus its fields.
  func testMatchNodeSize() {
    let fields =
      MemoryLayout<Int>.size /* step */ + MemoryLayout<EventRecord?>.size
      + MemoryLayout<MatchNode?>.size /* previous */ + MemoryLayout<Int>.size /* length */
    XCTAssertEqual(MatchNode.instanceBytes, 16 + fields)
    XCTAssertEqual(MemoryLayout<EventRecord?>.size, MemoryLayout<EventRecord>.size)
  }
}
