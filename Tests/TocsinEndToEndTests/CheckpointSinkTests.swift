import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinSinks
import TocsinTestSupport
import XCTest

@testable import TocsinApp

/// `tocsin run --checkpoint` with a `--sinks` configuration: file sinks record their lengths,
/// a resume cuts them back and appends, and rotating file sinks are refused.
final class CheckpointSinkTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "tocsin-ckpt-sinks-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDown() {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private func configuration(maxBytes: String = "") throws -> SinkConfiguration {
    try SinkConfigurationParser.parse(
      """
      sinks:
        all:
          type: file
          path: \(directory)/alerts.ndjson\(maxBytes)
        dead:
          type: file
          path: \(directory)/dead.ndjson
      routes:
        default: [all]
      dead_letter: dead
      """, path: "sinks.yaml")
  }

  private func run(_ sinks: SinkConfiguration, resume: Bool) throws -> RunSummary {
    let ruleSet = try RuleSet.load([Repository.path("fixtures/suppression/rules.tcs")], ingest: IngestOptions())
    let options = RunPipeline.Options(
      inputPath: directory + "/events.ndjson", sinks: sinks,
      checkpoint: CheckpointOptions(directory: directory + "/checkpoints", interval: .lines(2), resume: resume, keep: 100))
    return try RunPipeline.run(programs: try XCTUnwrap(ruleSet.programs), rules: ruleSet.checked.rules, options: options)
  }

  private func contents(_ name: String) throws -> [UInt8] {
    Array(try XCTUnwrap(FileManager.default.contents(atPath: directory + "/" + name), name))
  }

  func testResumeCutsFileSinksBackAndGivesTheUninterruptedBytes() throws {
    var events = try String(contentsOfFile: Repository.path("fixtures/suppression/events.ndjson"), encoding: .utf8)
    events += "not json\n"
    try events.write(toFile: directory + "/events.ndjson", atomically: true, encoding: .utf8)
    let sinks = try configuration()
    let full = try run(sinks, resume: false)
    XCTAssertGreaterThan(full.checkpointsWritten, 5)
    let alerts = try contents("alerts.ndjson")
    let deadLetters = try contents("dead.ndjson")
    XCTAssertGreaterThan(alerts.count, 0)
    XCTAssertGreaterThan(deadLetters.count, 0)

    // Pretend the run died just after a checkpoint in the middle: drop the newer checkpoints;
    // the files still hold everything written after it.
    let store = try CheckpointStore(directory: directory + "/checkpoints", keep: 100)
    let files = try store.files()
    let middle = files.count / 2
    for newer in files[(middle + 1)...] { try FileManager.default.removeItem(atPath: newer.path) }
    let checkpoint = try XCTUnwrap(try store.loadLatest().checkpoint)
    let recorded = try XCTUnwrap(checkpoint.sinkPosition("file:\(directory)/alerts.ndjson"))
    XCTAssertLessThan(recorded, Int64(alerts.count), "the resume must cut alerts back")
    XCTAssertNotNil(checkpoint.sinkPosition("file:\(directory)/dead.ndjson"))

    _ = try run(sinks, resume: true)
    XCTAssertEqual(String(decoding: try contents("alerts.ndjson"), as: UTF8.self), String(decoding: alerts, as: UTF8.self))
    XCTAssertEqual(String(decoding: try contents("dead.ndjson"), as: UTF8.self), String(decoding: deadLetters, as: UTF8.self))
  }

  func testRotatingFileSinkIsRefused() throws {
    try "".write(toFile: directory + "/events.ndjson", atomically: true, encoding: .utf8)
    let sinks = try configuration(maxBytes: "\n    max_bytes: 1000")
    XCTAssertThrowsError(try run(sinks, resume: false)) { error in
      guard case RunPipeline.Failure.checkpoint(let message) = error else { return XCTFail("\(error)") }
      XCTAssertTrue(message.contains("sink 'all' rotates"), message)
    }
  }
}
