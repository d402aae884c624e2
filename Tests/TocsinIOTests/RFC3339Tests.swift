import TocsinCore
import XCTest

@testable import TocsinIO

/// One row: `text` parses to `nanoseconds` since the epoch (or is rejected when `nil`).
private func rfcTest(
  _ text: String, _ nanoseconds: Int64?, file: StaticString = #filePath, line: UInt = #line
) {
  XCTAssertEqual(RFC3339.parse(text)?.nanosecondsSinceEpoch, nanoseconds, text, file: file, line: line)
}

final class RFC3339Tests: XCTestCase {
  func testValid() {
    rfcTest("1970-01-01T00:00:00Z", 0)
    rfcTest("1970-01-01T00:00:01Z", 1_000_000_000)
    rfcTest("1969-12-31T23:59:59Z", -1_000_000_000)
    rfcTest("2026-11-28T03:31:59Z", 1_795_836_719_000_000_000)
    rfcTest("2026-11-28T03:31:59.120Z", 1_795_836_719_120_000_000)
    rfcTest("2026-11-28T03:31:59.1Z", 1_795_836_719_100_000_000)
    rfcTest("2026-11-28T03:31:59.123456789Z", 1_795_836_719_123_456_789)
    rfcTest("2026-11-28t03:31:59z", 1_795_836_719_000_000_000)
    rfcTest("2026-11-28 03:31:59Z", 1_795_836_719_000_000_000)
    rfcTest("2026-11-28T04:31:59+01:00", 1_795_836_719_000_000_000)
    rfcTest("2026-11-27T22:01:59-05:30", 1_795_836_719_000_000_000)
    rfcTest("2026-11-28T03:31:59.5+00:00", 1_795_836_719_500_000_000)
    rfcTest("2026-11-28T03:31:59-00:00", 1_795_836_719_000_000_000)
    rfcTest("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000)
    rfcTest("2000-02-29T00:00:00Z", 951_782_400_000_000_000)
    rfcTest("2026-12-31T23:59:59Z", 1_798_761_599_000_000_000)
    rfcTest("1700-01-01T00:00:00Z", -8_520_336_000_000_000_000)
    rfcTest("2262-04-11T23:47:16.854775806Z", Int64.max - 1)
    rfcTest("1677-09-21T00:12:43.145224193Z", Int64.min + 1)
    rfcTest("1969-12-31T23:59:59.5Z", -500_000_000)
  }

  func testInvalid() {
    rfcTest("", nil)
    rfcTest("2026-11-28", nil)
    rfcTest("2026-11-28T03:31:59", nil)  // no zone
    rfcTest("2026-13-01T00:00:00Z", nil)
    rfcTest("2026-00-01T00:00:00Z", nil)
    rfcTest("2026-11-00T00:00:00Z", nil)
    rfcTest("2026-11-31T00:00:00Z", nil)
    rfcTest("2026-02-29T00:00:00Z", nil)
    rfcTest("1900-02-29T00:00:00Z", nil)
    rfcTest("2026-11-28T24:00:00Z", nil)
    rfcTest("2026-11-28T23:60:00Z", nil)
    rfcTest("2026-11-28T23:59:60Z", nil)  // leap seconds are not representable
    rfcTest("2026-11-28T03:31:59.Z", nil)
    rfcTest("2026-11-28T03:31:59.1234567891Z", nil)
    rfcTest("2026-11-28T03:31:59+0100", nil)
    rfcTest("2026-11-28T03:31:59+01", nil)
    rfcTest("2026-11-28T03:31:59+24:00", nil)
    rfcTest("2026-11-28T03:31:59+01:60", nil)
    rfcTest("2026-11-28T03:31:59ZZ", nil)
    rfcTest("2026-11-28T03:31:59Z ", nil)
    rfcTest(" 2026-11-28T03:31:59Z", nil)
    rfcTest("2026/11/28T03:31:59Z", nil)
    rfcTest("2026-11-28X03:31:59Z", nil)
    rfcTest("2O26-11-28T03:31:59Z", nil)
    rfcTest("+2026-11-28T03:31:59Z", nil)
    rfcTest("9999-12-31T23:59:59Z", nil)  // outside EventTime's range
    rfcTest("2262-04-11T23:47:16.854775807Z", nil)  // the +∞ sentinel
    rfcTest("1677-09-21T00:12:43.145224192Z", nil)  // the -∞ sentinel
    rfcTest("2262-04-11T23:47:16.854775808Z", nil)
    rfcTest("0001-01-01T00:00:00Z", nil)
  }

  /// The digit writer under the RFC 3339 and JSON number formatting: right-aligned, zero-padded,
  /// the last `width` digits when the value has more.
  func testDecimalDigits() {
    let cases: [(value: UInt64, width: Int, text: String, count: Int)] = [
      (0, 1, "0", 1), (7, 2, "07", 1), (59, 2, "59", 2), (2026, 4, "2026", 4), (123, 9, "000000123", 3),
      (12345, 3, "345", 5), (UInt64.max, 20, "18446744073709551615", 20),
      (9_223_372_036_854_775_808, 19, "9223372036854775808", 19),
    ]
    for c in cases {
      let text = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: c.width) { buffer in
        DecimalDigits.write(c.value, width: c.width, to: buffer.baseAddress!)
        return String(decoding: buffer, as: UTF8.self)
      }
      XCTAssertEqual(text, c.text, "\(c.value) in \(c.width)")
      XCTAssertEqual(DecimalDigits.count(c.value), c.count, "\(c.value)")
    }
  }

  func testEventTimeFormatting() {
    let cases: [(ns: Int64, text: String)] = [
      (0, "1970-01-01T00:00:00.000Z"),
      (1, "1970-01-01T00:00:00.000000001Z"),
      (1_000, "1970-01-01T00:00:00.000001Z"),
      (-1, "1969-12-31T23:59:59.999999999Z"),
      (-86_400_000_000_001, "1969-12-30T23:59:59.999999999Z"),
      (1_795_836_719_120_000_000, "2026-11-28T03:31:59.120Z"),
      (951_782_400_000_000_000, "2000-02-29T00:00:00.000Z"),
    ]
    for c in cases { XCTAssertEqual(EventTime(nanosecondsSinceEpoch: c.ns).rfc3339, c.text, "\(c.ns)") }
    XCTAssertEqual(EventTime.infinity.rfc3339, "+inf")
    XCTAssertEqual(EventTime.negativeInfinity.rfc3339, "-inf")

    // Through one `RFC3339Days`, which reuses the last date's text: the same texts in every
    // order, the cases above (each day kept, then left), and runs on one day, across midnight
    // both ways, through the sentinels (which keep nothing) and before the epoch.
    var days = RFC3339Days()
    let day: Int64 = 86_400_000_000_000
    var times = cases.map(\.ns) + cases.map(\.ns).reversed()
    times += [0, 1, day - 1, day, day - 1, 0, -1, -day, -day - 1, -1, Int64.max, Int64.min, 5, Int64.max, 5 + day]
    times += (0..<400).map { 1_795_836_719_120_000_000 + Int64($0) * 3_600_000_000_007 * ($0 % 3 == 0 ? -1 : 1) }
    for ns in times {
      let time = EventTime(nanosecondsSinceEpoch: ns)
      var bytes = [UInt8](repeating: 0, count: EventTime.rfc3339MaxBytes)
      let n = bytes.withUnsafeMutableBufferPointer { days.write(time, into: $0.baseAddress!) }
      XCTAssertEqual(String(decoding: bytes[..<n], as: UTF8.self), time.rfc3339, "\(ns)")
    }
  }

  func testRoundTripWithEventTimeFormatting() {
    for ns: Int64 in [0, 1, 999_999_999, 1_795_836_719_120_000_000, -86_400_000_000_001, 1_234_567_891_011_121_314] {
      let time = EventTime(nanosecondsSinceEpoch: ns)
      XCTAssertEqual(RFC3339.parse(time.rfc3339), time, time.rfc3339)
    }
  }
}
