import Foundation
import TocsinCore
import XCTest

@testable import TocsinIO

/// What one hostile input line must become: an event, nothing (skipped), or a dead letter.
private enum Outcome: Equatable {
  /// Decoded; `field` (if given) reads `value`.
  case event(field: String? = nil, value: Value? = nil)
  /// Not an event and not an error: an empty line, counted and skipped by the session.
  case skipped
  /// Rejected with this dead-letter reason.
  case deadLetter(DeadLetterReason)
}

/// Reads `bytes` as a whole input (through ``LineReader``, one-byte reads so every line
/// straddles a read) and decodes each line as ``ReplaySession`` does.
private func outcomes(_ bytes: [UInt8], maxLineBytes: Int = 256) throws -> [(InputLine, Outcome, EventRecord?)] {
  var position = 0
  let reader = LineReader(chunkSize: 1, maxLineBytes: maxLineBytes) { target in
    guard position < bytes.count, target.count > 0 else { return 0 }
    target[0] = bytes[position]
    position += 1
    return 1
  }
  var decoder = EventDecoder(ruleProjection: FieldProjection(fields.map { FieldPath(dotted: $0) }))
  var out: [(InputLine, Outcome, EventRecord?)] = []
  while let line = try reader.nextLine() {
    if line.isEmpty {
      out.append((line, .skipped, nil))
    } else if line.isTooLong {
      out.append((line, .deadLetter(.lineTooLong), nil))
    } else {
      do {
        let record = try decoder.decode(line.bytes, lineNumber: line.number, sequence: 0)
        out.append((line, .event(), record))
      } catch {
        out.append((line, .deadLetter(error.reason), nil))
      }
    }
  }
  return out
}

/// One row: the single line `bytes` (no terminator added) has `expected` as its outcome.
private func hostileTest(
  _ bytes: [UInt8], _ expected: Outcome, file: StaticString = #filePath, line: UInt = #line
) {
  do {
    let results = try outcomes(bytes)
    XCTAssertEqual(results.count, 1, "lines", file: file, line: line)
    guard let (_, outcome, record) = results.first else { return }
    switch expected {
    case .event(let field?, let value?):
      XCTAssertEqual(outcome, .event(), file: file, line: line)
      // Rule fields come first in the decoder's projection, in the order given.
      let slot = record.flatMap { r in fields.firstIndex(of: field).map { r.slots[$0] } }
      XCTAssertEqual(slot, value, "\(field)", file: file, line: line)
    default:
      XCTAssertEqual(outcome, expected, file: file, line: line)
    }
  } catch {
    XCTFail("reader threw \(error)", file: file, line: line)
  }
}

/// The fields the rules read in these tests.
private let fields = ["type", "amount", "city", "geo.lat"]

private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }
private let head = utf8(#"{"ts":1767225600000,"#)

/// Hostile NDJSON: every kind of malformed, malicious or unlucky line has a defined outcome
/// (docs/operations.md, "Hostile input"), and none crashes or is silently lost.
final class HostileInputTests: XCTestCase {
  func testHostileLines() {
    // Over-long and empty lines.
    hostileTest(head + utf8(#""pad":""#) + Array(repeating: 0x78, count: 300) + utf8(#""}"#), .deadLetter(.lineTooLong))
    hostileTest(utf8("\n"), .skipped)
    hostileTest(utf8("\r"), .skipped)
    hostileTest(utf8(" \t "), .deadLetter(.invalidJSON))
    // Nesting: 64 levels are fine (the event object is level 1), 65 are not.
    hostileTest(head + utf8(#""a":"#) + Array(repeating: 0x5B, count: 63) + Array(repeating: 0x5D, count: 63) + utf8("}"), .event())
    hostileTest(head + utf8(#""a":"#) + Array(repeating: 0x5B, count: 64) + Array(repeating: 0x5D, count: 64) + utf8("}"), .deadLetter(.nestingTooDeep))
    hostileTest(head + utf8(#""geo":{"lat":1}}"#), .event(field: "geo.lat", value: .int(1)))
    // Invalid UTF-8: in a projected value, a skipped value, a key; overlong and surrogate forms.
    hostileTest(head + utf8(#""city":"B"#) + [0xFF] + utf8(#""}"#), .deadLetter(.invalidUTF8))
    hostileTest(head + utf8(#""other":"B"#) + [0xC3] + utf8(#""}"#), .deadLetter(.invalidUTF8))
    hostileTest(head + utf8(#"""#) + [0xC0, 0xAF] + utf8(#"":1}"#), .deadLetter(.invalidUTF8))
    hostileTest(head + utf8(#""city":""#) + [0xED, 0xA0, 0x80] + utf8(#""}"#), .deadLetter(.invalidUTF8))
    hostileTest(head + utf8(#""city":"Zürich"}"#), .event(field: "city", value: .string("Zürich")))
    // NUL: raw inside a string or outside is an error; escaped it is data.
    hostileTest(head + utf8(#""city":"a"#) + [0] + utf8(#"b"}"#), .deadLetter(.invalidJSON))
    hostileTest(head + utf8(#""city":"a"}"#) + [0], .deadLetter(.invalidJSON))
    hostileTest([0], .deadLetter(.invalidJSON))
    hostileTest(head + utf8(#""city":"a\u0000b"}"#), .event(field: "city", value: .string("a\u{0}b")))
    // Huge numbers: beyond a double is an error when projected, syntax-checked only otherwise;
    // integers beyond Int64 become floats; tiny ones underflow to zero.
    hostileTest(head + utf8(#""amount":1e400}"#), .deadLetter(.numberOutOfRange))
    hostileTest(head + utf8(#""amount":-1e400}"#), .deadLetter(.numberOutOfRange))
    hostileTest(head + utf8(#""other":1e400}"#), .event())
    // (12345678901234567168: the double nearest 12345678901234567890.)
    hostileTest(head + utf8(#""amount":12345678901234567890}"#), .event(field: "amount", value: .float(12345678901234567168)))
    hostileTest(head + utf8(#""amount":-9223372036854775808}"#), .event(field: "amount", value: .int(.min)))
    hostileTest(head + utf8(#""amount":1e-400}"#), .event(field: "amount", value: .float(0)))
    hostileTest(head + utf8(#""amount":"# + String(repeating: "9", count: 5000) + "}"), .deadLetter(.lineTooLong))
    hostileTest(head + utf8(#""amount":"# + String(repeating: "9", count: 200) + "}"), .event(field: "amount", value: .float(1e200)))
    // Duplicate fields: the last one wins, also for a nested object replacing its paths.
    hostileTest(head + utf8(#""type":"a","type":"b"}"#), .event(field: "type", value: .string("b")))
    hostileTest(head + utf8(#""geo":{"lat":1},"geo":{"lon":2}}"#), .event(field: "geo.lat", value: .null))
    // Not an object.
    hostileTest(utf8("[1]"), .deadLetter(.notAnObject))
    hostileTest(utf8(#""x""#), .deadLetter(.notAnObject))
    hostileTest(utf8("42"), .deadLetter(.notAnObject))
    hostileTest(utf8("null"), .deadLetter(.notAnObject))
    hostileTest(utf8("{}{}"), .deadLetter(.invalidJSON))
    // Time: missing, unreadable, outside the representable range; pre-1970 is a time.
    hostileTest(utf8(#"{"type":"a"}"#), .deadLetter(.missingTime))
    hostileTest(utf8(#"{"ts":true}"#), .deadLetter(.invalidTime))
    hostileTest(utf8(#"{"ts":"2026-02-30T00:00:00Z"}"#), .deadLetter(.invalidTime))
    hostileTest(utf8(#"{"ts":99999999999999999}"#), .deadLetter(.timeOutOfRange))
    hostileTest(utf8(#"{"ts":-9.3e15}"#), .deadLetter(.timeOutOfRange))
    hostileTest(utf8(#"{"ts":"0001-01-01T00:00:00Z"}"#), .deadLetter(.timeOutOfRange))
    hostileTest(utf8(#"{"ts":"9999-12-31T23:59:59Z"}"#), .deadLetter(.timeOutOfRange))
    hostileTest(utf8(#"{"ts":1e400}"#), .deadLetter(.numberOutOfRange))
    hostileTest(utf8(#"{"ts":-1000}"#), .event())
    hostileTest(utf8(#"{"ts":"1969-07-20T20:17:40Z"}"#), .event())
    // A byte order mark starts the input (skipped); anywhere else it is content.
    hostileTest([0xEF, 0xBB, 0xBF] + head + utf8(#""type":"a"}"#), .event(field: "type", value: .string("a")))
    hostileTest([0xEF, 0xBB, 0xBF, 0x0A], .skipped)
  }

  func testMultiLineInput_CRLFBOMAndMidFileBOM() throws {
    let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    let input = bom + head + utf8(#""type":"a"}"# + "\r\n\r\n") + bom + head + utf8(#""type":"b"}"# + "\n") + head
      + utf8(#""type":"c"}"#)
    let results = try outcomes(input)
    XCTAssertEqual(results.map(\.1), [.event(), .skipped, .deadLetter(.invalidJSON), .event()])
    XCTAssertEqual(results.map(\.0.number), [1, 2, 3, 4])
    // Line 1 starts after the mark; offsets still point into the input as read.
    XCTAssertEqual(results[0].0.offset, 3)
    XCTAssertEqual(results[1].0.offset, Int64(3 + head.count + utf8(#""type":"a"}"#).count + 2))
    XCTAssertEqual(results[0].2?.slots.first, .string("a"))
    XCTAssertEqual(results[3].2?.slots.first, .string("c"))
    // Inputs with no line at all.
    XCTAssertEqual(try outcomes([]).count, 0)
    XCTAssertEqual(try outcomes(bom).count, 0)
  }

  /// A 100 MB line without a newline is skipped as it streams past: memory stays bounded by
  /// the reader's buffer, not the line.
  func testHundredMegabyteLineWithoutNewline_MemoryStaysBounded() throws {
    let total = 100_000_000
    var produced = 0
    var largestRead = 0
    let before = peakResidentBytes()
    let reader = LineReader(chunkSize: 1 << 16, maxLineBytes: 1 << 20) { target in
      let n = min(target.count, total - produced)
      largestRead = max(largestRead, n)
      if n > 0, let base = target.baseAddress { memset(base, 0x78, n) }
      produced += n
      return n
    }
    let line = try XCTUnwrap(reader.nextLine())
    XCTAssertTrue(line.isTooLong)
    XCTAssertEqual(line.length, total)
    XCTAssertEqual(line.bytes.count, 4096)
    XCTAssertNil(try reader.nextLine())
    XCTAssertEqual(reader.bytesConsumed, Int64(total))
    XCTAssertLessThanOrEqual(largestRead, 1 << 16)
    if let before, let after = peakResidentBytes() {
      XCTAssertLessThan(after - before, 32 << 20, "peak RSS grew by \(after - before) bytes")
    }
  }

  private func peakResidentBytes() -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      return Int(line.filter(\.isNumber)).map { $0 * 1024 }
    }
    return nil
  }
}
