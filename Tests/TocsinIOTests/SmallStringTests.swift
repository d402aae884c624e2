import TocsinCore
import XCTest

@testable import TocsinIO

/// ``SmallString`` builds short ASCII strings from their bytes' words; every string it builds must
/// be the string the standard library builds from the same bytes.
final class SmallStringTests: XCTestCase {
  /// The inline form is what these machines' runtime uses, so the decoder's fast path runs
  /// (were it not, strings would still be right, only slower: this test says which).
  func testProbe_MatchesThisRuntime() {
    XCTAssertTrue(SmallString.probe())
  }

  /// Every length 0...15, random printable and control ASCII: equal, same count and bytes, same
  /// hash, interchangeable as dictionary keys, and the same after concatenation (which reads the
  /// form).
  func testMade_EqualsTheStandardLibrarysString() throws {
    try XCTSkipUnless(SmallString.probe(), "the inline form is not this runtime's")
    var random = SplitMix64(seed: 42)
    for count in 0...SmallString.maxBytes {
      for _ in 0..<50 {
        let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next() % 128) }
        let (word0, word1) = SmallString.words(bytes)
        let made = SmallString.make(word0: word0, word1: word1, count: count)
        let reference = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(made, reference)
        XCTAssertEqual(made.utf8.count, count)
        XCTAssertEqual(Array(made.utf8), bytes)
        XCTAssertEqual(made.hashValue, reference.hashValue)
        XCTAssertEqual([reference: 1][made], 1)
        XCTAssertEqual(made + "!", reference + "!")
      }
    }
  }

  /// Through the scanner: unique values (which make the slot bypass its table) and values of
  /// every length around the inline limit, ASCII and not, equal the standard library's.
  func testScannedStrings_EqualTheStandardLibrarysStrings() throws {
    var scanner = EventScanner(projection: FieldProjection([FieldPath(["s"])]))
    var slots: [Value] = []
    // Unique values first: the slot's table stops paying and the slot bypasses it.
    for i in 0..<3000 {
      let text = "u\(i * 7919)"
      try scanner.scan(#"{"s":""# + text + #""}"#, into: &slots)
      XCTAssertEqual(slots, [.string(text)])
    }
    for round in 0..<3 {
      for count in 0...20 {
        for text in [String(repeating: "x", count: count), String(repeating: "é", count: count / 2) + "\(round)"] {
          let line = #"{"s":""# + text + #""}"#
          try scanner.scan(line, into: &slots)
          XCTAssertEqual(slots, [.string(text)], line)
        }
      }
    }
  }
}
