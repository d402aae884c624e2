import XCTest

@testable import TocsinRuntime

/// An event's key ids in the first four key spaces (``KeyIDs``, packed in two words by
/// ``FourKeyIDs``): each write changes its own space only, and what was written reads back.
/// (Later spaces are looked up at release: `KeySpacesPastFourTests`.)
final class KeyIDsTests: XCTestCase {
  /// Missing, zero, small, ids with and without the bit below a half-word's top bit set (the
  /// top bit marks a deferred key), and the largest id a space may hold.
  private let ids: [KeyID?] = [
    nil, KeyID(0), KeyID(1), KeyID(0x3FFF_FFFF), KeyID(0x4000_0000), KeyID(KeyID.limit - 1),
  ]

  func testEachSpaceReadsBackWhatWasWrittenAndNothingElseChanges() {
    for count in 1...FourKeyIDs.spaces {
      var keys = KeyIDs()
      var expected = [KeyID?](repeating: nil, count: count)
      for space in 0..<count { XCTAssertNil(keys[space], "\(count) spaces: \(space) starts missing") }
      // Every space takes every id in turn, a different one for each space at each step, so
      // a write that leaks into a neighbour (the other half of a word, the other word) shows.
      for step in 0..<ids.count {
        for space in 0..<count {
          let id = ids[(step + space) % ids.count]
          keys[space] = id
          expected[space] = id
          for other in 0..<count {
            XCTAssertEqual(
              keys[other], expected[other], "\(count) spaces, step \(step): space \(other) after writing \(space)")
          }
        }
      }
    }
  }

  /// A deferred key (``FourKeyIDs/markDeferred(space:bits:)``) reads as no id, gives back its
  /// presence bits, and leaves the other spaces alone; writing an id or `nil` ends it.
  func testDeferredKeysKeepTheirBitsAndReadAsNoID() {
    let bits: [UInt32] = [0, 1, 0x2AAA_AAAA, 0x3FFF_FFFE, 0x3FFF_FFFF]
    for space in 0..<4 {
      for b in bits {
        var keys = KeyIDs()
        for other in 0..<4 { keys[other] = KeyID(other + 100) }
        keys.markDeferred(space: space, bits: b)
        XCTAssertNil(keys[space], "space \(space), bits \(b): no id")
        XCTAssertEqual(keys.deferredBits(space), b, "space \(space): the bits read back")
        for other in 0..<4 where other != space {
          XCTAssertEqual(keys[other], KeyID(other + 100), "space \(space), bits \(b): space \(other) unchanged")
          XCTAssertNil(keys.deferredBits(other), "space \(other) is not deferred")
        }
        keys[space] = KeyID(7)
        XCTAssertNil(keys.deferredBits(space), "an id ends the deferral")
        XCTAssertEqual(keys[space], KeyID(7))
        keys.markDeferred(space: space, bits: b)
        keys[space] = nil
        XCTAssertNil(keys.deferredBits(space), "missing is not deferred")
        XCTAssertNil(keys[space])
      }
    }
    // Missing and past the fourth space: never deferred.
    let keys = KeyIDs()
    for space in 0..<6 { XCTAssertNil(keys.deferredBits(space), "space \(space)") }
  }

  func testFourKeyIDs_SpacesPastTheFourthReadAsMissing() {
    var four = FourKeyIDs()
    for space in 0..<4 { four[space] = KeyID(space + 10) }
    for space in [4, 5, 63, Int.max, -1] { XCTAssertNil(four[space], "space \(space)") }
    XCTAssertEqual((0..<4).map { four[$0]?.index }, [10, 11, 12, 13])
  }

  func testFourKeyIDs_WritingMissingClearsOnlyThatSpace() {
    // (space cleared, the ids left in spaces 0–3)
    let cases: [(Int, [Int?])] = [(0, [nil, 1, 2, 3]), (1, [0, nil, 2, 3]), (2, [0, 1, nil, 3]), (3, [0, 1, 2, nil])]
    for (cleared, left) in cases {
      var four = FourKeyIDs()
      for space in 0..<4 { four[space] = KeyID(space) }
      four[cleared] = nil
      XCTAssertEqual((0..<4).map { four[$0]?.index }, left, "cleared \(cleared)")
    }
  }
}
