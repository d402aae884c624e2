import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import XCTest

/// The engine driven step by step: explicit event times, explicit watermarks, and the actions
/// each step returns.
final class EngineTests: XCTestCase {
  private let type = FieldPath(["type"])
  private let user = FieldPath(["user"])

  private func engine(
    _ steps: [StepSpec], within: EventDuration? = .seconds(10), skip: SkipStrategy = .noSkip,
    outOfOrderness: EventDuration = .seconds(5)
  ) -> Engine {
    let spec = RuleSpec(name: "r", keyFields: [user], steps: steps, within: within, skip: skip)
    let programs = NFACompiler.compile([spec], extraFields: [type, user, FieldPath(["v"])])
    return Engine(programs: programs, options: EngineOptions(outOfOrderness: outOfOrderness))
  }

  private func step(_ name: String, _ t: String, _ q: Quantifier = .once) -> StepSpec {
    StepSpec(name: name, quantifier: q, condition: .binary(.equal, .field(type), .constant(.string(t))))
  }

  private var sequence: UInt64 = 0
  private func event(_ id: String, at ms: Int64, user u: String? = "u1", v: Int64 = 0) -> EventRecord {
    defer { sequence += 1 }
    return EventRecord(
      time: .milliseconds(ms), sequence: sequence, line: Int(sequence) + 1, identity: id,
      slots: [.string(String(id.prefix(1))), u.map(Value.string) ?? .null, .int(v)])
  }

  /// Summarises actions as strings: `alert a1 b1`, `late x`, `missingKey x`.
  private func describe(_ actions: [EngineAction]) -> [String] {
    actions.map { action in
      switch action {
      case .alert(let alert): return "alert " + alert.events.flatMap(\.identities).joined(separator: " ")
      case .late(let event, _): return "late \(event.identity)"
      case .missingKey(let event, _): return "missingKey \(event.identity)"
      }
    }
  }

  func testEventsWaitForTheWatermark() {
    let e = engine([step("x", "a"), step("y", "b")])
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 1_000), into: &actions)
    e.eventArrived(event("b1", at: 2_000), into: &actions)
    XCTAssertEqual(describe(actions), [], "both wait: watermark is 2000 - 5000 - 1ns")
    XCTAssertEqual(e.bufferedEvents, 2)
    e.advanceWatermark(to: .milliseconds(1_999), into: &actions)
    XCTAssertEqual(describe(actions), [], "b1 (2000) is not yet released")
    e.advanceWatermark(to: .milliseconds(2_000), into: &actions)
    XCTAssertEqual(describe(actions), ["alert a1 b1"])
    XCTAssertEqual(e.bufferedEvents, 0)
  }

  func testLateness_IsTimeAtOrBeforeWatermark() {
    let e = engine([step("x", "a")], within: nil, outOfOrderness: .seconds(5))
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 10_000), into: &actions)  // watermark → 4999.999999
    e.eventArrived(event("a2", at: 5_000), into: &actions)  // exactly max − bound: on time
    e.eventArrived(event("a3", at: 4_999), into: &actions)  // behind: late
    XCTAssertEqual(describe(actions), ["late a3"])
    XCTAssertEqual(e.counters.late, 1)
    actions.removeAll()
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2", "alert a1"], "released in event-time order")
  }

  func testEqualTimestamps_KeepArrivalOrder() {
    let e = engine([step("x", "a"), step("y", "b")], outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("b0", at: 1_000), into: &actions)
    e.eventArrived(event("a1", at: 1_000), into: &actions)
    e.eventArrived(event("b1", at: 1_000), into: &actions)
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a1 b1"])
  }

  func testWithinTimer_PrunesWhenTheWatermarkPasses() {
    let e = engine([step("x", "a"), step("y", "b")], within: .seconds(10), outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 0, "not released yet: the watermark is just before 0")
    e.advanceWatermark(to: .milliseconds(0), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 1)
    e.advanceWatermark(to: .milliseconds(9_999), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 1)
    e.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 0, "start + within <= watermark: timed out")
    e.eventArrived(event("b1", at: 10_001), into: &actions)
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), [])
  }

  func testSkipPastLastEvent_HoldsAMatchUntilNoEarlierPartialMatchRemains() {
    // y needs a larger `v` than x's event. At b1 the match starting at a2 completes while the
    // one starting at a1 (v 10) is still open, so Flink holds the later-starting match until
    // a1's partial match is gone (here: timed out by the watermark).
    let v = FieldPath(["v"])
    let x = step("x", "a")
    var y = step("y", "b")
    y.condition = .and(
      y.condition!, .binary(.greater, .field(v), .stepField(step: 0, v)))
    let e = engine([x, y], within: .seconds(10), skip: .skipPastLastEvent, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, v: 10), into: &actions)
    e.eventArrived(event("a2", at: 1_000, v: 1), into: &actions)
    e.eventArrived(event("b1", at: 2_000, v: 5), into: &actions)
    e.advanceWatermark(to: .milliseconds(2_000), into: &actions)
    XCTAssertEqual(describe(actions), [], "held: a1's partial match started earlier")
    e.advanceWatermark(to: .milliseconds(9_999), into: &actions)
    XCTAssertEqual(describe(actions), [])
    e.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2 b1"], "released once a1's partial match timed out")
  }

  func testSkipPastLastEvent_ReleasesAtEndOfInput() {
    let v = FieldPath(["v"])
    var y = step("y", "b")
    y.condition = .and(y.condition!, .binary(.greater, .field(v), .stepField(step: 0, v)))
    let e = engine([step("x", "a"), y], within: nil, skip: .skipPastLastEvent, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, v: 10), into: &actions)
    e.eventArrived(event("a2", at: 1_000, v: 1), into: &actions)
    e.eventArrived(event("b1", at: 2_000, v: 5), into: &actions)
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2 b1"])
  }

  func testMissingKey_IsReportedOnlyWhenNoRuleCanSeeTheEvent() {
    let e = engine([step("x", "a")], within: nil, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, user: nil), into: &actions)
    XCTAssertEqual(describe(actions), ["missingKey a1"])
    XCTAssertEqual(e.counters.missingKey, 1)
  }
}
