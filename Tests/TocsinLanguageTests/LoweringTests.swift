import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

final class LoweringTests: XCTestCase {
  /// Lowers `rule r begin first … followed_by second where EXPR within 10m` and compares the second
  /// step's condition.
  private func conditionTest(
    _ expr: String, _ expected: Expr, file: StaticString = #filePath, line: UInt = #line
  ) {
    let rules = assertClean(
      "rule r begin first followed_by second where \(expr) within 10m", file: file, line: line)
    XCTAssertEqual(rules.first?.steps.last?.condition, expected, file: file, line: line)
  }

  /// Lowers an emit value in a rule with singleton `first`, looping `burst` and singleton `last`.
  private func emitTest(
    _ expr: String, _ expected: Expr, file: StaticString = #filePath, line: UInt = #line
  ) {
    let rules = assertClean(
      "rule r begin first next burst times 2+ followed_by last where ok within 1h emit { v: \(expr) }",
      file: file, line: line)
    XCTAssertEqual(rules.first?.emit, [EmitField(name: "v", value: expected)], file: file, line: line)
  }

  func testInListLowersToEqualities() {
    let x = Expr.field(FieldPath(["x"]))
    conditionTest(
      "x in [\"a\", \"b\", \"c\"]",
      .or(
        .or(.binary(.equal, x, .constant(.string("a"))), .binary(.equal, x, .constant(.string("b")))),
        .binary(.equal, x, .constant(.string("c")))))
    conditionTest("x in [-1]", .binary(.equal, x, .constant(.int(-1))))
    conditionTest("x in []", .constant(.bool(false)))
    conditionTest("not x in [1, 2.5]", .not(.or(.binary(.equal, x, .constant(.int(1))), .binary(.equal, x, .constant(.float(2.5))))))
  }

  func testConditions() {
    conditionTest("first.lat > 1", .binary(.greater, .stepField(step: 0, FieldPath(["lat"])), .constant(.int(1))))
    conditionTest("second.lat > 1", .binary(.greater, .field(FieldPath(["lat"])), .constant(.int(1))))
    conditionTest("geo.lat > 1.5", .binary(.greater, .field(FieldPath(["geo", "lat"])), .constant(.float(1.5))))
    conditionTest("first.geo.lat == key", .binary(.equal, .stepField(step: 0, FieldPath(["geo", "lat"])), .key))
    conditionTest("x == -5", .binary(.equal, .field(FieldPath(["x"])), .constant(.int(-5))))
    conditionTest("-x < 0", .binary(.less, .negate(.field(FieldPath(["x"]))), .constant(.int(0))))
    conditionTest(
      "not a or b and c",
      .or(.not(.field(FieldPath(["a"]))), .and(.field(FieldPath(["b"])), .field(FieldPath(["c"])))))
    conditionTest(
      "distance_km(first.lat, first.lon, lat, lon) > 500",
      .binary(
        .greater,
        .call(.distanceKm, [
          .stepField(step: 0, FieldPath(["lat"])), .stepField(step: 0, FieldPath(["lon"])),
          .field(FieldPath(["lat"])), .field(FieldPath(["lon"])),
        ]),
        .constant(.int(500))))
    conditionTest(
      "s == \"a\\tb\" or b == true",
      .or(
        .binary(.equal, .field(FieldPath(["s"])), .constant(.string("a\tb"))),
        .binary(.equal, .field(FieldPath(["b"])), .constant(.bool(true)))))
  }

  func testNullComparisonStillLowers() {
    let result = FrontEnd.check([SourceFile(path: "t.tcs", text: "rule r begin a where x == null")])
    XCTAssertEqual(result.warningCount, 1)
    XCTAssertEqual(result.rules.first?.steps.first?.condition,
      .binary(.equal, .field(FieldPath(["x"])), .constant(.null)))
  }

  func testSeveralWheresAreAnded() {
    let rules = assertClean("rule r begin a where x > 1 where y < 2 where z")
    XCTAssertEqual(rules.first?.steps.first?.condition, .and(.and(
      .binary(.greater, .field(FieldPath(["x"])), .constant(.int(1))),
      .binary(.less, .field(FieldPath(["y"])), .constant(.int(2)))),
      .field(FieldPath(["z"]))))
  }

  func testAggregatesInConditions() {
    let rules = assertClean(
      "rule r begin burst times 3+ where count(burst) < 10 and sum(burst.amount) > 5 within 1h")
    XCTAssertEqual(rules.first?.steps.first?.condition, .and(
      .binary(.less, .aggregate(.count, step: 0, field: nil), .constant(.int(10))),
      .binary(.greater, .aggregate(.sum, step: 0, field: FieldPath(["amount"])), .constant(.int(5)))))
  }

  func testEmit() {
    emitTest("key", .key)
    emitTest("first.city", .stepField(step: 0, FieldPath(["city"])))
    emitTest("last.city", .stepField(step: 2, FieldPath(["city"])))
    emitTest("city", .field(FieldPath(["city"])))
    emitTest("count(burst)", .aggregate(.count, step: 1, field: nil))
    emitTest("avg(burst.geo.km)", .aggregate(.avg, step: 1, field: FieldPath(["geo", "km"])))
    emitTest("round(x / 2)", .call(.round, [.binary(.divide, .field(FieldPath(["x"])), .constant(.int(2)))]))
  }

  func testWholeRule() {
    let rules = assertClean(
      """
      # comment
      rule card_velocity
        severity high
        description "many purchases"
        key card, geo.country
        begin burst where type == "purchase"
          times 10+
        next done times 2
        followed_by after where type == "refund"
        within 1h30m
        skip past_last_event
        emit { card: key, purchases: count(burst), total: sum(burst.amount) }
      """)
    guard let rule = rules.first else { return XCTFail("no rule") }
    XCTAssertEqual(rule.name, "card_velocity")
    XCTAssertEqual(rule.severity, .high)
    XCTAssertEqual(rule.description, "many purchases")
    XCTAssertEqual(rule.keyFields, [FieldPath(["card"]), FieldPath(["geo", "country"])])
    XCTAssertEqual(rule.steps.map(\.name), ["burst", "done", "after"])
    XCTAssertEqual(rule.steps.map(\.contiguity), [.relaxed, .strict, .relaxed])
    XCTAssertEqual(rule.steps.map(\.quantifier), [.timesOrMore(10), .times(2), .once])
    XCTAssertEqual(rule.within, .minutes(90))
    XCTAssertEqual(rule.skip, .skipPastLastEvent)
    XCTAssertEqual(rule.emit.map(\.name), ["card", "purchases", "total"])
    XCTAssertEqual(rule.sourcePath, "test.tcs")
    XCTAssertEqual(rule.sourceLine, 2)
  }

  func testDefaults() {
    let rules = assertClean("rule r begin a")
    XCTAssertEqual(rules.first?.severity, .medium)
    XCTAssertEqual(rules.first?.skip, .noSkip)
    XCTAssertEqual(rules.first?.keyFields, [])
    XCTAssertNil(rules.first?.within)
    XCTAssertNil(rules.first?.description)
    XCTAssertNil(rules.first?.steps.first?.condition)
    XCTAssertEqual(assertClean("rule r begin a no_skip").first?.skip, .noSkip)
  }

  func testDesignExampleChecksClean() {
    let rules = assertClean(
      """
      # Two large purchases too far apart to travel between in the time between them.
      rule geo_impossible_purchase
        severity high
        key user
        begin first
          where type == "purchase" and amount > 10000
        followed_by second
          where type == "purchase" and amount > 10000
            and distance_km(first.lat, first.lon, lat, lon) > 500
        within 10m
        emit { user: key, from: first.city, to: second.city,
               km: round(distance_km(first.lat, first.lon, second.lat, second.lon)) }

      rule card_velocity
        severity medium
        key card
        begin burst where type == "purchase"
          times 10+
        within 1h
        skip past_last_event
        emit { card: key, purchases: count(burst), total: sum(burst.amount) }
      """)
    XCTAssertEqual(rules.map(\.name), ["geo_impossible_purchase", "card_velocity"])
    XCTAssertEqual(rules.map(\.sourceLine), [2, 14])
    XCTAssertEqual(rules.first?.emit.last?.value, .call(.round, [
      .call(.distanceKm, [
        .stepField(step: 0, FieldPath(["lat"])), .stepField(step: 0, FieldPath(["lon"])),
        .stepField(step: 1, FieldPath(["lat"])), .stepField(step: 1, FieldPath(["lon"])),
      ])
    ]))
  }
}
