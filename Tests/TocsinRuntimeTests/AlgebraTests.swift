import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// The pattern algebra against Flink CEP's documented examples, built from rule IR directly
/// (the conformance suite covers the same ground through the rule language).
final class AlgebraTests: XCTestCase {
  private func isType(_ t: String) -> Expr {
    .binary(.equal, .field(FieldPath(["type"])), .constant(.string(t)))
  }

  private func step(
    _ name: String, _ type: String, _ contiguity: Contiguity = .relaxed, _ q: Quantifier = .once,
    kind: StepKind = .take
  ) -> StepSpec {
    StepSpec(name: name, kind: kind, contiguity: contiguity, quantifier: q, condition: isType(type))
  }

  /// Runs the events (`"a1 b1@1500"`: type = leading letters, time = position in s or `@ms`)
  /// and returns each alert as its event ids, `timeout:` prefixed for timeouts.
  private func run(
    _ steps: [StepSpec], within: EventDuration? = nil, gap: EventDuration? = nil,
    groups: [GroupSpec] = [], skip: SkipStrategy = .noSkip, onTimeout: [EmitField]? = nil,
    _ input: String
  ) -> [String] {
    let spec = RuleSpec(
      name: "r", steps: steps, within: within, withinBetweenSteps: gap, groups: groups, skip: skip,
      onTimeout: onTimeout)
    return TokenReplay.matches(spec, input)
  }

  // Flink docs, "Contiguity within looping patterns": C D A1 A2 A3 D A4 B, pattern
  // c followed_by a+ followed_by b.
  func testLoopContiguity_FlinkExample() {
    let input = "c d a1 a2 a3 d a4 b"
    let a = { (inner: Contiguity) in self.step("a", "a", .relaxed, Quantifier(min: 1, max: nil, inner: inner)) }
    XCTAssertEqual(
      Set(run([step("c", "c"), a(.strict), step("b", "b")], input)),
      ["c a1 b", "c a1 a2 b", "c a1 a2 a3 b"])
    XCTAssertEqual(
      Set(run([step("c", "c"), a(.relaxed), step("b", "b")], input)),
      ["c a1 b", "c a1 a2 b", "c a1 a2 a3 b", "c a1 a2 a3 a4 b"])
    XCTAssertEqual(
      Set(run([step("c", "c"), a(.nonDeterministic), step("b", "b")], input)),
      [
        "c a1 b", "c a1 a2 b", "c a1 a3 b", "c a1 a4 b", "c a1 a2 a3 b", "c a1 a2 a4 b",
        "c a1 a3 a4 b", "c a1 a2 a3 a4 b",
      ])
  }

  // Flink docs, "After Match Skip Strategy" table: b+ (greedy) c over b1 b2 b3 c.
  func testSkipStrategies_FlinkTable() {
    var b = step("b", "b", .relaxed, .timesOrMore(1))
    b.quantifier.isGreedy = true
    let steps = [b, step("c", "c")]
    let input = "b1 b2 b3 c"
    XCTAssertEqual(run(steps, skip: .noSkip, input), ["b1 b2 b3 c", "b2 b3 c", "b3 c"])
    XCTAssertEqual(run(steps, skip: .skipToNext, input), ["b1 b2 b3 c", "b2 b3 c", "b3 c"])
    XCTAssertEqual(run(steps, skip: .skipPastLastEvent, input), ["b1 b2 b3 c"])
    XCTAssertEqual(
      run(steps, skip: .skipToFirst(step: 0, name: "b"), input), ["b1 b2 b3 c", "b2 b3 c", "b3 c"])
    XCTAssertEqual(run(steps, skip: .skipToLast(step: 0, name: "b"), input), ["b1 b2 b3 c", "b3 c"])
  }

  func testOptional() {
    var b = step("b", "b")
    b.quantifier.isOptional = true
    XCTAssertEqual(run([step("a", "a"), b, step("c", "c")], "a1 b1 c1"), ["a1 b1 c1", "a1 c1"])
    XCTAssertEqual(run([step("a", "a"), b, step("c", "c")], "a1 c1"), ["a1 c1"])
    var first = step("a", "a")
    first.quantifier.isOptional = true
    XCTAssertEqual(run([first, step("c", "c")], "a1 c1"), ["a1 c1", "c1"])
  }

  func testTimesRange() {
    XCTAssertEqual(
      Set(run([step("a", "a", .relaxed, Quantifier(min: 2, max: 3)), step("b", "b")], "a1 a2 a3 b1")),
      ["a1 a2 b1", "a1 a2 a3 b1", "a2 a3 b1"])
  }

  func testUntil() {
    var a = step("a", "a", .relaxed, .timesOrMore(1))
    a.quantifier.until = isType("x")
    // x stops the loop: a3 after it cannot join a1's match.
    let result = run([a, step("b", "b")], "a1 a2 x a3 b")
    XCTAssertFalse(result.contains("a1 a2 a3 b"), "until ends a1's loop at x")
    XCTAssertTrue(result.contains("a3 b"))
  }

  func testNotNext() {
    let steps = [step("a", "a"), step("n", "n", .strict, kind: .notNext), step("b", "b")]
    XCTAssertEqual(run(steps, "a1 n1 b1"), [])
    XCTAssertEqual(run(steps, "a1 c1 b1"), ["a1 b1"])
  }

  func testNotFollowedBy_BetweenSteps() {
    let steps = [step("a", "a"), step("n", "n", .relaxed, kind: .notFollowedBy), step("b", "b")]
    XCTAssertEqual(run(steps, "a1 c1 n1 b1"), [])
    XCTAssertEqual(run(steps, "a1 c1 b1 n1"), ["a1 b1"])
  }

  func testNotFollowedBy_AbsenceAtTheEnd() {
    let steps = [step("pay", "p"), step("otp", "o", .relaxed, kind: .notFollowedBy)]
    XCTAssertEqual(run(steps, within: .seconds(5), "p1@0 o1@2000 p2@3000 x@9000"), ["p2"])
  }

  func testOnTimeout_ReportsExpiredPartialMatches() {
    let steps = [step("a", "a"), step("b", "b")]
    let out = run(
      steps, within: .seconds(5),
      onTimeout: [EmitField(name: "n", value: .constant(.int(1)))], "a1@0 a2@1000 b1@2000 x@9000")
    XCTAssertEqual(out, ["a1 b1", "a2 b1"], "both completed before expiring: no timeout")
    let expired = run(
      steps, within: .seconds(5), onTimeout: [EmitField(name: "n", value: .constant(.int(1)))],
      "a1@0 x@9000")
    XCTAssertEqual(expired, ["timeout: a1"])
  }

  func testWithinBetweenSteps() {
    let steps = [step("a", "a"), step("b", "b"), step("c", "c")]
    XCTAssertEqual(run(steps, gap: .seconds(5), "a1@0 b1@4000 c1@8000"), ["a1 b1 c1"])
    XCTAssertEqual(run(steps, gap: .seconds(5), "a1@0 b1@5000 c1@8000"), [])
  }

  func testGroup_TimesTwo() {
    // start followed_by (begin x next y) times 2
    let steps = [step("s", "s"), step("x", "x"), step("y", "y", .strict)]
    let group = GroupSpec(range: 1..<3, contiguity: .relaxed, quantifier: .times(2))
    XCTAssertEqual(run(steps, groups: [group], "s1 x1 y1 q x2 y2"), ["s1 x1 y1 x2 y2"])
    XCTAssertEqual(run(steps, groups: [group], "s1 x1 q y1 x2 y2"), [])
  }
}

/// State stays bounded: with `within`, partial matches expire as the watermark passes them.
final class StateBoundTests: XCTestCase {
  func testFollowedByAnyOneOrMore_PartialMatchCountIsFlatOnceWithinHasPassed() {
    let isA = Expr.binary(.equal, .field(FieldPath(["type"])), .constant(.string("a")))
    let isB = Expr.binary(.equal, .field(FieldPath(["type"])), .constant(.string("b")))
    let spec = RuleSpec(
      name: "r",
      steps: [
        StepSpec(name: "a", condition: isA),
        StepSpec(name: "b", contiguity: .nonDeterministic, quantifier: .timesOrMore(1), condition: isB),
      ],
      within: .seconds(2))
    let programs = NFACompiler.compile([spec], extraFields: [FieldPath(["type"])])
    let engine = Engine(programs: programs, options: EngineOptions(outOfOrderness: .zero))
    var actions: [EngineAction] = []
    var counts: [Int] = []
    for i in 0..<3_000 {
      let type = i % 3 == 0 ? "a" : "b"
      let event = EventRecord(
        time: .milliseconds(Int64(i) * 100), sequence: UInt64(i), line: i + 1, identity: "e\(i)",
        slots: [.string(type)])
      engine.eventArrived(event, into: &actions)
      actions.removeAll(keepingCapacity: true)
      counts.append(engine.openPartialMatches)
    }
    // The window is 20 events; after two windows the count must not grow any more.
    let settled = counts[40..<80].max() ?? 0
    let later = counts[80...].max() ?? 0
    XCTAssertGreaterThan(settled, 0)
    XCTAssertLessThanOrEqual(later, settled, "partial matches keep growing after 'within' passed")
    XCTAssertLessThan(later, 2_000)
  }
}
