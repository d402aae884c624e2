import TocsinCore
import XCTest

@testable import TocsinIO

/// What one line scanned to: the slots or the error.
private typealias Scanned = Result<[Value], ScanError>

private func scanLine(_ scanner: inout EventScanner, _ line: String) -> Scanned {
  var slots: [Value] = []
  do throws(ScanError) {
    try scanner.scan(line, into: &slots)
    return .success(slots)
  } catch {
    return .failure(error)
  }
}

private func projection(_ paths: [String]) -> FieldProjection {
  FieldProjection(paths.map { FieldPath(dotted: $0) })
}

/// One table row: `lines` scanned in order by one scanner (so every cache is warm from the
/// lines before) give `expected`, line by line; and each line alone, by a fresh scanner, gives
/// the same.
private func sequenceTest(
  _ paths: [String], _ lines: [(String, [Value])], file: StaticString = #filePath, line testLine: UInt = #line
) {
  var warm = EventScanner(projection: projection(paths))
  for (index, (line, expected)) in lines.enumerated() {
    var cold = EventScanner(projection: projection(paths))
    XCTAssertEqual(scanLine(&warm, line), .success(expected), "line \(index): \(line)", file: file, line: testLine)
    XCTAssertEqual(scanLine(&cold, line), .success(expected), "line \(index) cold", file: file, line: testLine)
  }
}

final class ScanCacheTests: XCTestCase {
  func testKeyOrderChangesMidway() {
    sequenceTest(
      ["a", "b", "c"],
      [
        (#"{"a":1,"b":"x","c":2}"#, [.int(1), .string("x"), .int(2)]),
        (#"{"a":1,"b":"x","c":2}"#, [.int(1), .string("x"), .int(2)]),
        (#"{"a":3,"c":4,"b":"y"}"#, [.int(3), .string("y"), .int(4)]),  // order changes after "a"
        (#"{"a":5,"b":"z","c":6}"#, [.int(5), .string("z"), .int(6)]),  // and back
        (#"{"b":"w","a":7}"#, [.int(7), .string("w"), .null]),  // first key differs, one missing
        (#"{"a":8,"x":0,"b":"v","c":9}"#, [.int(8), .string("v"), .int(9)]),  // unprojected key between
        (#"{"a":8,"y":0,"b":"v","c":9}"#, [.int(8), .string("v"), .int(9)]),  // a different one there
        (#"{ "a" : 1 , "b" : "s" , "c" : 2 }"#, [.int(1), .string("s"), .int(2)]),  // whitespace
        (#"{"a":1,"a":2,"b":"d","b":"e"}"#, [.int(2), .string("e"), .null]),  // duplicates: last wins
        (#"{}"#, [.null, .null, .null]),
        (#"{"c":1}"#, [.null, .null, .int(1)]),
      ])
  }

  func testAlternatingKeyOrders() {
    // Three event shapes sharing a prefix, in changing alternation: the second prediction per
    // key (the successor before the last) takes over and swaps with the first.
    let shapes: [(String, [Value])] = [
      (#"{"id":1,"type":"buy","card":"c1","amount":5}"#, [.int(1), .string("buy"), .string("c1"), .int(5), .null]),
      (#"{"id":2,"type":"login","ip":"10.0.0.1","amount":6}"#, [.int(2), .string("login"), .null, .int(6), .string("10.0.0.1")]),
      (#"{"id":3,"type":"logout"}"#, [.int(3), .string("logout"), .null, .null, .null]),
    ]
    let order = [0, 1, 0, 1, 1, 0, 2, 0, 2, 1, 2, 2, 0, 1, 0]
    sequenceTest(["id", "type", "card", "amount", "ip"], order.map { shapes[$0] })
  }

  func testKeysSharingPrefixes() {
    // The prediction compares the key's bytes *and* its closing quote: a longer or shorter key
    // with the same start never passes for the cached one. Lengths 7, 8, 15 and 16 sit on the
    // word boundaries of the comparison (16 bytes is too long to predict).
    let paths = ["type", "abcdefg", "abcdefgh", "abcdefghijklmno", "abcdefghijklmnop", "t"]
    func line(_ keys: [String]) -> String {
      "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
    }
    func values(_ keys: [String]) -> [Value] {
      paths.map { path in keys.firstIndex(of: path).map { .int(Int64($0)) } ?? .null }
    }
    let shapes: [[String]] = [
      paths,
      ["types", "abcdefgh", "abcdefg", "abcdefghijklmnop", "abcdefghijklmno", "ty"],
      paths,
      ["typ", "abcdefgx", "abcdefgh_", "abcdefghijklmn", "abcdefghijklmnopq", "t"],
      paths,
      ["t", "type", "abcdefg", "abcdefgh", "abcdefghijklmno", "abcdefghijklmnop"],
      paths,
    ]
    sequenceTest(paths, shapes.map { (line($0), values($0)) })
  }

  func testEscapedKeysAndValues() {
    sequenceTest(
      ["type", "city"],
      [
        (#"{"type":"purchase","city":"Oslo"}"#, [.string("purchase"), .string("Oslo")]),
        // An escaped spelling of a predicted key is still that key.
        (#"{"\u0074ype":"login","city":"Oslo"}"#, [.string("login"), .string("Oslo")]),
        (#"{"type":"purchase","city":"Oslo"}"#, [.string("purchase"), .string("Oslo")]),
        // Escaped values never come from the cache: each decodes to what it says.
        (#"{"type":"purch\u0061se","city":"Os\"lo"}"#, [.string("purchase"), .string("Os\"lo")]),
        (#"{"type":"purchase\n","city":"Oslo\\"}"#, [.string("purchase\n"), .string("Oslo\\")]),
        (#"{"type":"purchase","city":"Oslo"}"#, [.string("purchase"), .string("Oslo")]),
        // A key cut short by an escape, a key with a non-ASCII byte.
        (#"{"ty\"pe":"x","city":"Zürich"}"#, [.null, .string("Zürich")]),
        (#"{"typé":"x","city":"Zürich"}"#, [.null, .string("Zürich")]),
        (#"{"type":"Zürich","city":"Zürich"}"#, [.string("Zürich"), .string("Zürich")]),
      ])
  }

  func testCachedValueThenDifferentValueOfSameLengthAndBucket() {
    // Values of one length that land in the same bucket of a slot's table, differing only in
    // the first word (4 bytes) or only in the second (16 bytes: "0123456789abcdXY"). Short
    // ASCII values never reach the table (``SmallString``), so the short one is not ASCII.
    for (base, positions) in [("ÄAA", [2, 3]), ("0123456789abcdef", [14, 15])] {
      let values = [base] + ScanCacheTests.bucketMates(of: base, varying: positions, count: 2)
      XCTAssertEqual(values.count, 3, base)
      var lines: [(String, [Value])] = []
      for round in 0..<7 {
        let value = values[round % values.count]
        lines.append(("{\"c\":\"\(value)\"}", [.string(value)]))
      }
      // And a value one byte shorter with the same start.
      let shorter = String(base.dropLast())
      lines.append(("{\"c\":\"\(shorter)\"}", [.string(shorter)]))
      lines.append(("{\"c\":\"\(base)\"}", [.string(base)]))
      sequenceTest(["c"], lines)
    }
  }

  /// Up to `count` strings that differ from `base` only at `positions` (letters A–Z there) and
  /// hash to the same ``StringValueCache`` bucket.
  static func bucketMates(of base: String, varying positions: [Int], count: Int) -> [String] {
    func bucket(_ bytes: [UInt8]) -> Int {
      bytes.withUnsafeBufferPointer { buffer in
        let base = buffer.baseAddress.unsafelyUnwrapped
        let word0 = ProjectionTrie.prefixWord(base, count: buffer.count, readable: 0)
        let word1 = buffer.count > 8 ? ProjectionTrie.prefixWord(base + 8, count: buffer.count - 8, readable: 0) : 0
        return StringValueCache.hash(word0, word1, count: buffer.count)
      }
    }
    let original = Array(base.utf8)
    let target = bucket(original)
    var found: [String] = []
    var candidate = original
    func search(_ index: Int) {
      if found.count == count { return }
      if index == positions.count {
        if candidate != original && bucket(candidate) == target {
          found.append(String(decoding: candidate, as: UTF8.self))
        }
        return
      }
      for letter in UInt8(ascii: "A")...UInt8(ascii: "Z") {
        candidate[positions[index]] = letter
        search(index + 1)
      }
    }
    search(0)
    return found
  }

  func testStringCacheBypassAndReturn() {
    // A slot whose values never repeat stops using its table, later measures again; a slot of
    // repeating values keeps hitting. Values stay right throughout. Not ASCII: short ASCII
    // values never reach the table (``SmallString``).
    var lines: [(String, [Value])] = []
    for i in 0..<6000 {
      let id = "ü\(100_000 + i)"
      let kind = ["lögin", "lögout", "pürchase"][i % 3]
      let repeated = i >= 3000 ? "ř\(i % 2)" : id  // the id slot starts repeating halfway
      lines.append(
        (
          "{\"id\":\"\(id)\",\"kind\":\"\(kind)\",\"late\":\"\(repeated)\"}",
          [.string(id), .string(kind), .string(repeated)]
        ))
    }
    var scanner = EventScanner(projection: projection(["id", "kind", "late"]))
    for (i, (line, expected)) in lines.enumerated() {
      XCTAssertEqual(scanLine(&scanner, line), .success(expected))
      if i == 2999 {
        XCTAssertTrue(scanner.strings.view.states[0].bypassing, "values that never repeat bypass the table")
        XCTAssertTrue(scanner.strings.view.states[2].bypassing, "values that never repeat bypass the table")
      }
    }
    let view = scanner.strings.view
    XCTAssertFalse(view.states[1].bypassing, "repeating values keep their table")
    XCTAssertFalse(view.states[2].bypassing, "a slot whose values start repeating uses its table again")
  }

  func testKeysNearTheEndOfTheLine() {
    // Fewer than 8 or 16 readable bytes after a key's quote: the prediction must not read past
    // the line, and falls back to the full scan.
    sequenceTest(
      ["a", "bbbbbbbbbb"],
      [
        (#"{"a":1}"#, [.int(1), .null]),
        (#"{"a":1}"#, [.int(1), .null]),
        (#"{"a":"x","bbbbbbbbbb":2}"#, [.string("x"), .int(2)]),
        (#"{"a":"x","bbbbbbbbbb":2}"#, [.string("x"), .int(2)]),
        (#"{"a":"x","bbbbbbbbbb":3}"#, [.string("x"), .int(3)]),
      ])
  }

  func testNestedObjectsKeepTheirOwnPredictions() {
    sequenceTest(
      ["geo.lat", "geo.lon", "lat"],
      [
        (#"{"lat":1,"geo":{"lat":2,"lon":3}}"#, [.int(2), .int(3), .int(1)]),
        (#"{"lat":1,"geo":{"lat":2,"lon":3}}"#, [.int(2), .int(3), .int(1)]),
        (#"{"geo":{"lon":5,"lat":4},"lat":6}"#, [.int(4), .int(5), .int(6)]),
        (#"{"geo":{"lat":7},"lon":8,"lat":9}"#, [.int(7), .null, .int(9)]),
        (#"{"lat":1,"geo":{"lat":2,"lon":3}}"#, [.int(2), .int(3), .int(1)]),
        (#"{"x":{"lat":1,"lon":2},"geo":{"x":{"lat":0},"lat":3}}"#, [.int(3), .null, .null]),
      ])
  }

  func testErrorsAreTheSameWarmOrCold() {
    let paths = ["type", "amount"]
    let good = #"{"type":"purchase","amount":12}"#
    let bad = [
      #"{"type":"purchase","amount":12"#, #"{"type":"purchase""#, #"{"type""#, #"{"typ"#,
      #"{"type":"purchase","amount":1.}"#, #"{"type":"purchase","amount":-}"#,
      #"{"type":"purchase","amount":01}"#, #"{"type":"purc"#, "{\"type\":\"pu\u{1}rchase\"}",
      #"{"type":"purchase","amount":12,}"#, #"{"type":"purchase" "amount":12}"#,
    ]
    for line in bad {
      var warm = EventScanner(projection: projection(paths))
      _ = scanLine(&warm, good)
      _ = scanLine(&warm, good)
      var cold = EventScanner(projection: projection(paths))
      let expected = scanLine(&cold, line)
      guard case .failure = expected else { return XCTFail("\(line) should fail") }
      XCTAssertEqual(scanLine(&warm, line), expected, line)
    }
  }

  func testProjectedKeysThatNeedEscapesAreNeverPredicted() {
    // The projected key `a"b` is written `"a\"b"`; after it was learned, the raw bytes `a"b"`
    // must not pass for it (that line is invalid JSON), warm or cold.
    let paths = ["x", "a\"b", "c\\d", "tab\t"]
    var warm = EventScanner(projection: projection(paths))
    for _ in 0..<3 {
      XCTAssertEqual(
        scanLine(&warm, #"{"x":0,"a\"b":1,"c\\d":2,"tab\t":3}"#), .success([.int(0), .int(1), .int(2), .int(3)]))
    }
    for line in [#"{"x":0,"a"b":1,"pad":"ding"}"#, #"{"x":0,"a\"b":1,"c\d":2,"pad":"ding"}"#, "{\"x\":0,\"a\\\"b\":1,\"c\\\\d\":2,\"tab\t\":3}"] {
      var cold = EventScanner(projection: projection(paths))
      let expected = scanLine(&cold, line)
      XCTAssertEqual(scanLine(&warm, line), expected, line)
    }
    var cold = EventScanner(projection: projection(paths))
    guard case .failure = scanLine(&cold, #"{"x":0,"a"b":1}"#) else { return XCTFail("invalid JSON accepted") }
  }

  func testCopiesDoNotShareCaches() {
    var a = EventScanner(projection: projection(["k"]))
    XCTAssertEqual(scanLine(&a, #"{"k":"one"}"#), .success([.string("one")]))
    var b = a
    XCTAssertEqual(scanLine(&b, #"{"k":"two"}"#), .success([.string("two")]))
    XCTAssertFalse(a.strings === b.strings)
    XCTAssertFalse(a.shapes === b.shapes)
    XCTAssertEqual(scanLine(&a, #"{"k":"one"}"#), .success([.string("one")]))
    XCTAssertEqual(scanLine(&b, #"{"k":"two"}"#), .success([.string("two")]))
  }

  func testMakeStringMatchesStringDecoding() {
    let samples: [[UInt8]] = [
      [], Array("a".utf8), Array("purchase".utf8), Array("fifteen bytes!!".utf8),
      Array("sixteen bytes!!!".utf8), Array("Zürich".utf8), Array("日本語のテキスト".utf8),
      Array(String(repeating: "x", count: 100).utf8),
    ]
    for bytes in samples {
      bytes.withUnsafeBufferPointer { buffer in
        let base = buffer.baseAddress ?? UnsafePointer(bitPattern: 1).unsafelyUnwrapped
        let made = StringValueCache.makeString(base, count: bytes.count)
        XCTAssertEqual(made, String(decoding: bytes, as: UTF8.self))
        XCTAssertEqual(Array(made.utf8), bytes)
      }
    }
  }

  func testNumberFastPathAgreesWithTheStandardLibrary() {
    // Integers that fit Int64 are `.int`; every other number is the correctly rounded double
    // (`Double(String)` is the reference), whichever path the scanner takes.
    let numbers = [
      "0", "-0", "7", "-7", "42", "1767225600058", "123456789012345678", "-123456789012345678",
      "999999999999999999", "1234567890123456789", "9223372036854775807", "-9223372036854775808",
      "9223372036854775808", "0.0", "-0.0", "0.1", "0.2", "-33.8688", "151.2093", "1.5",
      "9007199254740992.0", "9007199254740993.0", "9007199254740993.5", "0.0000000000000000000001",
      "0.00000000000000000000001", "123456789.123456789", "1234567890.123456789", "1.7976931348623157",
      "0.30000000000000004", "1.5e3", "2E-2", "-1e-400", "12.34e+1", "100000000000000000000",
    ]
    var scanner = EventScanner(projection: projection(["n"]))
    for text in numbers {
      guard case .success(let slots) = scanLine(&scanner, "{\"n\":\(text)}") else {
        XCTFail("\(text) did not scan")
        continue
      }
      if !text.contains(where: { ".eE".contains($0) }), let integer = Int64(text) {
        XCTAssertEqual(slots, [.int(integer)], text)
      } else if case .float(let value) = slots[0], let reference = Double(text) {
        XCTAssertEqual(value.bitPattern, reference.bitPattern, "\(text): \(value) vs \(reference)")
      } else {
        XCTFail("\(text) gave \(slots)")
      }
    }
  }

  func testFirstSpecialByteIsLocatedExactly() {
    let filler = UInt64(UInt8(ascii: "a")) &* 0x0101_0101_0101_0101
    XCTAssertEqual(_JSONScanner.specialBytes(filler), 0)
    for byte in 0...255 {
      let isSpecial = byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80
      for position in 0..<8 {
        let shift = UInt64(8 * position)
        let word = (filler & ~(0xFF << shift)) | (UInt64(byte) << shift)
        let mask = _JSONScanner.specialBytes(word)
        XCTAssertEqual(mask, isSpecial ? 0x80 << shift : 0, "byte \(byte) at \(position)")
      }
    }
  }
}
