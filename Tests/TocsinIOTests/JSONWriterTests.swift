import TocsinCore
import XCTest

@testable import TocsinIO

/// One row: writing `value` alone gives exactly `expected`.
private func valueTest(_ value: Value, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
  var json = JSONWriter()
  json.value(value)
  XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), expected, file: file, line: line)
}

final class JSONWriterTests: XCTestCase {
  func testValues() {
    valueTest(.null, "null")
    valueTest(.bool(true), "true")
    valueTest(.bool(false), "false")
    valueTest(.int(0), "0")
    valueTest(.int(-42), "-42")
    valueTest(.int(.max), "9223372036854775807")
    valueTest(.int(.min), "-9223372036854775808")
    valueTest(.int(7), "7")
    valueTest(.int(10), "10")
    valueTest(.int(-1), "-1")
    valueTest(.int(1_000_000_007), "1000000007")
    valueTest(.float(1.0), "1.0")
    valueTest(.float(-0.0), "-0.0")
    valueTest(.float(0.1), "0.1")
    valueTest(.float(2.5), "2.5")
    valueTest(.float(1e20), "1e+20")
    valueTest(.float(1e-7), "1e-07")
    valueTest(.float(123456789012345.0), "123456789012345.0")
    valueTest(.float(.nan), "null")
    valueTest(.float(.infinity), "null")
    valueTest(.float(-.infinity), "null")
  }

  /// Times are written straight into the buffer: the same text as ``EventTime/rfc3339``.
  func testTimes() {
    let cases: [(EventTime, String)] = [
      (EventTime(nanosecondsSinceEpoch: 0), "1970-01-01T00:00:00.000Z"),
      (.milliseconds(1_767_225_600_058), "2026-01-01T00:00:00.058Z"),
      (EventTime(nanosecondsSinceEpoch: 1_767_225_600_000_001_000), "2026-01-01T00:00:00.000001Z"),
      (EventTime(nanosecondsSinceEpoch: 1_767_225_600_123_456_789), "2026-01-01T00:00:00.123456789Z"),
      (EventTime(nanosecondsSinceEpoch: -1), "1969-12-31T23:59:59.999999999Z"),
      (EventTime(nanosecondsSinceEpoch: .max - 1), "2262-04-11T23:47:16.854775806Z"),
      (.infinity, "+inf"),
      (.negativeInfinity, "-inf"),
    ]
    for (time, text) in cases {
      XCTAssertEqual(time.rfc3339, text)
      valueTest(.time(time), "\"\(text)\"")
    }
  }

  func testStringEscaping() {
    valueTest(.string(""), #""""#)
    valueTest(.string("plain"), #""plain""#)
    valueTest(.string(#"q"b\s/"#), #""q\"b\\s/""#)
    valueTest(.string("\n\r\t\u{8}\u{c}"), #""\u000a\u000d\u0009\u0008\u000c""#)
    valueTest(.string("\u{0}\u{1f}"), #""\u0000\u001f""#)
    valueTest(.string("\u{7f}"), "\"\u{7f}\"")
    valueTest(.string("é日😀"), #""é日😀""#)
  }

  /// Random strings of plain text, quotes, backslashes, control bytes and multi-byte scalars
  /// (escapes first, last, back to back, or none): the writer escapes exactly as a scalar by
  /// scalar reference does, whether the string goes out whole or through a cursor sized by
  /// ``JSONWriter/Cursor/escapedCount(_:)`` (a cursor traps rather than overrun).
  func testStringEscaping_RandomStringsMatchAReference() {
    func reference(_ text: String) -> String {
      let hex = Array("0123456789abcdef")
      var out = "\""
      for scalar in text.unicodeScalars {
        switch scalar.value {
        case 0x22: out += "\\\""
        case 0x5C: out += "\\\\"
        case 0..<0x20: out += "\\u00" + String(hex[Int(scalar.value >> 4)]) + String(hex[Int(scalar.value & 0xF)])
        default: out.unicodeScalars.append(scalar)
        }
      }
      return out + "\""
    }
    let pieces = ["a", "plain text ", "\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "日", "😀", "/"]
    var rng = SplitMix64(seed: 0x5E5C)
    var escaped = 0
    for round in 0..<2000 {
      var text = ""
      for _ in 0..<Int.random(in: 0...12, using: &rng) { text += pieces.randomElement(using: &rng) ?? "" }
      var json = JSONWriter()
      json.value(.string(text))
      XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), reference(text), "round \(round)")
      if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) { escaped += 1 }
    }
    // Both ways out were taken many times.
    XCTAssertGreaterThan(escaped, 500)
    XCTAssertLessThan(escaped, 1900)
  }

  func testRawBytes_InvalidUTF8Replaced() {
    var json = JSONWriter()
    let bytes: [UInt8] = [0x61, 0xFF, 0x62, 0xC3, 0xA9, 0xC3]
    bytes.withUnsafeBytes { json.string(bytes: $0) }
    XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), "\"a\u{FFFD}bé\u{FFFD}\"")
  }

  func testStructure() {
    var json = JSONWriter()
    json.beginObject()
    json.field("a", .int(1))
    json.key("list")
    json.beginArray()
    json.value(.string("x"))
    json.beginObject()
    json.endObject()
    json.beginArray()
    json.endArray()
    json.null()
    json.endArray()
    json.key("o")
    json.beginObject()
    json.field("k", .bool(true))
    json.endObject()
    json.field("z", .float(0.5))
    json.endObject()
    json.newline()
    json.beginObject()
    json.endObject()
    XCTAssertEqual(
      String(decoding: json.bytes, as: UTF8.self), #"{"a":1,"list":["x",{},[],null],"o":{"k":true},"z":0.5}"# + "\n{}")
    json.reset()
    json.beginArray()
    json.int(1)
    json.int(2)
    json.endArray()
    XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), "[1,2]")
  }

  func testOutputIsReadableByTheScanner() throws {
    var json = JSONWriter()
    let text = "tab\t quote\" slash\\ nul\u{0} é😀"
    json.beginObject()
    json.field("s", .string(text))
    json.field("f", .float(0.1))
    json.field("i", .int(.min))
    json.endObject()
    var scanner = EventScanner(projection: FieldProjection([FieldPath(["s"]), FieldPath(["f"]), FieldPath(["i"])]))
    var slots: [Value] = []
    try scanner.scan(String(decoding: json.bytes, as: UTF8.self), into: &slots)
    XCTAssertEqual(slots, [.string(text), .float(0.1), .int(.min)])
  }
}
