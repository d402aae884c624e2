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

  /// A webhook whose endpoint never answers holds alerts in its queue; each checkpoint stores
  /// them. Resuming from a checkpoint in the middle, with the endpoint back, delivers every alert
  /// of the run: those the checkpoint held and those after it. None is lost to the "crash".
  func testWebhookRecordsQueuedAtACheckpointAreDeliveredAfterResume() throws {
    let events = try String(contentsOfFile: Repository.path("fixtures/suppression/events.ndjson"), encoding: .utf8)
    try events.write(toFile: directory + "/events.ndjson", atomically: true, encoding: .utf8)
    let server = try LoopbackHTTPServer()
    defer { server.shutdown() }
    server.mode = .stall
    let sinks = try SinkConfigurationParser.parse(
      """
      sinks:
        pager:
          type: webhook
          url: http://127.0.0.1:\(server.port)/alerts
          spill: \(directory)/spill.ndjson
          batch_size: 100
          linger: 1ms
          request_timeout: 2s
          retries: 0
          drain_timeout: 50ms
      routes:
        default: [pager]
      """, path: "sinks.yaml")
    let stalled = try run(sinks, resume: false)
    let sent = stalled.sinks.first { $0.name == "pager" }.map { $0.statistics.sent + $0.statistics.spilled } ?? 0
    XCTAssertGreaterThan(sent, 3)
    let allIDs = try spilledOrSentIDs(spill: directory + "/spill.ndjson", bodies: [])
    XCTAssertEqual(allIDs.count, sent, "every alert of the stalled run was spilled at close")

    let store = try CheckpointStore(directory: directory + "/checkpoints", keep: 100)
    let files = try store.files()
    // The last checkpoint whose webhook still held records: everything before it was "lost" in
    // the crash except what the checkpoint stored.
    var chosen: Checkpoint?
    for file in files {
      guard let checkpoint = try? Checkpoint(decoding: Array(try XCTUnwrap(FileManager.default.contents(atPath: file.path))))
      else { continue }
      if !checkpoint.sinkRecords.isEmpty, checkpoint.input.line < 15 { chosen = checkpoint }
    }
    let checkpoint = try XCTUnwrap(chosen, "no checkpoint stored undelivered webhook records")
    let held = try XCTUnwrap(checkpoint.sinkRecords.first { $0.sink == "pager" }).records
    XCTAssertGreaterThan(held.count, 0)
    for newer in files where (try? Checkpoint(decoding: Array(FileManager.default.contents(atPath: newer.path) ?? Data())))?.input.line ?? 0 > checkpoint.input.line {
      try FileManager.default.removeItem(atPath: newer.path)
    }
    // The stalled run took milliseconds and its first request times out only after 2 s, so it
    // spilled nothing before closing: after a real crash at the chosen checkpoint the spill file
    // would be empty. What it spilled at close is what the crash would have lost.
    try FileManager.default.removeItem(atPath: directory + "/spill.ndjson")

    server.mode = .respond(status: 200, chunked: false)
    _ = try run(sinks, resume: true)
    let delivered = try spilledOrSentIDs(spill: directory + "/spill.ndjson", bodies: server.acknowledgedBodies)
    XCTAssertEqual(Set(delivered), Set(allIDs), "every alert reached the endpoint after the resume")
  }

  /// Alert ids in a spill file and in JSON-array request bodies.
  private func spilledOrSentIDs(spill: String, bodies: [[UInt8]]) throws -> [String] {
    var ids: [String] = []
    let text = String(decoding: FileManager.default.contents(atPath: spill) ?? Data(), as: UTF8.self)
    for line in text.split(separator: "\n") {
      let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
      ids.append(try XCTUnwrap(object["id"] as? String))
    }
    for body in bodies {
      let array = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [[String: Any]])
      ids += array.compactMap { $0["id"] as? String }
    }
    return ids
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
