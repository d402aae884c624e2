import TocsinCore
import XCTest

@testable import TocsinIO

#if canImport(Glibc)
  import Glibc
#endif

/// One row: the record for these inputs is exactly `expected` (plus a newline).
private func deadLetterTest(
  line: Int, offset: Int64, _ reason: DeadLetterReason, _ message: String, raw: [UInt8],
  extra: [(String, Value)] = [], _ expected: String, file: StaticString = #filePath, line testLine: UInt = #line
) {
  var json = JSONWriter()
  raw.withUnsafeBytes {
    DeadLetterWriter.encode(
      into: &json, line: line, offset: offset, reason: reason, message: message, raw: $0, extraFields: extra)
  }
  XCTAssertEqual(String(decoding: json.bytes, as: UTF8.self), expected + "\n", file: file, line: testLine)
}

final class DeadLetterTests: XCTestCase {
  func testReasonIDsAreStable() {
    XCTAssertEqual(
      DeadLetterReason.allCases.map(\.id),
      [
        "invalid_json", "not_an_object", "nesting_too_deep", "invalid_utf8", "line_too_long", "missing_time",
        "invalid_time", "time_out_of_range", "number_out_of_range", "missing_key", "late", "time_skew", "state_limit",
      ])
  }

  /// Counts by reason: each reason's ordinal is its place in `allCases` (the table's index), and
  /// the table counts each reason apart.
  func testDeadLetterCounts_OneCounterPerReason() {
    XCTAssertEqual(DeadLetterReason.allCases.map(\.ordinal), Array(DeadLetterReason.allCases.indices))
    var counts = DeadLetterCounts()
    for (n, reason) in DeadLetterReason.allCases.enumerated() where n % 2 == 0 { counts[reason] += n + 1 }
    counts[.stateLimit] += 1
    for (n, reason) in DeadLetterReason.allCases.enumerated() {
      let expected = (n % 2 == 0 ? n + 1 : 0) + (reason == .stateLimit ? 1 : 0)
      XCTAssertEqual(counts[reason], expected, reason.id)
    }
    XCTAssertEqual(counts.total, DeadLetterReason.allCases.map { counts[$0] }.reduce(0, +))
    XCTAssertEqual(counts.nonZero.map(\.reason), DeadLetterReason.allCases.filter { counts[$0] > 0 })
    XCTAssertEqual(DeadLetterCounts(), DeadLetterCounts())
    XCTAssertNotEqual(counts, DeadLetterCounts())
  }

  /// The direct `state_limit` encoder writes exactly what the general one writes for the same
  /// drop, escaping included (a rule or key with quotes, backslashes or control bytes).
  func testStateLimit_SameBytesAsTheGeneralRecord() {
    let cases: [(rule: String, key: String, limit: String, dropped: Int, oldest: Int64, watermark: Int64)] = [
      ("fan_out", "hot", "max_partials_per_key", 3, 1_700_000_000_000, 1_700_000_000_112),
      ("card_velocity", "c000042", "state_budget", 1, 0, 1),
      (#"we"ird\rule"#, "k\n\u{1}é日", "key_ttl", 1_000_000, -5, 1_767_225_600_123),
      ("r", "", "max_partials_per_key", 0, 1_767_225_600_000, 1_767_225_600_000),
      // Escapes first, last and back to back: the runs copied whole between them are empty.
      (#""lead"#, "trail\\", "key_ttl", 2, 1, 2),
      ("\u{0}\u{1F}", #"a""b"#, "state_budget", 7, 3, 4),
    ]
    for c in cases {
      let oldest = EventTime.milliseconds(c.oldest)
      let watermark = EventTime(nanosecondsSinceEpoch: c.watermark * 1_000_000 + 999_999)
      var general = JSONWriter()
      [UInt8]().withUnsafeBytes {
        DeadLetterWriter.encode(
          into: &general, line: 0, offset: -1, reason: .stateLimit,
          message: "\(c.dropped) partial matches of rule '\(c.rule)' for key '\(c.key)' dropped by \(c.limit)",
          raw: $0,
          extraFields: [
            ("rule", .string(c.rule)), ("key", .string(c.key)), ("limit", .string(c.limit)),
            ("dropped", .int(Int64(c.dropped))), ("oldest_start", .string(oldest.rfc3339)),
            ("watermark", .string(watermark.rfc3339)),
          ])
      }
      var direct = JSONWriter()
      DeadLetterWriter.encodeStateLimit(
        into: &direct, rule: c.rule, key: c.key, limit: c.limit, dropped: c.dropped, oldestStart: oldest,
        watermark: watermark)
      XCTAssertEqual(String(decoding: direct.bytes, as: UTF8.self), String(decoding: general.bytes, as: UTF8.self))
    }
  }

  /// The record ``DeadLetterWriter/encode`` spells out in one buffer is byte for byte what the
  /// general writer's calls make of the same inputs: raw lines of plain ASCII, quotes and
  /// backslashes, control bytes, text outside ASCII, invalid UTF-8, one cut at 4 KiB, none at
  /// all; messages that need escapes; extra fields of every kind.
  func testRecord_SameBytesAsTheGeneralWriter() {
    func general(
      line: Int, offset: Int64, reason: DeadLetterReason, message: String, raw: [UInt8], extra: [(String, Value)]
    ) -> String {
      var json = JSONWriter()
      json.beginObject()
      json.field("line", .int(Int64(line)))
      json.field("offset", .int(offset))
      json.field("reason", .string(reason.id))
      json.field("message", .string(message))
      for (key, value) in extra { json.field(key, value) }
      json.key("raw")
      raw.withUnsafeBytes { json.string(bytes: DeadLetterWriter.truncated($0)) }
      json.endObject()
      json.newline()
      return String(decoding: json.bytes, as: UTF8.self)
    }
    let line = Array(#"{"id":"e0000030","ts":1767225600292,"type":"login_failed","user":"u000918","city":"Warsaw"}"#.utf8)
    let raws: [[UInt8]] = [
      [], line, Array(#"{"a":"back\slash","b":""quoted""}"#.utf8), [0x7B, 0x09, 0x0A, 0x00, 0x1F, 0x7D],
      Array(#"{"city":"São Paulo","name":"日本","e":"😀"}"#.utf8), [0x7B, 0x22, 0xFF, 0x22, 0xC3, 0x7D, 0xE2, 0x82],
      Array(repeating: 0x22, count: 5000), Array(repeating: 0x61, count: 4095) + Array("é".utf8) + line,
      Array(repeating: 0x01, count: 300),
    ]
    let extras: [[(String, Value)]] = [
      [], [("time", .string("2026-01-01T00:00:00Z")), ("watermark", .string("2026-01-01T00:00:05Z"))],
      [("rule", .string(#"we"ird\rule"#)), ("n", .int(-42)), ("x", .float(0.5)), ("ok", .bool(true)), ("none", .null)],
      [("k\u{1}é", .list([.string("a"), .int(1)])), ("t", .time(.milliseconds(1_767_225_600_123)))],
    ]
    let messages = ["event has none of the key fields 'card'", #"invalid JSON at byte 6: expected ',' or '}'"#, "tab\there \"q\" é", ""]
    for (r, raw) in raws.enumerated() {
      for (e, extra) in extras.enumerated() {
        for (m, message) in messages.enumerated() {
          for reason in [DeadLetterReason.missingKey, .late, .invalidUTF8] {
            var direct = JSONWriter()
            raw.withUnsafeBytes {
              DeadLetterWriter.encode(
                into: &direct, line: 12 + r, offset: Int64(1000 * e), reason: reason, message: message, raw: $0,
                extraFields: extra)
            }
            XCTAssertEqual(
              String(decoding: direct.bytes, as: UTF8.self),
              general(line: 12 + r, offset: Int64(1000 * e), reason: reason, message: message, raw: raw, extra: extra),
              "raw \(r), extra \(e), message \(m), \(reason)")
          }
        }
      }
    }
  }

  func testRecordShape_ByteExact() {
    deadLetterTest(
      line: 3, offset: 120, .invalidJSON, "invalid JSON at byte 6: expected ',' or '}'", raw: Array(#"{"a":1"#.utf8),
      #"{"line":3,"offset":120,"reason":"invalid_json","message":"invalid JSON at byte 6: expected ',' or '}'","raw":"{\"a\":1"}"#
    )
    deadLetterTest(
      line: 1, offset: 0, .invalidUTF8, "invalid UTF-8 in string at byte 6", raw: [0x7B, 0x22, 0xFF, 0x22, 0x09],
      #"{"line":1,"offset":0,"reason":"invalid_utf8","message":"invalid UTF-8 in string at byte 6","raw":"{\"\#u{FFFD}\"\u0009"}"#
    )
    deadLetterTest(
      line: 9, offset: 77, .late, "event at or behind the watermark", raw: Array(#"{"ts":1}"#.utf8),
      extra: [("time", .string("1970-01-01T00:00:00.001Z")), ("watermark", .string("1970-01-01T00:00:10.000Z"))],
      #"{"line":9,"offset":77,"reason":"late","message":"event at or behind the watermark","time":"1970-01-01T00:00:00.001Z","watermark":"1970-01-01T00:00:10.000Z","raw":"{\"ts\":1}"}"#
    )
    deadLetterTest(
      line: 2, offset: 5, .missingKey, "missing key field 'user'", raw: [], extra: [("rule", .string("r"))],
      #"{"line":2,"offset":5,"reason":"missing_key","message":"missing key field 'user'","rule":"r","raw":""}"#)
  }

  func testRawIsTruncatedTo4KiBOnACharacterBoundary() {
    func rawField(_ raw: [UInt8]) -> String {
      var json = JSONWriter()
      raw.withUnsafeBytes {
        DeadLetterWriter.encode(into: &json, line: 1, offset: 0, reason: .lineTooLong, message: "m", raw: $0)
      }
      let text = String(decoding: json.bytes, as: UTF8.self)
      let start = text.range(of: #""raw":""#)?.upperBound ?? text.endIndex
      return String(text[start...].dropLast(3))  // "}\n
    }
    XCTAssertEqual(rawField(Array(repeating: 0x61, count: 5000)), String(repeating: "a", count: 4096))
    XCTAssertEqual(rawField(Array(repeating: 0x61, count: 4096)), String(repeating: "a", count: 4096))
    // "é" (2 bytes) split by the cut at 4096 is dropped whole.
    let split = Array(repeating: UInt8(0x61), count: 4095) + [0xC3, 0xA9] + [0x62]
    XCTAssertEqual(rawField(split), String(repeating: "a", count: 4095))
    // "😀" (4 bytes) ending exactly at the cut is kept.
    let whole = Array(repeating: UInt8(0x61), count: 4092) + Array("😀".utf8) + [0x62]
    XCTAssertEqual(rawField(whole), String(repeating: "a", count: 4092) + "😀")
    // "😀" split after 3 of its 4 bytes is dropped.
    let split4 = Array(repeating: UInt8(0x61), count: 4093) + Array("😀".utf8)
    XCTAssertEqual(rawField(split4), String(repeating: "a", count: 4093))
  }

  func testWriter_ToFile() throws {
    let path = "/tmp/tocsin-dlq-\(getpid()).ndjson"
    defer { unlink(path) }
    let output = try BufferedWriter(path: path, mode: .truncate)
    let dlq = DeadLetterWriter(output: output)
    var decoder = EventDecoder(ruleProjection: FieldProjection())
    let input = "{\"ts\":\"nope\"}\n" + String(repeating: "x", count: 40) + "\n"
    var data = Array(input.utf8)[...]
    let reader = LineReader(chunkSize: 8, maxLineBytes: 32) { target in
      let n = min(target.count, data.count)
      for i in 0..<n { target[i] = data[data.startIndex + i] }
      data = data.dropFirst(n)
      return n
    }
    while let line = try reader.nextLine() {
      if line.isTooLong {
        try dlq.writeTooLong(line, limit: reader.maxLineBytes)
        continue
      }
      do {
        _ = try decoder.decode(line.bytes, lineNumber: line.number, sequence: 0)
      } catch {
        try dlq.write(error, line: line)
      }
    }
    try output.close()
    XCTAssertEqual(dlq.count, 2)
    let expected =
      #"{"line":1,"offset":0,"reason":"invalid_time","message":"invalid time in field 'ts': 'nope'","raw":"{\"ts\":\"nope\"}"}"#
      + "\n"
      + #"{"line":2,"offset":14,"reason":"line_too_long","message":"line of 40 bytes exceeds the limit of 32 bytes","raw":""#
      + String(repeating: "x", count: 32) + "\"}\n"
    XCTAssertEqual(FileManagerFree.read(path).map { String(decoding: $0, as: UTF8.self) }, expected)
  }
}

final class BufferedWriterTests: XCTestCase {
  func testAppendTruncateAndThreshold() throws {
    let path = "/tmp/tocsin-writer-\(getpid()).txt"
    defer { unlink(path) }
    let first = try BufferedWriter(path: path, mode: .truncate, flushThreshold: 4)
    try first.write("ab")
    XCTAssertEqual(FileManagerFree.read(path), [])  // below the threshold: still buffered
    try first.write("cd")
    XCTAssertEqual(FileManagerFree.read(path), Array("abcd".utf8))  // reached it: written
    try first.write("e")
    try first.flush()
    XCTAssertEqual(first.bytesWritten, 5)
    try first.close()
    try first.close()  // idempotent
    XCTAssertThrowsError(try first.write("x")) { XCTAssertEqual($0 as? OutputError, .closed) }

    let appending = try BufferedWriter(path: path, mode: .append)
    try appending.write([0x66])
    try appending.close()
    XCTAssertEqual(FileManagerFree.read(path), Array("abcdef".utf8))

    let truncating = try BufferedWriter(path: path, mode: .truncate)
    try truncating.write("z")
    try truncating.close()
    XCTAssertEqual(FileManagerFree.read(path), Array("z".utf8))
  }

  func testOpenFailure() {
    XCTAssertThrowsError(try BufferedWriter(path: "/nonexistent-dir/x", mode: .append)) {
      XCTAssertEqual($0 as? OutputError, .openFailed(path: "/nonexistent-dir/x", errno: ENOENT))
    }
  }

  func testBrokenPipe_IsAnErrorNotASignal() throws {
    IgnoreSIGPIPE.install()
    var fds: [Int32] = [0, 0]
    XCTAssertEqual(pipe(&fds), 0)
    close(fds[0])  // no reader
    let writer = BufferedWriter(fileDescriptor: fds[1], ownsDescriptor: true)
    try writer.write("hello\n")
    XCTAssertThrowsError(try writer.flush()) { error in
      XCTAssertEqual(error as? OutputError, .writeFailed(errno: EPIPE))
      XCTAssertTrue((error as? OutputError)?.isBrokenPipe ?? false)
    }
    try writer.flush()  // the failed bytes were dropped: nothing left to write
    try writer.close()
  }
}
