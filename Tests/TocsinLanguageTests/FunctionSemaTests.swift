import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// Check-time validation of the functions with literal patterns: regexes, globs and CIDR blocks.
final class FunctionSemaTests: XCTestCase {
  func testInvalidRegex_PointsIntoTheLiteral() {
    // PCRE2 reports the stray ')' at offset 2 of the pattern.
    diagnosticTest("rule r begin a where matches(p, \"ab1️⃣)c\")", "sema.invalidRegex")
    // Escapes in the literal: `\\d` is two source bytes for one pattern byte, `\u00e9` six for two.
    diagnosticTest("rule r begin a where matches(p, \"\\\\d1️⃣)\")", "sema.invalidRegex")
    diagnosticTest("rule r begin a where matches(p, \"\\u00e91️⃣)\")", "sema.invalidRegex")
    // A missing ')' is found at the end of the pattern: the caret is on the closing quote.
    diagnosticTest("rule r begin a where matches(p, \"(ab1️⃣\")", "sema.invalidRegex")
    // PCRE2 blames the end of an out-of-order range.
    diagnosticTest("rule r begin a where regex_extract(p, \"[z-1️⃣a]\", 0) == \"x\"", "sema.invalidRegex")
  }

  func testInvalidRegex_MessageIsPCRE2s() {
    let result = diagnosticTest("rule r begin a where matches(p, \"ab1️⃣)c\")", "sema.invalidRegex")
    XCTAssertEqual(
      result.diagnostics.first?.message,
      "invalid regular expression: unmatched closing parenthesis")
  }

  func testInvalidRegex_Rendered() {
    let file = SourceFile(path: "r.tcs", text: "rule r\n  begin a where matches(path, \"^/api/(v1|v2/\")\n")
    let result = FrontEnd.check([file])
    XCTAssertEqual(
      DiagnosticRenderer(colored: false).render(result.diagnostics),
      """
      r.tcs:2:45: error: invalid regular expression: missing closing parenthesis
        |
      2 |   begin a where matches(path, "^/api/(v1|v2/")
        |                                             ^

      """)
  }

  func testInvalidCidr() {
    diagnosticTest("rule r begin a where in_cidr(ip, 1️⃣\"10.0.0.0/33\")", "sema.invalidCidr", hasHint: true)
    diagnosticTest("rule r begin a where in_cidr(ip, 1️⃣\"10.0.0.0\")", "sema.invalidCidr", hasHint: true)
    diagnosticTest("rule r begin a where in_cidr(ip, 1️⃣\"2001:db8::/129\")", "sema.invalidCidr", hasHint: true)
    diagnosticTest("rule r begin a where in_cidr(ip, 1️⃣\"\")", "sema.invalidCidr", hasHint: true)
  }

  func testRegexGroupOutOfRange() {
    diagnosticTest("rule r begin a where regex_extract(p, \"(a)\", 1️⃣2) == \"x\"", "sema.regexGroupOutOfRange")
    diagnosticTest("rule r begin a where regex_extract(p, \"a\", 1️⃣1) == \"x\"", "sema.regexGroupOutOfRange")
    assertClean("rule r begin a where regex_extract(p, \"(a)(?:b)(c)\", 2) == \"c\" and regex_extract(p, \"a\", 0) == \"a\"")
    assertClean("rule r begin a where regex_extract(p, \"(a)\", n) == \"a\"")  // not a literal: null at run time
  }

  func testPatternMustBeALiteral() {
    diagnosticTest("rule r begin a where matches(p, 1️⃣q)", "sema.argumentNotLiteral")
    diagnosticTest("rule r begin a where like(p, 1️⃣lower(\"A*\"))", "sema.argumentNotLiteral")
    diagnosticTest("rule r begin a where in_cidr(ip, 1️⃣net)", "sema.argumentNotLiteral")
    diagnosticTest("rule r begin a where regex_extract(p, 1️⃣q, 1) == \"x\"", "sema.argumentNotLiteral")
    diagnosticTest("rule r begin a where matches(p, 1️⃣3)", "sema.argumentTypeMismatch")
  }

  func testArgumentTypes() {
    diagnosticTest("rule r begin a where trim(1️⃣3) == \"x\"", "sema.argumentTypeMismatch")
    diagnosticTest("rule r begin a where floor(1️⃣\"x\") > 1", "sema.argumentTypeMismatch")
    diagnosticTest("rule r begin a where regex_extract(p, \"(a)\", 1️⃣\"1\") == \"a\"", "sema.argumentTypeMismatch")
    diagnosticTest("rule r begin a where 1️⃣coalesce(x) == 1", "sema.wrongArgumentCount")
    // coalesce keeps a type both sides agree on, so a mismatch with a literal is still caught.
    diagnosticTest("rule r begin a where 1️⃣coalesce(\"a\", \"b\") == 1", "sema.comparisonTypeMismatch")
  }

  func testInList() {
    diagnosticTest("rule r begin a where x in [\"a\", 1️⃣y]", "sema.listElementNotConstant")
    diagnosticTest("rule r begin a where x in [1️⃣lower(\"A\")]", "sema.listElementNotConstant")
    diagnosticTest("rule r begin a where 1 in [1️⃣\"a\"]", "sema.comparisonTypeMismatch")
    diagnosticTest("rule r begin a where x in [1, 1️⃣null]", "sema.comparisonWithNull", severity: .warning)
    diagnosticTest("rule r begin a where x in 1️⃣\"a\"", "sema.inNotList")
    diagnosticTest("rule r begin a where x in [1, 2 1️⃣within 5m", "parse.missingClosing")
    diagnosticTest("rule r begin a where x in [1] 1️⃣== true", "parse.chainedComparison")
    diagnosticTest("rule r begin a where x == 1 1️⃣in [true]", "parse.chainedComparison")
    assertClean("rule r begin a where x in [\"a\", \"b\"] and y in [1, -2, 3.5] and not z in [true]")
  }

  func testAlwaysFalse() {
    for condition in [
      "amount > 10 and amount < 5", "amount >= 5 and amount < 5", "amount > 5 and amount <= 5",
      "amount == 1 and amount == 2", "amount == 1 and amount != 1", "10 < amount and amount < 5",
      "amount > 10 and ok and amount < 5.5", "(amount > 1 and amount < 0) or other",
      "a.x > 3 and a.x < 2", "amount == 2.5 and amount > 3",
    ] {
      diagnosticTest("rule r begin a where 1️⃣\(condition)", "sema.alwaysFalse", severity: .warning, hasHint: true)
    }
  }

  func testAlwaysTrue() {
    for condition in ["amount > 5 or amount < 10", "amount >= 5 or amount < 5", "x != 1 or x != 2", "5 <= x or x <= 5"] {
      diagnosticTest("rule r begin a where 1️⃣\(condition)", "sema.alwaysTrue", severity: .warning, hasHint: true)
    }
  }

  func testSatisfiableRangesAreNotFlagged() {
    assertClean("rule r begin a where amount > 5 and amount < 10")
    assertClean("rule r begin a where amount >= 5 and amount <= 5")
    assertClean("rule r begin a where amount > 5 and other < 3")
    assertClean("rule r begin a where amount > 5 or amount < 5")  // 5 is in neither
    assertClean("rule r begin a where amount > 10 or amount < 5")
    assertClean("rule r begin a where x != 1 or x != 1")
    assertClean("rule r begin a where x == 1 and x != 2")
    assertClean("rule r begin a where amount > 10 and amount < 5 + 1 * 10")  // not a literal
    assertClean("rule r begin a where amount > 10 or amount < 5 or amount == 7")
  }

  func testValidCallsAreClean() {
    assertClean(
      """
      rule r begin a
        where matches(ua, "(?i)curl|wget") and like(path, "/admin/*")
          and in_cidr(ip, "10.0.0.0/8") and not in_cidr(ip, "fd00::/8")
          and regex_extract(email, "@([^.]+)\\\\.", 1) == "example"
          and hour_of_day(ts) < 6 and day_of_week(ts) <= 5
          and coalesce(country, "unknown") != "DE" and trim(s) == "x"
          and floor(amount) >= 100 and ceil(amount) < 1000
      """)
  }
}
