import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinApp

/// A dead-lettered event's slot buffer goes back to the decoder's pool once its record is
/// written, as a processed event's does after the release loop: on a stream whose events lack
/// every rule's key, or arrive late, the decoder then reuses one buffer instead of allocating
/// one per line.
final class DeadLetteredBufferTests: XCTestCase {
  private func lines(_ text: String) -> LineReader {
    let bytes = Array(text.utf8)
    var position = 0
    return LineReader(chunkSize: 4096, maxLineBytes: LineReader.defaultMaxLineBytes) { target in
      let n = min(target.count, bytes.count - position)
      for i in 0..<n { target[i] = bytes[position + i] }
      position += n
      return n
    }
  }

  func testDeadLetteredEvents_GiveTheirBuffersBack() throws {
    let ruleSet = try RuleSet.load([Repository.path("rules/card_velocity.tcs")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    // (stream, dead letters, buffers pooled at the end): events without a card (missing_key),
    // one a line; then a card's events, the last two far behind the watermark (late). The
    // first card event stays in the reorder buffer with its buffer; every other line's event
    // is decoded into the one buffer the event before it gave back.
    let base: Int64 = 1_767_225_600_000
    let missing = (0..<200).map { #"{"ts":\#(base + Int64($0)),"type":"login","user":"u\#($0)"}"# }
    let late = [
      #"{"ts":\#(base + 600_000),"type":"purchase","card":"c1"}"#,
      #"{"ts":\#(base),"type":"purchase","card":"c1"}"#,
      #"{"ts":\#(base + 1),"type":"purchase","card":"c2"}"#,
    ]
    let cases: [(lines: [String], deadLetters: Int, reason: String)] = [
      (missing, 200, "missing_key"),
      (late, 2, "late"),
    ]
    // Without the time-skew guard, whose calibration holds the first events back (and with
    // them their buffers).
    var configuration = ReplayConfiguration()
    configuration.engine.maxTimeSkew = nil
    for c in cases {
      var deadLetters: [UInt8] = []
      let session = ReplaySession(
        programs: programs, configuration: configuration, alerts: { _ in }, deadLetters: { deadLetters += $0 })
      let input = lines(c.lines.joined(separator: "\n") + "\n")
      // A line at a time: each event is decoded into the buffer the one before gave back.
      while let line = try input.nextLine() { try session.consume(line) }
      let pool = try XCTUnwrap(session.slotPool)
      let records = String(decoding: deadLetters, as: UTF8.self).split(separator: "\n")
      XCTAssertEqual(records.count, c.deadLetters, c.reason)
      XCTAssertTrue(records.allSatisfy { $0.contains(#""reason":"\#(c.reason)""#) }, c.reason)
      // Before the records were written the pool stayed empty: every dead-lettered buffer was
      // freed and every line's buffer newly allocated.
      XCTAssertEqual(pool.count, 1, c.reason)
      try session.finish()
    }
  }
}
