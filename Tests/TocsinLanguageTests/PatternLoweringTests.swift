import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// The `RuleSpec` the front end produces for the pattern algebra.
final class PatternLoweringTests: XCTestCase {
  private func field(_ name: String) -> Expr { .field(FieldPath([name])) }

  private func rule(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> RuleSpec? {
    let rules = assertClean(text, allowingUnusedSteps: true, file: file, line: line)
    XCTAssertEqual(rules.count, 1, file: file, line: line)
    return rules.first
  }

  func testStepKindsAndContiguity() {
    let spec = rule(
      "rule r begin a next b followed_by c followed_by_any d not_next e not_followed_by f within 5m")
    XCTAssertEqual(spec?.steps.map(\.name), ["a", "b", "c", "d", "e", "f"])
    XCTAssertEqual(spec?.steps.map(\.kind), [.take, .take, .take, .take, .notNext, .notFollowedBy])
    XCTAssertEqual(
      spec?.steps.map(\.contiguity), [.relaxed, .strict, .relaxed, .nonDeterministic, .strict, .relaxed])
    XCTAssertEqual(spec?.groups, [])
    XCTAssertNil(spec?.onTimeout)
    XCTAssertNil(spec?.withinBetweenSteps)
  }

  func testQuantifiers() {
    let spec = rule(
      """
      rule r
        begin a times 2..5 consecutive greedy until x > 1
        next b one_or_more allow_combinations optional
        followed_by c optional
        next d times 3+
        next e times 4
        within 5m
      """)
    XCTAssertEqual(
      spec?.steps[0].quantifier,
      Quantifier(
        min: 2, max: 5, inner: .strict, isGreedy: true,
        until: .binary(.greater, field("x"), .constant(.int(1)))))
    XCTAssertEqual(spec?.steps[1].quantifier, Quantifier(min: 1, max: nil, inner: .nonDeterministic, isOptional: true))
    XCTAssertEqual(spec?.steps[2].quantifier, Quantifier(min: 1, max: 1, isOptional: true))
    XCTAssertEqual(spec?.steps[3].quantifier, .timesOrMore(3))
    XCTAssertEqual(spec?.steps[4].quantifier, .times(4))
  }

  func testOrWhere() {
    let spec = rule("rule r begin a where x where y or where z")
    XCTAssertEqual(spec?.steps[0].condition, .or(.and(field("x"), field("y")), field("z")))
    let mixed = rule("rule r begin a where x or where y where z")
    XCTAssertEqual(mixed?.steps[0].condition, .and(.or(field("x"), field("y")), field("z")))
  }

  func testGroups() {
    let spec = rule(
      """
      rule r
        begin a
        followed_by (
          begin b
          next ( begin c followed_by d ) one_or_more consecutive
          next e
        ) times 2 optional
        followed_by_any ( begin g not_next h next i ) times 1..3 allow_combinations
        followed_by f
        within 5m
      """)
    XCTAssertEqual(spec?.steps.map(\.name), ["a", "b", "c", "d", "e", "g", "h", "i", "f"])
    XCTAssertEqual(
      spec?.steps.map(\.contiguity),
      [.relaxed, .relaxed, .strict, .relaxed, .strict, .nonDeterministic, .strict, .strict, .relaxed])
    XCTAssertEqual(spec?.steps.map(\.kind), [.take, .take, .take, .take, .take, .take, .notNext, .take, .take])
    XCTAssertEqual(spec?.groups, [
      GroupSpec(range: 1..<5, contiguity: .relaxed, quantifier: Quantifier(min: 2, max: 2, isOptional: true)),
      GroupSpec(range: 2..<4, contiguity: .strict, quantifier: Quantifier(min: 1, max: nil, inner: .strict)),
      GroupSpec(range: 5..<8, contiguity: .nonDeterministic, quantifier: Quantifier(min: 1, max: 3, inner: .nonDeterministic)),
    ])
  }

  func testPatternStartingWithGroup() {
    let spec = rule("rule r begin ( begin a next b ) times 2 followed_by c within 5m")
    XCTAssertEqual(spec?.steps.map(\.name), ["a", "b", "c"])
    XCTAssertEqual(spec?.steps.map(\.contiguity), [.relaxed, .strict, .relaxed])
    XCTAssertEqual(spec?.groups, [GroupSpec(range: 0..<2, contiguity: .relaxed, quantifier: .times(2))])
  }

  func testGroupStepConditionsReadEarlierSteps() {
    let spec = rule("rule r begin a next (begin b where b.x > a.x next c where ok) optional")
    XCTAssertEqual(
      spec?.steps[1].condition, .binary(.greater, field("x"), .stepField(step: 0, FieldPath(["x"]))))
  }

  func testSkipStrategies() {
    let cases: [(String, SkipStrategy)] = [
      ("", .noSkip),
      ("no_skip", .noSkip),
      ("skip to_next", .skipToNext),
      ("skip past_last_event", .skipPastLastEvent),
      ("skip to_first b", .skipToFirst(step: 1, name: "b")),
      ("skip to_last a", .skipToLast(step: 0, name: "a")),
      ("skip to_last c", .skipToLast(step: 2, name: "c")),
    ]
    for (clause, expected) in cases {
      let spec = rule("rule r begin a times 2 next (begin b next c) times 2 \(clause) within 5m")
      XCTAssertEqual(spec?.skip, expected, clause)
    }
  }

  func testWithinBetweenSteps() {
    let both = rule("rule r begin a followed_by b within 10m within 30s between steps")
    XCTAssertEqual(both?.within, .minutes(10))
    XCTAssertEqual(both?.withinBetweenSteps, .seconds(30))
    let gapOnly = rule("rule r begin a followed_by b within 30s between steps")
    XCTAssertNil(gapOnly?.within)
    XCTAssertEqual(gapOnly?.withinBetweenSteps, .seconds(30))
  }

  func testOnTimeout() {
    let spec = rule(
      """
      rule r begin a followed_by b optional followed_by c not_followed_by d within 5m
        emit { x: a.v }
        on timeout emit { x: a.v, y: b.v, n: key, last: v }
      """)
    XCTAssertEqual(spec?.emit, [EmitField(name: "x", value: .stepField(step: 0, FieldPath(["v"])))])
    XCTAssertEqual(spec?.onTimeout, [
      EmitField(name: "x", value: .stepField(step: 0, FieldPath(["v"]))),
      EmitField(name: "y", value: .stepField(step: 1, FieldPath(["v"]))),
      EmitField(name: "n", value: .key),
      EmitField(name: "last", value: field("v")),
    ])
    XCTAssertEqual(rule("rule r begin a within 5m on timeout emit { }")?.onTimeout, [])
  }

  func testNegationOwnCondition() {
    let spec = rule("rule r begin a not_next b where b.x == a.x followed_by c")
    XCTAssertEqual(
      spec?.steps[1].condition, .binary(.equal, field("x"), .stepField(step: 0, FieldPath(["x"]))))
    XCTAssertEqual(spec?.steps[1].quantifier, .once)
  }
}
