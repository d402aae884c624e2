import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// Checking of times, durations, zones, `speed_kmh`, lists, schemas and the usage lints.
final class TimeSchemaSemaTests: XCTestCase {
  private let schema = "schema { user: string, amount: float, n: int, ts: time, tags: string, lat: float, lon: float, geo.city: string }\n"

  func testTemporalTypes() {
    // (condition with a 1️⃣ marker, expected diagnostic, hint?)
    let rows: [(String, String, Bool)] = [
      ("1️⃣time() - time(a) > 5", "sema.comparisonTypeMismatch", true),  // duration vs int
      ("1️⃣time() > 5", "sema.comparisonTypeMismatch", true),  // time vs int
      ("1️⃣time() == 5m", "sema.comparisonTypeMismatch", true),  // time vs duration
      ("1️⃣time() + time(a) > 1", "sema.arithmeticTypeMismatch", true),
      ("1️⃣5m + 3 > 1m", "sema.arithmeticTypeMismatch", true),
      ("1️⃣time(a) - \"x\" > 1m", "sema.arithmeticTypeMismatch", true),
      ("1️⃣5m * 1m > 1m", "sema.arithmeticTypeMismatch", false),
      ("time(1️⃣x) > time()", "sema.timeArgument", false),
      ("time(1️⃣a.x) > time()", "sema.timeArgument", false),
      ("time(1️⃣c) > time()", "sema.stepDeclaredLater", false),
      ("hour_of_day(1️⃣\"2026-01-01T00:00:00Z\") < 6", "sema.argumentTypeMismatch", false),
      ("hour_of_day(ts, 1️⃣\"Europe/Berln\") < 6", "sema.unknownTimeZone", true),
      ("hour_of_day(ts, 1️⃣zone) < 6", "sema.argumentNotLiteral", false),
      ("1️⃣date(ts, \"UTC\", 1) == \"x\"", "sema.wrongArgumentCount", false),
      ("speed_kmh(a, 1️⃣lat) > 1", "sema.speedArguments", true),
      ("1️⃣speed_kmh(a, b, c) > 1", "sema.wrongArgumentCount", false),
      ("x in 1️⃣lower(y)", "sema.inNotList", false),
      ("1️⃣split(tags, \",\") == \"a\"", "sema.comparisonTypeMismatch", false),
    ]
    for (condition, id, hasHint) in rows {
      diagnosticTest(
        "rule r begin a where x followed_by b where \(condition) followed_by c where y within 1h", id,
        hasHint: hasHint)
    }
  }

  func testValidTemporalExpressions() {
    let rules = assertClean(
      """
      rule r key u
        begin a where type == "login"
        followed_by b where time(b) - time(a) >= 1m30s and time() < time(a) + 10m
          and (time(b) - time(a)) / 1m > 1.5 and -5m < 2 * (time() - time(a))
          and hour_of_day(ts, "Europe/Berlin") < 6 and day_of_week(time()) <= 5
          and date(time(a), "America/New_York") != date(time())
          and speed_kmh(a, b) > 900 and speed_kmh(a.lat, a.lon, time(a), lat, lon, ts) > 1
          and "vip" in split(tags, ",") and len(split(tags, ",")) > 2 and len(name) > 0
          and to_time(ts) - time(a) < 1h and x in [5m, 10m]
        within 1h
        emit { gap: time(b) - time(a), day: date(time(a), "Europe/Berlin"), at: time() }
      """)
    guard let rule = rules.first else { return XCTFail("no rule") }
    XCTAssertEqual(rule.emit.first?.value, .binary(.subtract, .stepTime(step: 1), .stepTime(step: 0)))
    XCTAssertEqual(rule.emit.last?.value, .eventTime)
  }

  func testSpeedExpandsToFieldsAndTimes() {
    let rules = assertClean("rule r begin a where ok followed_by b where speed_kmh(a, b) > 900")
    let lat = FieldPath(["lat"])
    let lon = FieldPath(["lon"])
    let expanded = Expr.call(
      .speedKmh, [.stepField(step: 0, lat), .stepField(step: 0, lon), .stepTime(step: 0), .field(lat), .field(lon), .eventTime])
    XCTAssertEqual(rules.first?.steps[1].condition, .binary(.greater, expanded, .constant(.int(900))))
  }

  // MARK: - Schema

  func testSchemaDiagnostics() {
    let rows: [(String, String, Bool)] = [
      ("1️⃣amout > 5", "sema.unknownField", true),  // did you mean 'amount'?
      ("1️⃣geo.cty == \"x\"", "sema.unknownField", true),
      ("1️⃣amount == \"x\"", "sema.comparisonTypeMismatch", false),
      ("lower(1️⃣amount) == \"x\"", "sema.argumentTypeMismatch", false),
      ("abs(1️⃣user) > 1", "sema.argumentTypeMismatch", false),
      ("1️⃣ts > 5", "sema.comparisonTypeMismatch", true),  // `ts: time` is a time
      ("n + 1️⃣user > 1", "sema.operandTypeMismatch", false),
    ]
    for (condition, id, hasHint) in rows {
      diagnosticTest(schema + "rule r key user begin a where \(condition)", id, hasHint: hasHint)
    }
    diagnosticTest(schema + "rule r key 1️⃣usr begin a where n > 1", "sema.unknownField", hasHint: true)
    diagnosticTest("schema { a: 1️⃣strng }\nrule r begin x where a == 1", "sema.unknownSchemaType", hasHint: true)
    diagnosticTest("schema { a: int, 1️⃣a: int }\nrule r begin x where a == 1", "sema.duplicateSchemaField")
    diagnosticTest("schema 1️⃣\"missing.schema\"\nrule r begin x where a == 1", "sema.schemaFileUnusable", hasHint: true)
    diagnosticTest("schema1️⃣ a\nrule r begin x where a == 1", "parse.expectedToken", hasHint: true)
  }

  func testSchemaTypesAndTimeFields() {
    let rules = assertClean(schema + "rule r key user begin a where amount > 5 and ts - time() < 1m and geo.city == \"Berlin\"")
    let ts = Expr.call(.toTime, [.field(FieldPath(["ts"]))])
    XCTAssertEqual(
      rules.first?.steps.first?.condition,
      .and(
        .and(
          .binary(.greater, .field(FieldPath(["amount"])), .constant(.int(5))),
          .binary(.less, .binary(.subtract, ts, .eventTime), .constant(.duration(.minutes(1))))),
        .binary(.equal, .field(FieldPath(["geo", "city"])), .constant(.string("Berlin")))))
    // A field called `schema` is still an ordinary field inside rules.
    assertClean("rule r begin a where schema == 1")
  }

  func testSchemaFile() {
    let shared = SourceFile(path: "rules/shared.schema", text: "schema { user: string, amount: float }")
    let file = SourceFile(path: "rules/r.tcs", text: "schema \"shared.schema\"\nrule r key user begin a where amount > 1 and amout < 2")
    let result = FrontEnd.check([file]) { path in path == "rules/shared.schema" ? shared : nil }
    XCTAssertEqual(result.diagnostics.map(\.id.description), ["sema.unknownField"])
    XCTAssertEqual(result.diagnostics.first?.hint, "did you mean 'amount'?")
    let withRule = SourceFile(path: "s.schema", text: "schema { a: int }\nrule x begin y where a == 1")
    let broken = FrontEnd.check([SourceFile(path: "r.tcs", text: "schema \"s.schema\"\nrule r begin s where a == 1")]) { _ in withRule }
    XCTAssertEqual(broken.diagnostics.map(\.id.description), ["sema.schemaFileUnusable"])
  }

  // MARK: - Usage lints

  func testUnusedAndOptionalSteps() {
    diagnosticTest("rule r begin a where x followed_by 1️⃣b within 5m", "sema.unusedStep", severity: .warning, hasHint: true)
    diagnosticTest(
      "rule r begin a where x followed_by b optional where y followed_by c where 1️⃣b.z > 1 within 5m",
      "sema.optionalStepRead", severity: .warning, hasHint: true)
    diagnosticTest(
      "rule r begin a where x followed_by b optional where y followed_by c where time(1️⃣b) < time() within 5m",
      "sema.optionalStepRead", severity: .warning, hasHint: true)
    for clean in [
      "rule r begin a where x followed_by b within 5m emit { v: b.x }",  // read by emit
      "rule r begin a where x followed_by b within 5m skip to_last b",  // a skip target
      "rule r begin a where x followed_by b within 5m emit { t: time(b) }",
      "rule r begin a followed_by b where x within 5m",  // the first step may take any event
      "rule r begin a where x followed_by b times 3 within 5m",  // a count of any events
      "rule r begin a where x not_followed_by b within 5m",  // any event breaks the match
      "rule r begin a where x followed_by b optional where y followed_by c where coalesce(b.z, 0) < 1 within 5m",
      "rule r begin a where x followed_by b optional where y followed_by c where not exists(b.z) or b.z < 1 within 5m",
      "rule r begin a where x followed_by (begin b where y next c where b.z > 1) optional within 5m",
    ] {
      assertClean(clean)
    }
  }
}
