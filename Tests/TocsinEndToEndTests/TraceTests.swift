import Foundation
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinApp

/// `tocsin explain --trace`: the facts the trace reports for the bundled fixtures.
final class TraceTests: XCTestCase {
  private func trace(_ rules: String, _ events: String, key: String? = nil) throws -> String {
    let ruleSet = try RuleSet.load([Repository.path(rules)], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let text = try String(contentsOfFile: Repository.path(events), encoding: .utf8)
    return Tracer.trace(programs: programs, options: Tracer.Options(key: key), text: text)
  }

  private func assertContains(_ text: String, _ lines: [String], file: StaticString = #filePath, line: UInt = #line) {
    for expected in lines {
      XCTAssertTrue(text.contains(expected), "missing: \(expected)\n\(text)", file: file, line: line)
    }
  }

  func testWhyItFired() throws {
    let text = try trace(
      "rules/geo_impossible_purchase.tcs", "fixtures/geo_impossible_purchase_positive/events.ndjson", key: "u000101")
    // The alert id is the one in the fixture's expected.ndjson.
    let expected = try String(
      contentsOfFile: Repository.path("fixtures/geo_impossible_purchase_positive/expected.ndjson"), encoding: .utf8)
    XCTAssertTrue(expected.contains("\"id\":\"d33aa6eb8f2c0c58\""))
    assertContains(text, [
      "started #1 [first: p1] at [1] second",
      "        where amount > 10000 → false  (amount = 350)",
      "    #1 [first: p1] skips the event, waits at [1] second",
      "        where distance_km(first.lat, first.lon, lat, lon) >= 500 → true  (first.lat = 52.52, first.lon = 13.405, lat = 40.4168, lon = -3.7038)",
      "    completed: [first: p1, second: p13] → alert d33aa6eb8f2c0c58",
      "    #2 [first: p13] timed out (deadline 2026-01-01T00:17:00.000Z)",
    ])
    XCTAssertFalse(text.contains("u000202"), "--key keeps other keys out")
    XCTAssertFalse(text.contains("p4 "), "--key keeps other keys' events out")
  }

  func testWhyItDidNotFire() throws {
    let text = try trace("rules/payment_without_otp.tcs", "fixtures/payment_without_otp_negative/events.ndjson")
    assertContains(text, [
      "        where type == \"otp_verified\" → true  (type = \"otp_verified\")",
      "    #2 [pay: n3] discarded: stopped by not_followed_by otp",
      "  payment_without_otp: not seen (the event lacks the key field 'session')",
    ])
    XCTAssertFalse(text.contains("→ alert"))
    // Too far apart: London then New York, exactly 10 minutes.
    let geo = try trace(
      "rules/geo_impossible_purchase.tcs", "fixtures/geo_impossible_purchase_positive/events.ndjson", key: "u000404")
    assertContains(geo, ["#1 [first: p8] timed out (deadline 2026-01-01T00:12:02.000Z)", "started #2 [first: p16]"])
    XCTAssertFalse(geo.contains("→ alert"))
  }

  func testLateEventsAreReported() throws {
    let ruleSet = try RuleSet.load([Repository.path("rules/geo_impossible_purchase.tcs")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let text = """
      {"id":"a","ts":1767225600000,"type":"purchase","user":"u","amount":20000,"lat":0,"lon":0}
      {"id":"b","ts":1767225700000,"type":"purchase","user":"u","amount":20000,"lat":10,"lon":10}
      {"id":"c","ts":1767225601000,"type":"purchase","user":"u","amount":20000,"lat":0,"lon":0}
      not json
      """
    let out = Tracer.trace(programs: programs, options: Tracer.Options(), text: text)
    assertContains(out, [
      "c  2026-01-01T00:00:01.000Z  line 3: late (watermark 2026-01-01T00:01:29.999999999Z): dead-lettered, never reaches the rules",
      "line 4: dead-lettered (not_an_object)",
      "completed: [first: a, second: b] → alert",
    ])
  }

  /// `explain` says which rules keep their partial matches as one shared run, and which of
  /// those in a run queue, and only those.
  func testExplainNamesSharedRuns() throws {
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let note = "evaluated as one shared run"
    let queue = "one queue of start events for all keys"
    for (rule, shares) in [
      ("card_velocity", true), ("brute_force_login", false), ("card_testing", false), ("geo_impossible_purchase", false),
    ] {
      let text = try Explainer.explain(programs, rule: rule, format: .text)
      XCTAssertEqual(text.contains(note), shares, rule)
      XCTAssertEqual(text.contains(queue), shares, rule)
    }
    // A shared run with `on timeout emit` is not queued.
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("explain-\(UUID().uuidString).tcs").path
    try "rule v\n  key card\n  begin b\n    where type == \"purchase\"\n    times 3+\n  within 1h\n  on timeout emit { n: count(b) }\n"
      .write(toFile: path, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let timeouts = try XCTUnwrap(RuleSet.load([path], ingest: IngestOptions()).programs)
    let text = try Explainer.explain(timeouts, rule: "v", format: .text)
    XCTAssertTrue(text.contains(note))
    XCTAssertFalse(text.contains(queue))
    XCTAssertFalse(try Explainer.explain(programs, rule: "card_velocity", format: .dot).contains(note))
  }

  /// `explain` says, for a pair rule's later step that reads the first event, which of its
  /// conjuncts the event alone is tested on before a walk (a filter), or that every candidate
  /// event walks when its first conjunct reads the first event; nothing under `next`.
  func testExplainNamesPairFilters() throws {
    let programs = try XCTUnwrap(RuleSet.load([Repository.path("bench/rules/w2")], ingest: IngestOptions()).programs)
    let currency = try Explainer.explain(programs, rule: "w2_currency_switch", format: .text)
    XCTAssertTrue(currency.contains("other: the event alone is tested first (type == \"purchase\", amount > 2000)"), currency)
    let roaming = try Explainer.explain(programs, rule: "w2_roaming_login", format: .text)
    XCTAssertTrue(roaming.contains("evaluated as pairs"), roaming)
    XCTAssertFalse(roaming.contains("tested first") || roaming.contains("walks the key"), roaming)

    let directory = NSTemporaryDirectory() + "tocsin-explain-filters-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let path = directory + "/rule.tcs"
    try """
      rule bigger_later
        key card
        begin first where type == "purchase"
        followed_by_any larger where amount > first.amount and type == "purchase"
        within 1h
      """.write(toFile: path, atomically: true, encoding: .utf8)
    let unfiltered = try XCTUnwrap(RuleSet.load([path], ingest: IngestOptions()).programs)
    let text = try Explainer.explain(unfiltered, rule: nil, format: .text)
    XCTAssertTrue(text.contains("larger: every candidate event walks the key's waiting first events"), text)
  }

  /// `explain` says which rules keep their partial matches as pairs (a pair queue), and only
  /// those: the pair fixture's rules, and of the example rules the two-step `followed_by` ones
  /// (`account_takeover` has `followed_by_any` but three steps).
  func testExplainNamesPairs() throws {
    let note = "evaluated as pairs"
    let pairs = try XCTUnwrap(RuleSet.load([Repository.path("fixtures/pairs/rules.tcs")], ingest: IngestOptions()).programs)
    for rule in pairs.rules.map(\.name) {
      XCTAssertTrue(try Explainer.explain(pairs, rule: rule, format: .text).contains(note), rule)
      XCTAssertFalse(try Explainer.explain(pairs, rule: rule, format: .dot).contains(note), rule)
    }
    let examples = try XCTUnwrap(RuleSet.load([Repository.path("rules")], ingest: IngestOptions()).programs)
    for rule in examples.rules.map(\.name) {
      let paired = ["geo_impossible_purchase", "scripted_admin_access"].contains(rule)
      XCTAssertEqual(try Explainer.explain(examples, rule: rule, format: .text).contains(note), paired, rule)
    }
  }
}
