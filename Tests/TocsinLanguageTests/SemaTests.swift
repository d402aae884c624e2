import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

final class SemaTests: XCTestCase {
  // MARK: - Rule structure

  func testSteps() {
    diagnosticTest("rule 1️⃣r within 5m", "sema.missingStep")
    diagnosticTest("rule r 1️⃣next a", "sema.firstStepNotBegin")
    diagnosticTest("rule r begin a 1️⃣begin b", "sema.beginNotFirst")
    diagnosticTest("rule r begin 2️⃣a next 1️⃣a", "sema.duplicateStep", notes: ["2️⃣"])
    diagnosticTest("rule r begin a times 1️⃣0 within 5m", "sema.timesOutOfRange")
    diagnosticTest("rule r begin a times 1️⃣100001 within 5m", "sema.timesOutOfRange")
    diagnosticTest("rule r begin a times 3 1️⃣times 4 within 5m", "sema.duplicateQuantifier")
    assertClean("rule r begin a times 100000 within 5m", allowingUnusedSteps: true)
    assertClean("rule r begin a times 1 next b followed_by c", allowingUnusedSteps: true)
  }

  func testClauses() {
    diagnosticTest("rule r severity 1️⃣hgih begin a", "sema.unknownSeverity", hasHint: true)
    diagnosticTest("rule r severity 1️⃣whatever begin a", "sema.unknownSeverity", hasHint: false)
    diagnosticTest("rule r begin a within 1️⃣0s", "sema.withinNotPositive")
    diagnosticTest("rule r 2️⃣within 5m begin a 1️⃣within 6m", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("rule r 2️⃣key a begin a 1️⃣key b", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("rule r 2️⃣severity low begin a 1️⃣severity high", "sema.duplicateClause")
    diagnosticTest("rule r 2️⃣description \"a\" begin a 1️⃣description \"b\"", "sema.duplicateClause")
    diagnosticTest("rule r begin a 2️⃣emit { x: 1 } 1️⃣emit { y: 1 }", "sema.duplicateClause")
    diagnosticTest("rule r begin a 2️⃣no_skip 1️⃣skip past_last_event", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("rule r begin a emit { 2️⃣x: 1, 1️⃣x: 2 }", "sema.duplicateEmitField", notes: ["2️⃣"])
    diagnosticTest("rule r begin a where x suppress 1️⃣0s", "sema.suppressNotPositive")
    diagnosticTest("rule r begin a where x 2️⃣suppress 1m 1️⃣suppress 2m", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("rule r begin a where x suppress 1m by 1️⃣nope(x)", "sema.unknownFunction")
    diagnosticTest("rule r begin a where x suppress 1m by count(1️⃣b)", "sema.unknownStep", hasHint: false)
  }

  func testSuppressLowersToSpec() {
    let plain = assertClean("rule r key card begin a where x suppress 1h")
    XCTAssertEqual(plain.first?.suppression, SuppressionSpec(duration: .hours(1)))
    let keyed = assertClean("rule r begin a where x followed_by b where y suppress 90s by a.merchant")
    XCTAssertEqual(keyed.first?.suppression?.duration, .seconds(90))
    XCTAssertEqual(keyed.first?.suppression?.key?.rendered(stepNames: ["a", "b"]), "a.merchant")
  }

  func testDuplicateRules() {
    diagnosticTest("rule 2️⃣r begin a\nrule 1️⃣r begin b", "sema.duplicateRule", notes: ["2️⃣"])
    let a = SourceFile(path: "a.tcs", text: "rule shared begin x")
    let b = SourceFile(path: "b.tcs", text: "rule other begin x\nrule shared begin y")
    let result = FrontEnd.check([a, b])
    XCTAssertEqual(result.diagnostics.map(\.id.description), ["sema.duplicateRule"])
    XCTAssertEqual(result.diagnostics.first?.file.path, "b.tcs")
    XCTAssertEqual(result.diagnostics.first?.notes.first?.file.path, "a.tcs")
    XCTAssertEqual(result.rules.map(\.name), ["shared", "other"])
  }

  // MARK: - Names

  func testStepReferences() {
    diagnosticTest(
      "rule r begin a times 3 followed_by b where 1️⃣a.x > 1 within 5m", "sema.loopingStepField", hasHint: true)
    diagnosticTest("rule r begin a followed_by b where 1️⃣a > 1", "sema.stepWithoutField")
    diagnosticTest("rule r begin a where 1️⃣b.x > 1 followed_by 2️⃣b", "sema.stepDeclaredLater", notes: ["2️⃣"])
    diagnosticTest(
      "rule r begin first followed_by second where 1️⃣frist.lat > 0", "sema.fieldLooksLikeStep",
      severity: .warning, hasHint: true)
    diagnosticTest("rule r begin a where 1️⃣a > 1", "sema.stepWithoutField")
    diagnosticTest(
      "rule r begin a times 2+ where 1️⃣a.x > 1 within 5m", "sema.loopingStepField")
    diagnosticTest("rule r begin a followed_by b emit { v: 1️⃣a }", "sema.stepWithoutField")
    diagnosticTest("rule r begin a times 2 within 5m emit { v: 1️⃣a.x }", "sema.loopingStepField")
    assertClean("rule r begin first followed_by second where first.lat > second.lat", allowingUnusedSteps: true)
    assertClean("rule r begin first where frist > 0", allowingUnusedSteps: true)  // a bare name is just a field
  }

  func testAggregates() {
    diagnosticTest("rule r begin a times 2 within 5m emit { n: count(1️⃣b) }", "sema.unknownStep")
    diagnosticTest("rule r begin burst times 2 within 5m emit { n: count(1️⃣brust) }", "sema.unknownStep", hasHint: true)
    diagnosticTest("rule r begin a times 2 within 5m emit { n: count(1️⃣a.x) }", "sema.aggregateArgument")
    diagnosticTest("rule r begin a times 2 within 5m emit { n: sum(1️⃣a) }", "sema.aggregateArgument")
    diagnosticTest("rule r begin a times 2 within 5m emit { n: avg(1️⃣1) }", "sema.aggregateArgument")
    diagnosticTest("rule r begin a times 2 within 5m emit { n: 1️⃣sum(a.x, a.y) }", "sema.wrongArgumentCount")
    diagnosticTest(
      "rule r begin a where count(1️⃣b) > 1 followed_by 2️⃣b times 2 within 5m", "sema.stepDeclaredLater",
      notes: ["2️⃣"])
    assertClean("rule r begin a times 2+ where count(a) < 5 and avg(a.x) > 1 within 5m", allowingUnusedSteps: true)
  }

  func testCalls() {
    diagnosticTest(
      "rule r begin a where 1️⃣distanse_km(lat, lon, lat, lon) > 500", "sema.unknownFunction", hasHint: true)
    diagnosticTest("rule r begin a where 1️⃣frobnicate(x)", "sema.unknownFunction", hasHint: false)
    diagnosticTest("rule r begin a where 1️⃣round(x, y) > 1", "sema.wrongArgumentCount")
    diagnosticTest("rule r begin a where lower(1️⃣1) == \"a\"", "sema.argumentTypeMismatch")
    diagnosticTest("rule r begin a where abs(1️⃣\"x\") > 1", "sema.argumentTypeMismatch")
    assertClean("rule r begin a where exists(x) and not exists(y) and contains(lower(z), \"q\")", allowingUnusedSteps: true)
    assertClean("rule r begin a where abs(-3) + min(x, 2.5) > round(1)", allowingUnusedSteps: true)
  }

  func testWrongArgumentCountShowsSignature() {
    let result = diagnosticTest("rule r begin a where 1️⃣round(x, y) > 1", "sema.wrongArgumentCount")
    XCTAssertEqual(
      result.diagnostics.first?.message, "'round' takes 1 argument, found 2; expected 'round(number)'")
  }

  // MARK: - Types

  func testTypes() {
    diagnosticTest("rule r begin a where 1️⃣\"a\" == 1", "sema.comparisonTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣\"a\" < 1.5", "sema.comparisonTypeMismatch")
    diagnosticTest("rule r begin a where x + 1️⃣\"a\" > 1", "sema.operandTypeMismatch")
    diagnosticTest("rule r begin a where -1️⃣\"a\" > 1", "sema.operandTypeMismatch")
    diagnosticTest("rule r begin a where not 1️⃣3", "sema.operandTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣1 and x", "sema.operandTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣true < x", "sema.operandTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣x + 1", "sema.conditionNotBool")
    diagnosticTest("rule r begin a where 1️⃣\"text\"", "sema.conditionNotBool")
    diagnosticTest("rule r begin a where 1️⃣x / 2 == \"a\"", "sema.comparisonTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣x == null", "sema.comparisonWithNull", severity: .warning)
    diagnosticTest("rule r begin a where 1️⃣null != x", "sema.comparisonWithNull", severity: .warning)
    assertClean("rule r begin a where x == \"a\" or x == 1 or x", allowingUnusedSteps: true)
    assertClean("rule r begin a where 1 < 2.5 and key == \"k\" and (x) and -x < 1", allowingUnusedSteps: true)
  }

  func testTypeErrorsAreAllReported() {
    assertDiagnostics(
      "rule r begin a where 1️⃣\"a\" + 1 > 0 and not 2️⃣4 followed_by b where 3️⃣lowr(x) == \"\"",
      [
        DiagnosticSpec("1️⃣", "sema.operandTypeMismatch"),
        DiagnosticSpec("2️⃣", "sema.operandTypeMismatch"),
        DiagnosticSpec("3️⃣", "sema.unknownFunction"),
      ])
  }

  // MARK: - Warnings

  func testUnboundedState() {
    diagnosticTest("rule r begin a 1️⃣times 3+", "sema.unboundedState", severity: .warning, hasHint: true)
    diagnosticTest("rule r begin a followed_by b 1️⃣times 3", "sema.unboundedState", severity: .warning)
    assertClean("rule r begin a times 3+ within 1h", allowingUnusedSteps: true)
  }

  func testRarelyUsedField() {
    diagnosticTest(
      "rule r begin a where amount > 1 followed_by b where 1️⃣amout > 2 and amount < 3",
      "sema.rarelyUsedField", severity: .warning)
    // Across rules and in emit / aggregates too.
    diagnosticTest(
      "rule r begin a where amount > 1\nrule s begin a times 2 within 5m emit { t: sum(a.1️⃣amonut), u: sum(a.amount) }",
      "sema.rarelyUsedField")
    // Short names are not flagged; fields used twice are not flagged.
    assertClean("rule r begin a where lat > 1 and lon > 2", allowingUnusedSteps: true)
    assertClean("rule r begin a where amount > 1 and amount < 9 and amout > 2 and amout < 3", allowingUnusedSteps: true)
    // A path already reported as a misspelt step is not reported again as a misspelt field.
    assertDiagnostics(
      "rule r begin first where lat > 1 and lat < 2 followed_by b where 1️⃣frist.lat > 0",
      [DiagnosticSpec("1️⃣", "sema.fieldLooksLikeStep")])
  }

  func testRarelyUsedFieldMessage() {
    let result = diagnosticTest(
      "rule r begin a where amount > 1 and amount < 5 and 1️⃣amout > 2", "sema.rarelyUsedField")
    XCTAssertEqual(result.diagnostics.first?.message, "field 'amout' is read only here; did you mean 'amount'?")
  }

  // MARK: - Errors exclude rules

  func testOnlyRulesWithoutErrorsAreReturned() {
    let result = FrontEnd.check([
      SourceFile(
        path: "t.tcs",
        text: """
          rule good begin a times 2+
          rule syntax begin a where (
          rule semantic begin a where nope(1)
          rule also_good begin a
          """)
    ])
    XCTAssertEqual(result.rules.map(\.name), ["good", "also_good"])
    XCTAssertEqual(result.errorCount, 2)
    XCTAssertEqual(result.warningCount, 1)
    XCTAssertTrue(result.hasErrors)
    XCTAssertEqual(result.syntax.first?.rules.count, 4)
  }

  func testDiagnosticsSortedByFileThenOffset() {
    let first = SourceFile(path: "z.tcs", text: "rule a begin x where nope(1)\nrule b begin y @")
    let second = SourceFile(path: "a.tcs", text: "rule c begin x where \"s\" == 1")
    let result = FrontEnd.check([first, second])
    XCTAssertEqual(result.diagnostics.map(\.file.path), ["z.tcs", "z.tcs", "a.tcs"])
    XCTAssertEqual(result.diagnostics.map(\.id.description), [
      "sema.unknownFunction", "lex.unexpectedCharacter", "sema.comparisonTypeMismatch",
    ])
  }
}
