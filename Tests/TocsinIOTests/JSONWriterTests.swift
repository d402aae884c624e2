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

  /// The word masks (``JSONEscapes``) against the byte predicates they stand for: every byte
  /// value at every position of a word, among neighbours that match and that do not (a borrow
  /// or carry from a neighbour would set or clear a bit it does not own).
  func testEscapeMasks_EveryByteAtEveryPosition() {
    func bits(_ word: [UInt8], _ test: (UInt8) -> Bool) -> UInt64 {
      word.enumerated().reduce(0) { $0 | (test($1.element) ? UInt64(0x80) << UInt64(8 * $1.offset) : 0) }
    }
    let escapes: (UInt8) -> Bool = { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
    for filler: UInt8 in [0x61, 0x00, 0x1F, 0x20, 0x22, 0x5C, 0x7F, 0x80, 0xA2, 0xDC, 0xFF] {
      for position in 0..<8 {
        for byte in UInt8.min...UInt8.max {
          var word = [UInt8](repeating: filler, count: 8)
          word[position] = byte
          let value = word.withUnsafeBufferPointer { JSONEscapes.load($0.baseAddress!) }
          XCTAssertEqual(JSONEscapes.mask(value), bits(word, escapes), "\(word)")
          XCTAssertEqual(JSONEscapes.controlMask(value), bits(word) { $0 < 0x20 }, "\(word)")
          XCTAssertEqual(JSONEscapes.nonASCIIMask(value), bits(word) { $0 >= 0x80 }, "\(word)")
        }
      }
    }
  }

  /// Escapes at every position of texts of 0–40 bytes (alone, back to back, and every byte),
  /// so that each falls first, last and in the middle of a word and of the bytes after the last
  /// whole word: the escaped text, ``JSONWriter/Cursor/escapedCount(_:)``, and the same through a
  /// cursor with exactly that room (no whole-word store past the end: the tail's byte path) all
  /// agree with a byte-by-byte reference.
  func testEscaping_AtEveryPositionOfTheWords() {
    func reference(_ bytes: [UInt8]) -> [UInt8] {
      let hex = Array("0123456789abcdef".utf8)
      var out: [UInt8] = []
      for b in bytes {
        switch b {
        case 0x22, 0x5C: out += [0x5C, b]
        case 0..<0x20: out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 0xF)]]
        default: out.append(b)
        }
      }
      return out
    }
    func check(_ text: [UInt8], _ label: String) {
      let expected = reference(text)
      text.withUnsafeBufferPointer { utf8 in
        XCTAssertEqual(JSONWriter.Cursor.escapedCount(utf8), expected.count, label)
        for slack in [0, 3, 8] {
          let written = [UInt8](unsafeUninitializedCapacity: expected.count + slack) { buffer, count in
            var cursor = JSONWriter.Cursor(buffer)
            cursor.put(escaped: utf8)
            count = cursor.count
          }
          XCTAssertEqual(written, expected, "\(label), \(slack) bytes to spare")
        }
      }
      var json = JSONWriter()
      text.withUnsafeBytes { json.string(bytes: $0) }
      XCTAssertEqual(json.bytes, [0x22] + expected + [0x22], label)
    }
    for length in 0...40 {
      let plain = [UInt8](repeating: UInt8(ascii: "x"), count: length)
      check(plain, "length \(length), nothing to escape")
      for escape: UInt8 in [0x22, 0x5C, 0x0A, 0x00, 0x1F] {
        check([UInt8](repeating: escape, count: length), "length \(length), every byte \(escape)")
        for position in 0..<length {
          var one = plain
          one[position] = escape
          check(one, "length \(length), \(escape) at \(position)")
          if position + 1 < length {
            one[position + 1] = 0x22
            check(one, "length \(length), \(escape) and a quote at \(position)")
          }
        }
      }
    }
  }

  func testIsASCII() {
    let cases: [([UInt8], Bool)] = [
      ([], true), (Array("a".utf8), true), (Array("{\"id\":\"e1\"}".utf8), true),
      (Array(repeating: 0x7F, count: 23), true), ([0x80], false), (Array("é".utf8), false),
      // Outside ASCII first, last, in the word the last overlaps, and past 8 bytes.
      ([0xFF] + Array(repeating: 0x61, count: 20), false), (Array(repeating: 0x61, count: 20) + [0xC3], false),
      (Array(repeating: 0x61, count: 12) + [0x80] + Array(repeating: 0x61, count: 3), false),
      (Array(repeating: 0x61, count: 7) + [0x80], false), (Array(repeating: 0x61, count: 9) + [0x80, 0x61], false),
    ]
    for (bytes, expected) in cases {
      XCTAssertEqual(bytes.withUnsafeBytes { JSONEscapes.isASCII($0) }, expected, "\(bytes)")
    }
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
