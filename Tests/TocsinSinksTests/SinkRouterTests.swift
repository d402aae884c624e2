import Foundation
import TocsinApp
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinSinks

/// `tocsin run --sinks` end to end: rules choose sinks with `to`, the rest follow the severity
/// routes, dead letters go to the dead-letter sink.
final class SinkRouterTests: XCTestCase {
  private var directory = ""

  override func setUpWithError() throws {
    directory = NSTemporaryDirectory() + "tocsin-router-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: directory)
  }

  private let rules = """
    rule chosen severity high begin a where amount > 100 to audit, extra
    rule low_one severity low begin a where amount > 100
    rule medium_one begin a where amount > 100
    """

  private let events = """
    {"id":"e1","ts":1000,"amount":500}
    not json
    {"id":"e2","ts":2000,"amount":700}

    """

  private func lines(_ name: String) -> [String] {
    let text = String(decoding: FileManager.default.contents(atPath: "\(directory)/\(name)") ?? Data(), as: UTF8.self)
    return text.split(separator: "\n").map(String.init)
  }

  private func rule(of line: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return "?" }
    return object["rule"] as? String ?? object["reason"] as? String ?? "?"
  }

  private func run(config yaml: String, sinkAware: Bool = true) throws -> RunSummary {
    let configuration = try SinkConfigurationParser.parse(yaml, path: "sinks.yaml")
    let ruleSet = RuleSet.build(
      [SourceFile(path: "r.tcs", text: rules)], ingest: IngestOptions(), sinkNames: configuration.sinkNames)
    let programs = try XCTUnwrap(ruleSet.programs, renderDiagnostics(ruleSet.checked.diagnostics, colored: false))
    XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/events.ndjson", contents: Data(events.utf8)))
    return try RunPipeline.run(
      programs: programs, rules: ruleSet.checked.rules,
      options: RunPipeline.Options(inputPath: "\(directory)/events.ndjson", sinks: configuration))
  }

  func testRouting_ToClauseSeverityRouteDefaultAndDeadLetters() throws {
    let summary = try run(config: """
      sinks:
        audit: { type: file, path: \(directory)/audit.ndjson }
        extra: { type: file, path: \(directory)/extra.ndjson }
        lows: { type: file, path: \(directory)/lows.ndjson }
        rest: { type: file, path: \(directory)/rest.ndjson }
        dlq: { type: file, path: \(directory)/dlq.ndjson }
      routes:
        low: [lows, rest]
        default: [rest]
      dead_letter: dlq
      """)
    XCTAssertEqual(lines("audit.ndjson").map(rule), ["chosen", "chosen"])
    XCTAssertEqual(lines("extra.ndjson"), lines("audit.ndjson"), "one encoding, the same bytes to every sink")
    XCTAssertEqual(lines("lows.ndjson").map(rule), ["low_one", "low_one"])
    XCTAssertEqual(lines("rest.ndjson").map(rule).sorted(), ["low_one", "low_one", "medium_one", "medium_one"])
    XCTAssertEqual(lines("dlq.ndjson").map(rule), ["not_an_object"])
    XCTAssertEqual(summary.sinks.map(\.name), ["audit", "extra", "lows", "rest", "dlq"])
    XCTAssertEqual(summary.sinks.map(\.statistics.sent), [2, 2, 2, 4, 1])
    XCTAssertEqual(summary.deadLetterDestination, "dlq")
    XCTAssertTrue(summary.text.contains("  sink rest (file): sent 4\n"), summary.text)
  }

  func testNoRoute_FailsBeforeReadingInput() throws {
    XCTAssertThrowsError(try run(config: """
      sinks:
        audit: { type: file, path: \(directory)/audit.ndjson }
        extra: { type: file, path: \(directory)/extra.ndjson }
      routes:
        low: [audit]
      """)) { error in
      guard case .output(let message)? = error as? RunPipeline.Failure else { return XCTFail("\(error)") }
      XCTAssertTrue(message.contains("rule 'medium_one' (severity medium) has no sink"), message)
    }
  }

  /// Without `--sinks`, `to` clauses are not errors and every alert takes the one output.
  func testShorthand_IgnoresToClauses() throws {
    let ruleSet = RuleSet.build([SourceFile(path: "r.tcs", text: rules)], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    XCTAssertTrue(FileManager.default.createFile(atPath: "\(directory)/events.ndjson", contents: Data(events.utf8)))
    final class Notes: @unchecked Sendable { var lines: [String] = [] }
    let notes = Notes()
    let summary = try RunPipeline.run(
      programs: programs, rules: ruleSet.checked.rules,
      options: RunPipeline.Options(
        inputPath: "\(directory)/events.ndjson", outputPath: "\(directory)/out.ndjson",
        deadLetterPath: "\(directory)/dead.ndjson"),
      report: { notes.lines.append($0) })
    XCTAssertEqual(lines("out.ndjson").count, 6)
    XCTAssertEqual(lines("dead.ndjson").count, 1)
    XCTAssertTrue(summary.sinks.isEmpty)
    XCTAssertEqual(notes.lines.count, 1)
    XCTAssertTrue(notes.lines.first?.contains("rules name sinks (audit, extra)") ?? false, "\(notes.lines)")
  }
}
