import TocsinCore
import XCTest

/// `StableHash.hex` feeds every alert id: 16 lower-case hex digits of `value`, zero-padded.
final class StableHashTests: XCTestCase {
  func testHexIsTheZeroPaddedRadix16Value() {
    var leadingZeros = 0
    for n in 0..<5000 {
      var hash = StableHash()
      hash.combine("rule-\(n)")
      let reference = String(hash.value, radix: 16)
      let padded = String(repeating: "0", count: 16 - reference.count) + reference
      XCTAssertEqual(hash.hex, padded, "\(n)")
      if reference.count < 16 { leadingZeros += 1 }
    }
    XCTAssertGreaterThan(leadingZeros, 100, "the padding was exercised")
  }

  func testKnownAlertIDInputs() {
    // FNV-1a of nothing, finalised: the empty hash.
    XCTAssertEqual(StableHash().hex.count, 16)
    var a = StableHash()
    a.combine("ab")
    a.combine("c")
    var b = StableHash()
    b.combine("a")
    b.combine("bc")
    XCTAssertNotEqual(a.hex, b.hex, "components are separated")
  }
}
