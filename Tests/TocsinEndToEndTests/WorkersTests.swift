import Foundation
@testable import TocsinApp
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

/// `--workers 2` (reading and decoding on a second thread) writes exactly what one thread
/// writes: the same alerts and the same dead letters, byte for byte.
final class WorkersTests: XCTestCase {
  private func run(rules: String, events: String, workers: Int, maxLineBytes: Int? = nil) throws -> (String, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let ruleSet = try RuleSet.load([Repository.path(rules)], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    var configuration = ReplayConfiguration()
    if let maxLineBytes { configuration.maxLineBytes = maxLineBytes }
    var options = RunPipeline.Options(
      inputPath: events.hasPrefix("/") ? events : Repository.path(events), outputPath: dir.appendingPathComponent("alerts").path,
      deadLetterPath: dir.appendingPathComponent("dead").path, configuration: configuration)
    options.workers = workers
    _ = try RunPipeline.run(programs: programs, rules: ruleSet.checked.rules, options: options)
    return (
      try String(contentsOf: dir.appendingPathComponent("alerts"), encoding: .utf8),
      try String(contentsOf: dir.appendingPathComponent("dead"), encoding: .utf8)
    )
  }

  func testTwoWorkersWriteWhatOneWrites() throws {
    // (rules, events, max line bytes): the demo stream (alerts), the bad-input and hostile
    // streams (every dead-letter reason, over-long lines), and a poisoned first event (lines held
    // during time calibration are quoted from the batch copies).
    let cases: [(String, String, Int?)] = [
      ("rules", "fixtures/demo/events.ndjson", nil),
      ("rules", "fixtures/bad_input/events.ndjson", nil),
      ("rules/geo_impossible_purchase.tcs", "fixtures/hostile_input/events.ndjson", 1024),
      ("rules/geo_impossible_purchase.tcs", "fixtures/time_poisoning_first_event/events.ndjson", nil),
    ]
    for (rules, events, limit) in cases {
      try compare(rules: rules, events: events, maxLineBytes: limit)
    }
  }

  /// A stream of many batches (``DecodingStage/batchLines`` each): batches go back to the
  /// decoding thread and are refilled, and slot buffers travel back with them to its pool. The
  /// output must not notice.
  func testManyBatches_SameOutput() throws {
    let config = PaymentStreamConfig(
      seed: 11, events: 30_000, users: 3_000, geoPairs: 30, velocityBursts: 30, bruteForceCases: 15,
      cardTestingCases: 15)
    var text = ""
    text.reserveCapacity(config.events * 200)
    PaymentStream.generate(config) { text += $0 + "\n" }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("workers-\(UUID().uuidString).ndjson")
    try text.write(to: path, atomically: false, encoding: .utf8)
    defer { try? FileManager.default.removeItem(at: path) }
    XCTAssertGreaterThan(config.events, 20 * DecodingStage.batchLines)
    try compare(rules: "rules", events: path.path, maxLineBytes: nil)
  }

  private func compare(rules: String, events: String, maxLineBytes limit: Int?) throws {
    do {
      let one = try run(rules: rules, events: events, workers: 1, maxLineBytes: limit)
      let two = try run(rules: rules, events: events, workers: 2, maxLineBytes: limit)
      XCTAssertFalse(one.0.isEmpty && one.1.isEmpty, "\(events): the case must produce output")
      XCTAssertEqual(one.0, two.0, "\(events): alerts differ")
      XCTAssertEqual(one.1, two.1, "\(events): dead letters differ")
    }
  }
}
