import TocsinApp
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

/// The example rules over a generated payment stream: every injected case is reported exactly
/// once, nothing else is, and arrival order within the out-of-orderness bound never changes a
/// byte of the output.
final class GeneratedStreamTests: XCTestCase {
  private static let config = PaymentStreamConfig(
    seed: 7, events: 40_000, users: 4_000, maxDisorder: .seconds(5), geoPairs: 25,
    velocityBursts: 25, bruteForceCases: 10, cardTestingCases: 10)

  private func programs() throws -> ProgramSet {
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    return try XCTUnwrap(ruleSet.programs, "rules/ must compile")
  }

  private func replay(arrivalSeed: UInt64) throws -> (output: Replay.Output, cases: [InjectedCase]) {
    var text = ""
    let cases = PaymentStream.generate(Self.config, arrivalSeed: arrivalSeed) { text += $0 + "\n" }
    let output = try Replay.run(programs: programs(), configuration: ReplayConfiguration(), text: text)
    return (output, cases)
  }

  /// One alert's rule, key value and matched event ids, read back from its JSON line.
  private struct ReportedAlert: Decodable {
    var rule: String
    var key: [String: String]
    var events: [String: [String]]
  }

  func testEveryInjectedCaseIsReportedOnceAndNothingElse() throws {
    let (output, cases) = try replay(arrivalSeed: 7)
    XCTAssertEqual(output.counters.deadLettered, 0)
    let alerts = try String(decoding: output.alerts, as: UTF8.self)
      .split(separator: "\n").map { try JSONDecoder().decode(ReportedAlert.self, from: Data($0.utf8)) }
    XCTAssertEqual(alerts.count, cases.count, "one alert per injected case")

    var unmatched = alerts
    for injected in cases {
      let index = unmatched.firstIndex { alert in
        let ids = alert.events.values.flatMap { $0 }
        return alert.rule == injected.kind.ruleName && alert.key.values.contains(injected.key)
          && Set(ids).isSubset(of: injected.eventIDs) && !ids.isEmpty
      }
      guard let index else {
        XCTFail("injected \(injected.kind) for \(injected.key) was not reported")
        continue
      }
      let alert = unmatched.remove(at: index)
      // Exactness where the rule takes a fixed shape.
      switch injected.kind {
      case .geoImpossible:
        XCTAssertEqual(alert.events["first"], [injected.eventIDs[0]])
        XCTAssertEqual(alert.events["second"], [injected.eventIDs[1]])
      case .velocityBurst:
        XCTAssertEqual(alert.events["burst"], Array(injected.eventIDs.prefix(10)))
      case .bruteForce, .cardTesting:
        break
      }
    }
    XCTAssertEqual(unmatched.map(\.rule), [], "alerts that match no injected case")
  }

  func testArrivalOrderWithinTheBoundDoesNotChangeTheOutput() throws {
    let reference = try replay(arrivalSeed: 1).output.alerts
    XCTAssertFalse(reference.isEmpty)
    for seed: UInt64 in 2...4 {
      let shuffled = try replay(arrivalSeed: seed).output.alerts
      assertEqualLines(
        String(decoding: shuffled, as: UTF8.self), String(decoding: reference, as: UTF8.self),
        "arrival seed \(seed)")
    }
  }

  func testEveryFixtureCasePasses() throws {
    let report = try FixtureRunner.run(root: Repository.path("fixtures"), filter: nil, record: false) { _ in }
    XCTAssertGreaterThan(report.results.count, 10)
    for result in report.results where result.outcome.isFailure {
      XCTFail("fixture \(result.name): \(result.outcome)")
    }
  }
}
