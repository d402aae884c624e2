import TocsinCore
import XCTest

@testable import TocsinIO

private func decoder(_ format: TimeFormat = .auto, rules: [String] = ["type"]) -> EventDecoder {
  EventDecoder(
    ruleProjection: FieldProjection(rules.map { FieldPath(dotted: $0) }),
    options: IngestOptions(timeFormat: format))
}

/// One row: `line` decodes under `format` to an event at `nanoseconds` with `identity`.
private func decodeTest(
  _ format: TimeFormat, _ line: String, _ nanoseconds: Int64, identity: String? = nil,
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  var d = decoder(format)
  do {
    let record = try d.decode(line, lineNumber: 7, sequence: 3)
    XCTAssertEqual(record.time.nanosecondsSinceEpoch, nanoseconds, file: file, line: testLine)
    if let identity { XCTAssertEqual(record.identity, identity, file: file, line: testLine) }
    XCTAssertEqual(record.line, 7, file: file, line: testLine)
    XCTAssertEqual(record.sequence, 3, file: file, line: testLine)
  } catch {
    XCTFail("unexpected \(error)", file: file, line: testLine)
  }
}

/// One row: `line` is rejected under `format` with `expected`.
private func decodeErrorTest(
  _ format: TimeFormat, _ line: String, _ expected: IngestError,
  file: StaticString = #filePath, line testLine: UInt = #line
) {
  var d = decoder(format)
  do {
    let record = try d.decode(line)
    XCTFail("expected \(expected), got \(record)", file: file, line: testLine)
  } catch {
    XCTAssertEqual(error, expected, file: file, line: testLine)
  }
}

private let ts = FieldPath(["ts"])

private func hashIdentity(_ line: String) -> String {
  var hash = StableHash()
  hash.combine(bytes: Array(line.utf8))
  return "#" + hash.hex
}

final class EventDecoderTests: XCTestCase {
  func testTime_Formats() {
    decodeTest(.auto, #"{"ts":1700000000123}"#, 1_700_000_000_123_000_000)
    decodeTest(.auto, #"{"ts":1700000000123.5}"#, 1_700_000_000_123_500_000)
    decodeTest(.auto, #"{"ts":-1.5}"#, -1_500_000)
    decodeTest(.auto, #"{"ts":0}"#, 0)
    decodeTest(.auto, #"{"ts":"2026-11-28T03:31:59.120Z"}"#, 1_795_836_719_120_000_000)
    decodeTest(.epochMillis, #"{"ts":1700000000123}"#, 1_700_000_000_123_000_000)
    decodeTest(.epochSeconds, #"{"ts":1700000000}"#, 1_700_000_000_000_000_000)
    decodeTest(.epochSeconds, #"{"ts":1700000000.25}"#, 1_700_000_000_250_000_000)
    decodeTest(.epochMicros, #"{"ts":1700000000123456}"#, 1_700_000_000_123_456_000)
    decodeTest(.epochNanos, #"{"ts":1700000000123456789}"#, 1_700_000_000_123_456_789)
    decodeTest(.rfc3339, #"{"ts":"2026-11-28T04:31:59+01:00"}"#, 1_795_836_719_000_000_000)
  }

  func testTime_Missing() {
    decodeErrorTest(.auto, #"{"type":"x"}"#, .missingTime(field: ts))
    decodeErrorTest(.auto, #"{"ts":null}"#, .missingTime(field: ts))
    decodeErrorTest(.auto, #"{"t":{"ts":1}}"#, .missingTime(field: ts))
  }

  func testTime_Invalid() {
    decodeErrorTest(.auto, #"{"ts":"yesterday"}"#, .invalidTime(field: ts, text: "yesterday"))
    decodeErrorTest(.auto, #"{"ts":"2026-13-01T00:00:00Z"}"#, .invalidTime(field: ts, text: "2026-13-01T00:00:00Z"))
    decodeErrorTest(.auto, #"{"ts":true}"#, .invalidTime(field: ts, text: "true"))
    decodeErrorTest(.auto, #"{"ts":{"s":1}}"#, .missingTime(field: ts))  // objects project as null
    // Well-formed but outside 1677-09-21…2262-04-11 (the ±∞ sentinels included).
    decodeErrorTest(.auto, #"{"ts":9223372036854775807}"#, .timeOutOfRange(field: ts, text: "9223372036854775807"))
    decodeErrorTest(.auto, #"{"ts":1e300}"#, .timeOutOfRange(field: ts, text: "1e+300"))
    decodeErrorTest(.auto, #"{"ts":1e400}"#, .scan(.numberOutOfRange(offset: 6)))
    decodeErrorTest(.epochNanos, #"{"ts":9223372036854775807}"#, .timeOutOfRange(field: ts, text: "9223372036854775807"))
    decodeErrorTest(.epochNanos, #"{"ts":-9223372036854775808}"#, .timeOutOfRange(field: ts, text: "-9223372036854775808"))
    decodeErrorTest(.epochSeconds, #"{"ts":10000000000}"#, .timeOutOfRange(field: ts, text: "10000000000"))
    decodeErrorTest(.auto, #"{"ts":"1677-09-21T00:00:00Z"}"#, .timeOutOfRange(field: ts, text: "1677-09-21T00:00:00Z"))
    decodeErrorTest(.auto, #"{"ts":"2262-04-12T00:00:00Z"}"#, .timeOutOfRange(field: ts, text: "2262-04-12T00:00:00Z"))
    decodeErrorTest(.auto, #"{"ts":"0000-01-01T00:00:00Z"}"#, .timeOutOfRange(field: ts, text: "0000-01-01T00:00:00Z"))
    decodeErrorTest(.epochMillis, #"{"ts":"2026-11-28T03:31:59Z"}"#, .invalidTime(field: ts, text: "2026-11-28T03:31:59Z"))
    decodeErrorTest(.rfc3339, #"{"ts":1700000000123}"#, .invalidTime(field: ts, text: "1700000000123"))
    let long = String(repeating: "x", count: 100)
    decodeErrorTest(.auto, #"{"ts":"\#(long)"}"#, .invalidTime(field: ts, text: String(repeating: "x", count: 64)))
  }

  func testScanErrorsPassThrough() {
    decodeErrorTest(.auto, #"{"ts":1"#, .scan(.invalidJSON(offset: 7, expected: .commaOrObjectEnd)))
    decodeErrorTest(.auto, "", .scan(.emptyLine))
    decodeErrorTest(.auto, "[]", .scan(.notAnObject(offset: 0)))
  }

  func testIdentity() {
    decodeTest(.auto, #"{"ts":1,"id":"evt-42"}"#, 1_000_000, identity: "evt-42")
    decodeTest(.auto, #"{"ts":1,"id":42}"#, 1_000_000, identity: "42")
    decodeTest(.auto, #"{"ts":1,"id":-7}"#, 1_000_000, identity: "-7")
    decodeTest(.auto, #"{"ts":1}"#, 1_000_000, identity: hashIdentity(#"{"ts":1}"#))
    decodeTest(.auto, #"{"ts":1,"id":""}"#, 1_000_000, identity: hashIdentity(#"{"ts":1,"id":""}"#))
    decodeTest(.auto, #"{"ts":1,"id":1.5}"#, 1_000_000, identity: hashIdentity(#"{"ts":1,"id":1.5}"#))
    decodeTest(.auto, #"{"ts":1,"id":null}"#, 1_000_000, identity: hashIdentity(#"{"ts":1,"id":null}"#))
    // The hash depends on the bytes only, never on arrival position.
    XCTAssertEqual(hashIdentity(#"{"ts":1}"#), "#" + { var h = StableHash(); h.combine(bytes: Array(#"{"ts":1}"#.utf8)); return h.hex }())
    XCTAssertNotEqual(hashIdentity(#"{"ts":1}"#), hashIdentity(#"{"ts":2}"#))
  }

  func testProjection_TimeAndIdSlotsFollowRuleSlots() throws {
    var d = decoder(.auto, rules: ["type", "geo.lat"])
    XCTAssertEqual(d.projection.paths.map(\.description), ["type", "geo.lat", "ts", "id"])
    XCTAssertEqual(d.timeSlot, SlotIndex(2))
    XCTAssertEqual(d.idSlot, SlotIndex(3))
    let record = try d.decode(#"{"id":"e1","type":"purchase","geo":{"lat":48.85},"ts":5,"x":[1]}"#)
    XCTAssertEqual(record.slots, [.string("purchase"), .float(48.85), .int(5), .string("e1")])

    let shared = EventDecoder(
      ruleProjection: FieldProjection([FieldPath(["ts"]), FieldPath(["id"])]), options: IngestOptions())
    XCTAssertEqual(shared.projection.count, 2)
    XCTAssertEqual(shared.timeSlot, SlotIndex(0))

    let custom = EventDecoder(
      ruleProjection: FieldProjection(),
      options: IngestOptions(timeField: FieldPath(dotted: "meta.time"), idField: FieldPath(["uuid"])))
    var c = custom
    let r = try c.decode(#"{"meta":{"time":"2026-11-28T03:31:59Z"},"uuid":"u"}"#)
    XCTAssertEqual(r.time.nanosecondsSinceEpoch, 1_795_836_719_000_000_000)
    XCTAssertEqual(r.identity, "u")
  }

  func testIngestError_Reasons() {
    XCTAssertEqual(IngestError.missingTime(field: ts).reason, .missingTime)
    XCTAssertEqual(IngestError.invalidTime(field: ts, text: "x").reason, .invalidTime)
    XCTAssertEqual(IngestError.scan(.invalidUTF8(offset: 1)).reason, .invalidUTF8)
    XCTAssertEqual(IngestError.missingTime(field: ts).message, "missing time field 'ts'")
    XCTAssertEqual(IngestError.invalidTime(field: ts, text: "x").message, "invalid time in field 'ts': 'x'")
  }
}
