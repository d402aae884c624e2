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

  /// `Value.copy(at:)`, `Value.initialize(_:copying:)` and `Value.deinitialize(_:count:)` copy a
  /// value that holds no reference as its bits and any other the ordinary way: every copy equals
  /// its source and outlives it (a heap string and a list keep their storage), and a value
  /// dropped through `deinitialize` releases what it held (a heap string shared with the copy is
  /// unique again afterwards, so appending to it does not copy its storage).
  func testValueCopies_AsBitsOnlyWithoutAReference() {
    let heap = String(repeating: "h", count: 40)
    // (value, holds no reference where the small form is available)
    let cases: [(Value, Bool)] = [
      (.null, true), (.bool(true), true), (.int(-7), true), (.float(2.5), true),
      (.time(EventTime(nanosecondsSinceEpoch: 12)), true), (.duration(.seconds(3)), true),
      (.string(""), true), (.string("u089695"), true), (.string("abcdefghijklmno"), true), (.string("é"), true),
      (.string(String(decoding: Array("abcdefghijklmnop".utf8), as: UTF8.self)), false),
      (.string(heap + "x"), false), (.list([.string(heap), .int(1)]), false),
    ]
    for small in [true, false] {
      for (n, (value, noReference)) in cases.enumerated() {
        var source: Value? = value
        let isString: Bool
        if case .string = value { isString = true } else { isString = false }
        let expectedNoReference = noReference && (small || !isString)
        withUnsafePointer(to: &source!) { p in
          XCTAssertEqual(Value.holdsNoReference(at: p, smallStrings: small), expectedNoReference, "case \(n), small \(small)")
        }
        let copied = withUnsafePointer(to: &source!) { Value.copy(at: $0, smallStrings: small) }
        let target = UnsafeMutablePointer<Value>.allocate(capacity: 2)
        withUnsafePointer(to: &source!) { Value.initialize(target, copying: $0, smallStrings: small) }
        (target + 1).initialize(to: value)
        source = nil  // the copies outlive the source
        XCTAssertEqual(copied, value, "case \(n), small \(small)")
        XCTAssertEqual(target[0], value, "case \(n), small \(small)")
        Value.deinitialize(target, count: 2, smallStrings: small)
        target.deallocate()
      }
    }
    // Dropped through `deinitialize`, a heap string's copies release their references.
    var text = String(repeating: "x", count: 40)
    text.reserveCapacity(200)
    let before = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
    let values = UnsafeMutablePointer<Value>.allocate(capacity: 1)
    var original = Value.string(text)
    withUnsafePointer(to: &original) { Value.initialize(values, copying: $0, smallStrings: SmallString.isAvailable) }
    original = .null
    Value.deinitialize(values, count: 1, smallStrings: SmallString.isAvailable)
    values.deallocate()
    text.append("y")
    let after = text.utf8.withContiguousStorageIfAvailable { UInt(bitPattern: $0.baseAddress) }
    XCTAssertEqual(before, after, "the copy's reference was released: the string grew in place")
  }
}
