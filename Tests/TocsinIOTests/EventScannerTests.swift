import TocsinCore
import XCTest

@testable import TocsinIO

/// Scans `bytes` projecting the dotted `paths`; returns the slots or the error.
private func scan(_ bytes: [UInt8], _ paths: [String]) -> Result<[Value], ScanError> {
  var scanner = EventScanner(projection: FieldProjection(paths.map { FieldPath(dotted: $0) }))
  return scanWith(&scanner, bytes)
}

/// Scans `bytes` with `scanner` (kept across calls, so its caches learn).
private func scanWith(_ scanner: inout EventScanner, _ bytes: [UInt8]) -> Result<[Value], ScanError> {
  var slots: [Value] = []
  var failure: ScanError?
  bytes.withUnsafeBytes { raw in
    do throws(ScanError) { try scanner.scan(raw, into: &slots) } catch { failure = error }
  }
  if let failure { return .failure(failure) }
  return .success(slots)
}

/// One table row: `line` projected on `paths` gives `expected`.
private func scanTest(
  _ line: String, _ paths: [String], _ expected: [Value],
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  scanTest(bytes: Array(line.utf8), paths, expected, file: file, line: testLine)
}

private func scanTest(
  bytes: [UInt8], _ paths: [String], _ expected: [Value],
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  switch scan(bytes, paths) {
  case .success(let slots): XCTAssertEqual(slots, expected, file: file, line: testLine)
  case .failure(let error): XCTFail("unexpected \(error)", file: file, line: testLine)
  }
}

/// One table row: `line` is rejected with `expected`.
private func scanErrorTest(
  _ line: String, _ expected: ScanError, paths: [String] = ["a"],
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  scanErrorTest(bytes: Array(line.utf8), expected, paths: paths, file: file, line: testLine)
}

private func scanErrorTest(
  bytes: [UInt8], _ expected: ScanError, paths: [String] = ["a"],
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  switch scan(bytes, paths) {
  case .success(let slots): XCTFail("expected \(expected), got \(slots)", file: file, line: testLine)
  case .failure(let error): XCTAssertEqual(error, expected, file: file, line: testLine)
  }
}

final class EventScannerTests: XCTestCase {
  func testProjection_Flat() {
    scanTest(#"{"a":1,"b":"x","c":true}"#, ["a", "b", "c"], [.int(1), .string("x"), .bool(true)])
    scanTest(#"{"c":false,"b":null,"a":2.5}"#, ["a", "b", "c"], [.float(2.5), .null, .bool(false)])
    scanTest(#"{"a":1}"#, ["a", "missing"], [.int(1), .null])
    scanTest(#"{}"#, ["a"], [.null])
    scanTest(#"{"a":1}"#, [], [])
    scanTest(#"  { "a" : 1 , "b" : 2 }  "#, ["b"], [.int(2)])
    scanTest("{\t\"a\"\t:\t1\r\n}", ["a"], [.int(1)])
    scanTest(#"{"ab":1,"a":2,"abc":3}"#, ["a"], [.int(2)])
  }

  func testProjection_Nested() {
    scanTest(#"{"geo":{"lat":1.5,"lon":-2}}"#, ["geo.lat", "geo.lon"], [.float(1.5), .int(-2)])
    scanTest(#"{"geo":{"lat":1.5},"x":1}"#, ["geo.lat", "x"], [.float(1.5), .int(1)])
    scanTest(#"{"a":{"b":{"c":"deep"}}}"#, ["a.b.c"], [.string("deep")])
    scanTest(#"{"geo":5}"#, ["geo.lat"], [.null])
    scanTest(#"{"geo":"x"}"#, ["geo", "geo.lat"], [.string("x"), .null])
    scanTest(#"{"geo":{"lat":1}}"#, ["geo", "geo.lat"], [.null, .int(1)])
    scanTest(#"{"geo":[1,2]}"#, ["geo", "geo.lat"], [.null, .null])
    scanTest(#"{"lat":1,"geo":{"x":2}}"#, ["geo.lat"], [.null])
  }

  func testProjection_ObjectOrArrayValueIsNull() {
    scanTest(#"{"a":{"x":1}}"#, ["a"], [.null])
    scanTest(#"{"a":[1,{"y":[]}]}"#, ["a"], [.null])
  }

  func testDuplicateKeys_LastWins() {
    scanTest(#"{"a":1,"a":2}"#, ["a"], [.int(2)])
    scanTest(#"{"a":1,"a":null}"#, ["a"], [.null])
    scanTest(#"{"g":{"x":1,"y":2},"g":{"y":3}}"#, ["g.x", "g.y"], [.null, .int(3)])
    scanTest(#"{"g":{"x":1},"g":7}"#, ["g.x"], [.null])
  }

  func testSkipping_EveryValueKind() {
    let skipped = [
      #""s""#, #""esc \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00""#, "0", "-0", "12.5e-3", "1E+9",
      "true", "false", "null", "{}", "[]", #"{"k":[1,{"z":null}],"e":{}}"#, "[[[[]]]]",
      #"["é", "日本", "😀"]"#, "99999999999999999999999",
    ]
    for value in skipped {
      scanTest(#"{"skip":\#(value),"a":1}"#, ["a"], [.int(1)])
      scanTest(#"{"a":1,"skip": \#(value) }"#, ["a"], [.int(1)])
    }
  }

  func testStrings_Escapes() {
    scanTest(#"{"a":"q\"b\\s\/"}"#, ["a"], [.string("q\"b\\s/")])
    scanTest(#"{"a":"\b\f\n\r\t"}"#, ["a"], [.string("\u{8}\u{c}\n\r\t")])
    scanTest(#"{"a":"\u0041\u00e9\u65e5"}"#, ["a"], [.string("Aé日")])
    scanTest(#"{"a":"\ud83d\ude00!"}"#, ["a"], [.string("😀!")])
    scanTest(#"{"a":"\u0000"}"#, ["a"], [.string("\u{0}")])
    scanTest(#"{"\u0061":1}"#, ["a"], [.int(1)])
    scanTest(#"{"g\u0065o":{"l\u0061t":2}}"#, ["geo.lat"], [.int(2)])
    scanTest(#"{"a":"a string longer than fifteen bytes, with \"escapes\""}"#, ["a"],
      [.string("a string longer than fifteen bytes, with \"escapes\"")])
  }

  func testStrings_Unicode() {
    scanTest(#"{"a":"é日😀"}"#, ["a"], [.string("é日😀")])
    scanTest(#"{"é":"x"}"#, ["é"], [.string("x")])
    scanTest(#"{"a":"0123456789abcdef0123456789abcdef"}"#, ["a"], [.string("0123456789abcdef0123456789abcdef")])
    scanTest(#"{"a":"\#u{7F}"}"#, ["a"], [.string("\u{7F}")])
    scanTest(bytes: Array(#"{"a":""#.utf8) + [0xF4, 0x8F, 0xBF, 0xBF] + Array(#""}"#.utf8), ["a"],
      [.string("\u{10FFFF}")])
  }

  func testStrings_InvalidEscapes() {
    scanErrorTest(#"{"a":"\x"}"#, .invalidJSON(offset: 7, expected: .escapeCharacter))
    scanErrorTest(#"{"a":"\u12"}"#, .invalidJSON(offset: 10, expected: .hexDigit))
    scanErrorTest(#"{"a":"\u12g4"}"#, .invalidJSON(offset: 10, expected: .hexDigit))
    scanErrorTest(#"{"a":"\ud83d"}"#, .invalidJSON(offset: 12, expected: .lowSurrogate))
    scanErrorTest(#"{"a":"\ud83dx"}"#, .invalidJSON(offset: 12, expected: .lowSurrogate))
    scanErrorTest(#"{"a":"\ud83d\u0041"}"#, .invalidJSON(offset: 12, expected: .lowSurrogate))
    scanErrorTest(#"{"a":"\ude00"}"#, .invalidJSON(offset: 6, expected: .lowSurrogate))
    scanErrorTest(#"{"x":"\q","a":1}"#, .invalidJSON(offset: 7, expected: .escapeCharacter))
  }

  func testStrings_ControlCharactersAndNUL() {
    scanErrorTest("{\"a\":\"x\ty\"}", .invalidJSON(offset: 7, expected: .noControlCharacter))
    scanErrorTest(bytes: Array(#"{"a":"x"#.utf8) + [0] + Array(#""}"#.utf8),
      .invalidJSON(offset: 7, expected: .noControlCharacter))
    scanErrorTest(bytes: Array(#"{"a":1}"#.utf8) + [0], .trailingCharacters(offset: 7))
    scanErrorTest(bytes: [0] + Array(#"{"a":1}"#.utf8), .invalidJSON(offset: 0, expected: .object))
    scanErrorTest(bytes: Array(#"{"a":1,"#.utf8) + [0] + Array(#""b":2}"#.utf8),
      .invalidJSON(offset: 7, expected: .objectKey))
  }

  func testStrings_InvalidUTF8() {
    let prefix = Array(#"{"a":"ok"#.utf8)  // the bad sequence starts at byte 8
    let suffix = Array(#""}"#.utf8)
    let bad: [[UInt8]] = [
      [0x80], [0xBF], [0xC0, 0x80], [0xC1, 0xBF], [0xC3], [0xC3, 0x41], [0xE0, 0x80, 0x80],
      [0xED, 0xA0, 0x80], [0xEF, 0xBF], [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80],
      [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xFE],
    ]
    for sequence in bad {
      scanErrorTest(bytes: prefix + sequence + suffix, .invalidUTF8(offset: 8))
      scanErrorTest(bytes: Array(#"{"k"#.utf8) + sequence + Array(#"":1}"#.utf8), .invalidUTF8(offset: 3))
    }
    // Invalid UTF-8 in a skipped value is still an error.
    scanErrorTest(bytes: Array(#"{"zz":"x"#.utf8) + [0xC3, 0x28] + suffix, .invalidUTF8(offset: 8))
  }

  func testNumbers_Integers() {
    scanTest(#"{"a":0}"#, ["a"], [.int(0)])
    scanTest(#"{"a":-0}"#, ["a"], [.int(0)])
    scanTest(#"{"a":42}"#, ["a"], [.int(42)])
    scanTest(#"{"a":-17}"#, ["a"], [.int(-17)])
    scanTest(#"{"a":999999999999999999}"#, ["a"], [.int(999_999_999_999_999_999)])
    scanTest(#"{"a":9223372036854775807}"#, ["a"], [.int(.max)])
    scanTest(#"{"a":-9223372036854775808}"#, ["a"], [.int(.min)])
    scanTest(#"{"a":9223372036854775808}"#, ["a"], [.float(9_223_372_036_854_775_808.0)])
    scanTest(#"{"a":-9223372036854775809}"#, ["a"], [.float(-9_223_372_036_854_775_809.0)])
    scanTest(#"{"a":18446744073709551616}"#, ["a"], [.float(18_446_744_073_709_551_616.0)])
    scanTest(#"{"a":100000000000000000000000000000}"#, ["a"], [.float(1e29)])
  }

  func testNumbers_Floats() {
    scanTest(#"{"a":1.0}"#, ["a"], [.float(1.0)])
    scanTest(#"{"a":-0.0}"#, ["a"], [.float(-0.0)])
    scanTest(#"{"a":0.1}"#, ["a"], [.float(0.1)])
    scanTest(#"{"a":12.345}"#, ["a"], [.float(12.345)])
    scanTest(#"{"a":1e3}"#, ["a"], [.float(1000)])
    scanTest(#"{"a":1E-3}"#, ["a"], [.float(0.001)])
    scanTest(#"{"a":2.5e+2}"#, ["a"], [.float(250)])
    scanTest(#"{"a":48.858844}"#, ["a"], [.float(48.858844)])
    scanTest(#"{"a":0.30000000000000004}"#, ["a"], [.float(0.30000000000000004)])
    scanTest(#"{"a":1.7976931348623157e308}"#, ["a"], [.float(.greatestFiniteMagnitude)])
    scanTest(#"{"a":5e-324}"#, ["a"], [.float(.leastNonzeroMagnitude)])
    scanTest(#"{"a":123456789012345678.5}"#, ["a"], [.float(123_456_789_012_345_678.5)])
    scanTest(#"{"a":0.000000000000000000000000001}"#, ["a"], [.float(1e-27)])
  }

  func testNumbers_HugeExponents() {
    // Beyond a double is an error when projected (it would read as infinity); underflow is 0.
    scanErrorTest(#"{"a":1e400}"#, .numberOutOfRange(offset: 5))
    scanErrorTest(#"{"a":-1e400}"#, .numberOutOfRange(offset: 5))
    scanTest(#"{"a":1e-400}"#, ["a"], [.float(0)])
    scanErrorTest(#"{"a":1e99999999999999999999}"#, .numberOutOfRange(offset: 5))
    scanTest(#"{"a":1e-99999999999999999999}"#, ["a"], [.float(0)])
    scanErrorTest(#"{"b":2,"a":1.8e308}"#, .numberOutOfRange(offset: 11))
    // Unprojected numbers are only checked for syntax.
    scanTest(#"{"a":1,"b":1e400}"#, ["a"], [.int(1)])
  }

  func testNumbers_Invalid() {
    scanErrorTest(#"{"a":01}"#, .invalidJSON(offset: 6, expected: .commaOrObjectEnd))
    scanErrorTest(#"{"a":-}"#, .invalidJSON(offset: 6, expected: .digit))
    scanErrorTest(#"{"a":1.}"#, .invalidJSON(offset: 7, expected: .digit))
    scanErrorTest(#"{"a":.5}"#, .invalidJSON(offset: 5, expected: .value))
    scanErrorTest(#"{"a":1e}"#, .invalidJSON(offset: 7, expected: .digit))
    scanErrorTest(#"{"a":1e+}"#, .invalidJSON(offset: 8, expected: .digit))
    scanErrorTest(#"{"a":+1}"#, .invalidJSON(offset: 5, expected: .value))
    scanErrorTest(#"{"a":0x10}"#, .invalidJSON(offset: 6, expected: .commaOrObjectEnd))
    scanErrorTest(#"{"a":NaN}"#, .invalidJSON(offset: 5, expected: .value))
    scanErrorTest(#"{"z":1.e5,"a":1}"#, .invalidJSON(offset: 7, expected: .digit))
  }

  func testLiterals_Invalid() {
    scanErrorTest(#"{"a":tru}"#, .invalidJSON(offset: 8, expected: .literal))
    scanErrorTest(#"{"a":nul"#, .invalidJSON(offset: 8, expected: .literal))
    scanErrorTest(#"{"z":fals,"a":1}"#, .invalidJSON(offset: 9, expected: .literal))
    scanErrorTest(#"{"a":True}"#, .invalidJSON(offset: 5, expected: .value))
  }

  func testStructure_Invalid() {
    scanErrorTest(#"{"a":1"#, .invalidJSON(offset: 6, expected: .commaOrObjectEnd))
    scanErrorTest(#"{"a":1,}"#, .invalidJSON(offset: 7, expected: .objectKey))
    scanErrorTest(#"{"a" 1}"#, .invalidJSON(offset: 5, expected: .colon))
    scanErrorTest(#"{a:1}"#, .invalidJSON(offset: 1, expected: .objectKey))
    scanErrorTest(#"{"a":}"#, .invalidJSON(offset: 5, expected: .value))
    scanErrorTest(#"{"a":"x}"#, .invalidJSON(offset: 8, expected: .closingQuote))
    scanErrorTest(#"{"z":[1,2,],"a":1}"#, .invalidJSON(offset: 10, expected: .value))
    scanErrorTest(#"{"z":[1 2],"a":1}"#, .invalidJSON(offset: 8, expected: .commaOrArrayEnd))
    scanErrorTest(#"{"z":{"q" 1}}"#, .invalidJSON(offset: 10, expected: .colon))
    scanErrorTest(#"{"a":1;"b":2}"#, .invalidJSON(offset: 6, expected: .commaOrObjectEnd))
    scanErrorTest(#"{"a":1}}"#, .trailingCharacters(offset: 7))
    scanErrorTest(#"{"a":1} x"#, .trailingCharacters(offset: 8))
    scanErrorTest(#"{"a":1}{"a":2}"#, .trailingCharacters(offset: 7))
    scanErrorTest(#"hello"#, .invalidJSON(offset: 0, expected: .object))
  }

  func testNotAnObject() {
    scanErrorTest(#"[1,2]"#, .notAnObject(offset: 0))
    scanErrorTest(#""text""#, .notAnObject(offset: 0))
    scanErrorTest(#"42"#, .notAnObject(offset: 0))
    scanErrorTest(#"  null"#, .notAnObject(offset: 2))
    scanErrorTest(#"true"#, .notAnObject(offset: 0))
  }

  func testEmptyLine() {
    scanErrorTest("", .emptyLine)
    scanErrorTest("   ", .emptyLine)
    scanErrorTest("\r", .emptyLine)
    scanErrorTest(" \t ", .emptyLine)
  }

  func testCRLF_CarriageReturnIsWhitespace() {
    scanTest("{\"a\":1}\r", ["a"], [.int(1)])
    scanTest("{\"a\":1}\r\n", ["a"], [.int(1)])
  }

  func testNesting_Limit() {
    func nested(_ depth: Int) -> String {
      // The event object plus `depth - 1` arrays.
      #"{"z":"# + String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1)
        + #","a":1}"#
    }
    scanTest(nested(64), ["a"], [.int(1)])
    scanErrorTest(nested(65), .nestingTooDeep(offset: 5 + 63, limit: 64))
    scanErrorTest(nested(10_000), .nestingTooDeep(offset: 5 + 63, limit: 64))
    // Projected nested objects count too.
    var deep = ""
    for _ in 0..<64 { deep += #"{"a":"# }
    deep += "1" + String(repeating: "}", count: 64)
    scanTest(deep, [Array(repeating: "a", count: 64).joined(separator: ".")], [.int(1)])
    scanErrorTest(#"{"a":"# + deep + "}", .nestingTooDeep(offset: 5 + 63 * 5, limit: 64),
      paths: [Array(repeating: "a", count: 65).joined(separator: ".")])
    // Unterminated deep input is an error, not a crash.
    scanErrorTest(#"{"z":"# + String(repeating: "[", count: 30), .invalidJSON(offset: 35, expected: .value))
  }

  func testScanner_ReusesSlotBuffer() {
    var scanner = EventScanner(projection: FieldProjection([FieldPath(["a"]), FieldPath(["b"])]))
    var slots: [Value] = []
    for (line, expected) in [(#"{"a":1,"b":2}"#, [Value.int(1), .int(2)]), (#"{"b":3}"#, [.null, .int(3)])] {
      XCTAssertNoThrow(try scanner.scan(line, into: &slots))
      XCTAssertEqual(slots, expected)
    }
  }

  func testScanError_ReasonsAndMessages() {
    XCTAssertEqual(ScanError.emptyLine.reason, .invalidJSON)
    XCTAssertEqual(ScanError.notAnObject(offset: 0).reason, .notAnObject)
    XCTAssertEqual(ScanError.nestingTooDeep(offset: 3, limit: 64).reason, .nestingTooDeep)
    XCTAssertEqual(ScanError.invalidUTF8(offset: 3).reason, .invalidUTF8)
    XCTAssertEqual(ScanError.trailingCharacters(offset: 3).reason, .invalidJSON)
    XCTAssertEqual(
      ScanError.invalidJSON(offset: 5, expected: .colon).message, "invalid JSON at byte 5: expected ':'")
  }

  func testSWAR_SpecialByteDetectionIsExact() {
    let filler = UInt64(UInt8(ascii: "a")) &* 0x0101_0101_0101_0101
    XCTAssertFalse(_JSONScanner.hasSpecialByte(filler))
    for byte in 0...255 {
      let isSpecial = byte == 0x22 || byte == 0x5C || byte < 0x20 || byte >= 0x80
      for position in 0..<8 {
        let shift = UInt64(8 * position)
        let word = (filler & ~(0xFF << shift)) | (UInt64(byte) << shift)
        XCTAssertEqual(_JSONScanner.hasSpecialByte(word), isSpecial, "byte \(byte) at \(position)")
      }
    }
  }

  /// A member written compactly (`"a":V,`) is read by the scanner's compact path, the same
  /// member with whitespace around its colon and comma by the general one: they must agree on
  /// every value and every error (its offset shifted by the two spaces before `V`). Each line is
  /// scanned twice by one scanner, so the second scan confirms its keys by prediction.
  func testCompactMembers_AgreeWithSpacedOnes() {
    let values = [
      #""plain""#, #""""#, #""fifteen bytes!!""#, #""sixteen bytes!!!""#, #""é accent""#, #""tab\tescaped""#,
      #""\u00e9""#, "\"ctl\u{01}\"", "0", "-0", "42", "-17", "1767225600058", "999999999999999999",
      "9223372036854775808", "12.345", "-33.8688", "1e3", "2.5e+2", "1e400", "01", "-", "1.", ".5", "+1", "0x10",
      "true", "false", "null", "tru", "{}", #"{"x":1}"#, "[1,2]",
    ]
    for value in values {
      let compact = Array(#"{"a":"#.utf8) + Array(value.utf8) + Array(#","b":2}"#.utf8)
      let spaced = Array(#"{"a" : "#.utf8) + Array(value.utf8) + Array(#" , "b" : 2}"#.utf8)
      var scanner = EventScanner(projection: FieldProjection([FieldPath(["a"]), FieldPath(["b"])]))
      var reference = EventScanner(projection: FieldProjection([FieldPath(["a"]), FieldPath(["b"])]))
      for pass in 1...2 {
        let read = scanWith(&scanner, compact)
        let expected = scanWith(&reference, spaced)
        switch (read, expected) {
        case (.success(let slots), .success(let want)):
          XCTAssertEqual(slots, want, "\(value), pass \(pass)")
        case (.failure(let error), .failure(let want)):
          XCTAssertEqual(error.reason, want.reason, "\(value), pass \(pass)")
          XCTAssertEqual(error.offset.map { $0 + 2 }, want.offset, "\(value), pass \(pass): \(error) vs \(want)")
        default:
          XCTFail("\(value), pass \(pass): compact \(read), spaced \(expected)")
        }
      }
    }
  }

  func testProjection_ManyAndLongKeys() {
    // 40 keys sharing their first 8 bytes, keys of exactly 8 bytes, and a key at the line's end.
    let keys = (0..<40).map { "field_number_\($0)" } + ["abcdefgh", "abcdefg", "abcdefghi", "k"]
    let line = "{" + keys.enumerated().map { "\"\($0.element)\":\($0.offset)" }.joined(separator: ",") + "}"
    scanTest(line, keys, keys.indices.map { .int(Int64($0)) })
    scanTest(line, keys.reversed(), keys.indices.reversed().map { .int(Int64($0)) })
    scanTest(line, ["field_number_4", "field_number_", "abcdefgh_", "field_number_400"], [.int(4), .null, .null, .null])
    scanTest(#"{"k":1}"#, ["k"], [.int(1)])
    scanTest(#"{"kk":1}"#, ["k"], [.null])
    scanTest(#"{"":1}"#, [""], [.int(1)])
  }
}
