import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// Checks of the pattern algebra that Flink CEP rejects (or warns about), by diagnostic ID.
final class PatternSemaTests: XCTestCase {
  // MARK: - Negation

  func testNegationFirst() {
    diagnosticTest("rule r 1️⃣not_next a followed_by b", "sema.negationFirst")
    diagnosticTest("rule r 1️⃣not_followed_by a within 5m", "sema.negationFirst")
    diagnosticTest("rule r begin a next (1️⃣not_next b next c)", "sema.negationFirst")
    diagnosticTest("rule r begin a next (1️⃣next b)", "sema.firstStepNotBegin")
    diagnosticTest("rule r begin a next (begin b 1️⃣begin c)", "sema.beginNotFirst")
  }

  func testAbsenceNeedsWithin() {
    diagnosticTest("rule r begin a 1️⃣not_followed_by b", "sema.absenceWithoutWithin", hasHint: true)
    diagnosticTest("rule r begin a next (begin b 1️⃣not_followed_by c)", "sema.absenceWithoutWithin")
    assertClean("rule r begin a not_followed_by b within 5m", allowingUnusedSteps: true)
    assertClean("rule r begin a not_followed_by b within 5m between steps", allowingUnusedSteps: true)
    assertClean("rule r begin a not_followed_by b followed_by c", allowingUnusedSteps: true)
  }

  func testNegationCannotRepeat() {
    diagnosticTest("rule r begin a not_next b 1️⃣times 2 followed_by c", "sema.negationQuantifier", hasHint: true)
    diagnosticTest("rule r begin a not_next b 1️⃣one_or_more followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a not_next b 1️⃣optional followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a not_next b 1️⃣greedy followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a not_next b 1️⃣until x followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a not_followed_by b 1️⃣consecutive followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a not_followed_by b 1️⃣allow_combinations followed_by c", "sema.negationQuantifier")
    diagnosticTest("rule r begin a 1️⃣not_next (begin b) followed_by c", "sema.negatedGroup")
  }

  func testOptionalBeforeNegation() {
    diagnosticTest(
      "rule r begin a next b 2️⃣optional 1️⃣not_next c followed_by d", "sema.optionalBeforeNegation",
      notes: ["2️⃣"], hasHint: true)
    diagnosticTest(
      "rule r begin a next (begin b next c) 2️⃣optional 1️⃣not_followed_by d within 5m",
      "sema.optionalBeforeNegation", notes: ["2️⃣"])
    // Allowed: two negations in a row, and a negation followed by an optional step.
    assertClean("rule r begin a not_next b not_followed_by c followed_by d", allowingUnusedSteps: true)
    assertClean("rule r begin a not_next b followed_by c optional", allowingUnusedSteps: true)
  }

  func testNegationStepRead() {
    diagnosticTest("rule r begin a not_next 2️⃣b followed_by c where 1️⃣b.x > 1", "sema.negationStepRead", notes: ["2️⃣"])
    diagnosticTest("rule r begin a not_next b followed_by c emit { v: 1️⃣b.x }", "sema.negationStepRead")
    diagnosticTest("rule r begin a not_next b followed_by c emit { v: count(1️⃣b) }", "sema.negationStepRead")
    diagnosticTest("rule r begin a not_next b followed_by c skip to_first 1️⃣b", "sema.skipToNegation")
    assertClean("rule r begin a not_next b where b.x > a.x followed_by c", allowingUnusedSteps: true)
  }

  // MARK: - Quantifier modifiers

  func testLoopOnlyModifiers() {
    diagnosticTest("rule r begin a 1️⃣greedy", "sema.modifierNeedsLoop", hasHint: true)
    diagnosticTest("rule r begin a 1️⃣consecutive", "sema.modifierNeedsLoop")
    diagnosticTest("rule r begin a optional 1️⃣allow_combinations", "sema.modifierNeedsLoop")
    diagnosticTest("rule r begin a times 1 1️⃣until x", "sema.modifierNeedsLoop")
    diagnosticTest("rule r begin a next (begin b) 1️⃣consecutive", "sema.modifierNeedsLoop")
    assertClean("rule r begin a times 2+ greedy consecutive until x > 1 within 5m", allowingUnusedSteps: true)
    assertClean("rule r begin a times 2..4 allow_combinations optional within 5m", allowingUnusedSteps: true)
  }

  func testQuantifierCounts() {
    diagnosticTest("rule r begin a times 2+ consecutive 1️⃣allow_combinations within 5m", "sema.conflictingContiguity")
    diagnosticTest("rule r begin a times 1️⃣5..2 within 5m", "sema.timesRangeReversed", hasHint: true)
    diagnosticTest("rule r begin a times 1️⃣0..2 within 5m", "sema.timesOutOfRange")
    diagnosticTest("rule r begin a times 1..1️⃣100001 within 5m", "sema.timesOutOfRange")
    diagnosticTest("rule r begin a times 1️⃣0", "sema.timesOutOfRange")
    diagnosticTest("rule r begin a one_or_more 1️⃣times 2 within 5m", "sema.duplicateQuantifier")
    diagnosticTest("rule r begin a 2️⃣optional 1️⃣optional", "sema.duplicateModifier", notes: ["2️⃣"])
    diagnosticTest("rule r begin a times 2+ until x 1️⃣until y within 5m", "sema.duplicateModifier")
    assertClean("rule r begin a times 3..3 within 5m", allowingUnusedSteps: true)
    assertClean("rule r begin a times 1..100000 within 5m", allowingUnusedSteps: true)
  }

  func testOrWhere() {
    diagnosticTest("rule r begin a 1️⃣or where x", "sema.orWhereFirst")
    assertClean("rule r begin a where x where y or where z", allowingUnusedSteps: true)
  }

  func testUntilResolvesLikeWhere() {
    diagnosticTest(
      "rule r begin a times 2+ until 1️⃣b.x > 1 followed_by 2️⃣b within 5m", "sema.stepDeclaredLater", notes: ["2️⃣"])
    diagnosticTest("rule r begin a times 2+ until 1️⃣x + 1 within 5m", "sema.conditionNotBool")
    assertClean("rule r begin a followed_by b times 2+ until x > a.x within 5m", allowingUnusedSteps: true)
  }

  // MARK: - Groups

  func testGroupRestrictions() {
    diagnosticTest("rule r begin a next (begin b times 2+ 1️⃣greedy) within 5m", "sema.greedyInGroup")
    diagnosticTest("rule r begin a next (begin b) times 2+ 1️⃣greedy within 5m", "sema.greedyInGroup")
    diagnosticTest("rule r begin a next (begin b) 1️⃣where x", "sema.groupCondition")
    diagnosticTest("rule r begin a next (begin b) times 2+ 1️⃣until x within 5m", "sema.groupCondition")
    diagnosticTest("rule r begin a next (begin b) 1️⃣or where x", "sema.groupCondition")
    diagnosticTest("rule r begin a next 1️⃣(not_next b)", "sema.groupWithoutTakingStep")
    diagnosticTest("rule r begin 2️⃣a next (begin 1️⃣a)", "sema.duplicateStep", notes: ["2️⃣"])
    diagnosticTest("rule r begin a next (begin b) 1️⃣one_or_more", "sema.unboundedState", severity: .warning)
    assertClean("rule r begin (begin a next (begin b next c) times 2 followed_by d) optional within 5m", allowingUnusedSteps: true)
  }

  func testRepeatedGroupStepsAreLooping() {
    diagnosticTest(
      "rule r begin a next (begin b next c where 1️⃣b.x > 1) times 2 within 5m", "sema.loopingStepField",
      hasHint: true)
    diagnosticTest(
      "rule r begin (begin a) times 2 followed_by b where 1️⃣a.x > 1 within 5m", "sema.loopingStepField")
    diagnosticTest(
      "rule r begin a next (begin b where 1️⃣c.x > 1 next 2️⃣c)", "sema.stepDeclaredLater", notes: ["2️⃣"])
    assertClean("rule r begin a next (begin b next c where b.x > a.x) optional", allowingUnusedSteps: true)
    assertClean("rule r begin (begin a) times 2 followed_by b where count(a) > 1 and sum(a.x) > 2 within 5m", allowingUnusedSteps: true)
  }

  // MARK: - Skip

  func testSkipTargets() {
    diagnosticTest("rule r begin first skip to_first 1️⃣frist", "sema.unknownStep", hasHint: true)
    diagnosticTest("rule r begin a skip to_last 1️⃣zzz", "sema.unknownStep", hasHint: false)
    diagnosticTest(
      "rule r begin a followed_by 2️⃣b optional skip to_last 1️⃣b", "sema.skipTargetOptional", severity: .warning,
      notes: ["2️⃣"])
    diagnosticTest(
      "rule r begin a followed_by (begin b) optional skip to_first 1️⃣b", "sema.skipTargetOptional")
    diagnosticTest("rule r begin a 2️⃣skip to_next 1️⃣no_skip", "sema.duplicateClause", notes: ["2️⃣"])
    assertClean("rule r begin a followed_by b skip to_first b", allowingUnusedSteps: true)
  }

  // MARK: - Windows and timeouts

  func testWithinBetweenSteps() {
    diagnosticTest(
      "rule r begin a 2️⃣within 5m between steps 1️⃣within 6m between steps", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("rule r begin a within 1️⃣0s between steps", "sema.withinNotPositive")
    assertClean("rule r begin a times 2+ within 5m within 1m between steps", allowingUnusedSteps: true)
    assertClean("rule r begin a times 2+ within 1m between steps", allowingUnusedSteps: true)
  }

  func testOnTimeout() {
    diagnosticTest("rule r begin a followed_by b 1️⃣on timeout emit { v: 1 }", "sema.timeoutWithoutWithin", hasHint: true)
    diagnosticTest(
      "rule r begin a 2️⃣on timeout emit { v: 1 } 1️⃣on timeout emit { w: 1 } within 5m", "sema.duplicateClause",
      notes: ["2️⃣"])
    let duplicate = diagnosticTest(
      "rule r begin a on timeout emit { v: 1 } 1️⃣on timeout emit { w: 1 } within 5m", "sema.duplicateClause")
    XCTAssertEqual(duplicate.diagnostics.first?.message, "duplicate 'on timeout' clause")
    diagnosticTest("rule r begin a within 5m on timeout emit { v: 1️⃣nope(1) }", "sema.unknownFunction")
    diagnosticTest("rule r begin a times 2 within 5m on timeout emit { v: 1️⃣a.x }", "sema.loopingStepField")
    // Any step may be read: one that did not match reads as null.
    assertClean("rule r begin a followed_by b optional followed_by c within 5m on timeout emit { x: a.v, y: b.v, z: c.v }", allowingUnusedSteps: true)
  }

  // MARK: - Warnings

  func testUnboundedStateForAnyContiguity() {
    diagnosticTest("rule r begin a 1️⃣followed_by_any b where ok", "sema.unboundedState", severity: .warning, hasHint: true)
    assertClean("rule r begin a followed_by_any b within 5m", allowingUnusedSteps: true)
    assertClean("rule r begin a followed_by_any b within 5m between steps", allowingUnusedSteps: true)
  }
}
