import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// Deferred keys (Engine.swift, "Deferred keys"): a key space whose rules all have a quick start
/// check interns an event's key only when a match starts; other events find the key as they are
/// released, or leave the space alone. The output never changes (also
/// `CheckpointReplayTests.testDeferringKeysChangesNothing`, over every fixture); the keys
/// interned and the deferral's own reviews do.
final class DeferredKeyTests: XCTestCase {
  private let type = FieldPath(["type"])
  private let user = FieldPath(["user"])

  private func step(_ name: String, _ condition: Expr, _ q: Quantifier = .once) -> StepSpec {
    StepSpec(name: name, quantifier: q, condition: condition)
  }

  private func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  private func engine(_ specs: [RuleSpec], defers: Bool = true) -> Engine {
    let programs = NFACompiler.compile(specs, extraFields: [type, user])
    var options = EngineOptions(outOfOrderness: .seconds(5))
    options.defersKeys = defers
    return Engine(programs: programs, options: options)
  }

  /// `a` then `b` for one user within 10 s.
  private var pair: RuleSpec {
    RuleSpec(name: "pair", keyFields: [user], steps: [step("a", isType("a")), step("b", isType("b"))], within: .seconds(10))
  }

  private func event(_ i: Int, _ t: String, user u: String, at ms: Int64) -> EventRecord {
    EventRecord(
      time: .milliseconds(ms), sequence: UInt64(i), line: i + 1, identity: "\(t)\(i)",
      slots: [.string(t), .string(u)])
  }

  /// Feeds `events` and ends the input; the actions as text (everything an alert carries).
  private func run(_ e: Engine, _ events: [EventRecord]) -> [String] {
    var actions: [EngineAction] = []
    for ev in events { e.eventArrived(ev, into: &actions) }
    e.finish(into: &actions)
    return QueueEquivalence.describe(actions)
  }

  /// 20,000 events: every 100th an `a` of one of 200 users, the next a `b` of the same user, the
  /// rest `x` (which starts nothing) of 1,000 other users, with times jittered within the
  /// out-of-orderness bound. The release needs 2% of the deferred keys (an `a` interns its key,
  /// its `b` finds it), well under the review's fifth.
  private func mostlyIdle() -> [EventRecord] {
    var rng = SplitMix64(seed: 5)
    return (0..<20_000).map { i in
      let t: String
      let u: Int
      switch i % 100 {
      case 0: (t, u) = ("a", i / 100 % 1_000)
      case 1: (t, u) = ("b", (i - 1) / 100 % 1_000)
      default: (t, u) = ("x", 1_000 + i % 1_000)
      }
      // `a` and `b` on time (so each `b` follows its `a`), the others up to 3 s late.
      let jitter = t == "x" ? Int64(rng.next(upTo: 3_000)) : 0
      return event(i, t, user: "u\(u)", at: Int64(i) * 50 + jitter)
    }
  }

  func testKeysOfEventsThatStartNothingAreNotInterned() {
    let deferred = engine([pair])
    let plain = engine([pair], defers: false)
    XCTAssertEqual(deferred.deferrableKeySpaces, 1)
    XCTAssertEqual(plain.deferrableKeySpaces, 0)
    let events = mostlyIdle()
    let out = run(deferred, events)
    XCTAssertEqual(out, run(plain, events))
    XCTAssertEqual(out.filter { $0.hasPrefix("alert") }.count, 200, "every a is followed by its b")
    XCTAssertEqual(plain.distinctKeys, Set(events.map { $0[SlotIndex(1)] }).count, "every user's key, interned on arrival")
    // Only the users whose `a` started a match: 200 a's over users 0, 1, …, 199.
    XCTAssertEqual(deferred.distinctKeys, 200)
    XCTAssertEqual(deferred.deferringKeySpaces, 1, "most deferred keys were not needed: still deferring")
  }

  /// A space whose deferred keys are mostly needed (every event starts a match) stops deferring
  /// after a review, and defers again after its pause; the output is the same throughout.
  func testASpaceWhoseKeysAreNeededStopsDeferringAndTriesAgain() throws {
    let e = engine([pair])
    e.deferralWindow = 64
    e.deferralPause = 1_000
    let events = (0..<3_000).map { i in event(i, i % 2 == 0 ? "a" : "b", user: "u\(i / 2)", at: Int64(i) * 10) }
    var actions: [EngineAction] = []
    var stoppedAt: Int?
    var resumedAt: Int?
    for (i, ev) in events.enumerated() {
      e.eventArrived(ev, into: &actions)
      if stoppedAt == nil, e.deferringKeySpaces == 0 { stoppedAt = i }
      if stoppedAt != nil, resumedAt == nil, e.deferringKeySpaces == 1 { resumedAt = i }
    }
    e.finish(into: &actions)
    // The first 64 deferred keys were all needed (each `a` starts, each `b` finds its key): the
    // review stops deferral once they are released (500 events behind arrival, 5 s at 10 ms).
    let stopped = try XCTUnwrap(stoppedAt)
    XCTAssertLessThan(stopped, 64 + 600)
    let resumed = try XCTUnwrap(resumedAt, "deferral resumes after its pause")
    XCTAssertGreaterThan(resumed, stopped + 900)
    XCTAssertLessThan(resumed, stopped + 1_700)
    XCTAssertEqual(actions.count, 1_500, "every pair alerts")
    XCTAssertEqual(run(engine([pair], defers: false), events).count, 1_500)
  }

  /// Spaces that cannot defer: a rule whose start condition reads `key` has no quick start
  /// check, so its space interns every key on arrival; a space of such a rule and a plain one
  /// does not defer either; the other spaces do.
  func testOnlySpacesWhoseRulesAllHaveQuickStartChecksDefer() {
    let readsKey = RuleSpec(
      name: "readsKey", keyFields: [user],
      steps: [step("a", .and(isType("a"), .binary(.notEqual, .key, .constant(.string("u0"))))), step("b", isType("b"))],
      within: .seconds(10))
    let byType = RuleSpec(
      name: "byType", keyFields: [type], steps: [step("a", isType("a")), step("b", isType("b"))], within: .seconds(10))
    // (rules, spaces that may defer)
    let cases: [([RuleSpec], Int)] = [
      ([pair], 1), ([readsKey], 0), ([pair, readsKey], 0), ([readsKey, byType], 1), ([pair, byType], 2),
    ]
    for (specs, deferrable) in cases {
      let e = engine(specs)
      XCTAssertEqual(e.deferrableKeySpaces, deferrable, specs.map(\.name).joined(separator: ", "))
      XCTAssertEqual(e.deferringKeySpaces, deferrable)
      let events = mostlyIdle()
      XCTAssertEqual(run(e, events), run(engine(specs, defers: false), events), specs.map(\.name).joined(separator: ", "))
    }
  }
}
