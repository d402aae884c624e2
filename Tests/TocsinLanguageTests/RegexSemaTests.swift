import TocsinLanguage
import XCTest

/// `matches` / `regex_extract`: patterns are string literals compiled at check time.
final class RegexSemaTests: XCTestCase {
  func testInvalidPattern_PointsIntoTheLiteral() {
    // PCRE2 reports the missing ')' at the end of the pattern: offset 4 of "bot(".
    _ = diagnosticTest(#"rule r begin a where matches(ua, "bot(1️⃣")"#, "sema.invalidRegex", hasHint: true)
  }

  func testPatternMustBeALiteral() {
    _ = diagnosticTest("rule r begin a where matches(ua, 1️⃣pat)", "sema.regexNotLiteral")
  }

  func testExtractGroupMustBeANonNegativeLiteral() {
    _ = diagnosticTest(#"rule r begin a where regex_extract(p, "(a)", 1️⃣n) == "a""#, "sema.regexGroupNotLiteral")
  }

  func testValidPatterns_LowerToCalls() {
    let result = FrontEnd.check([
      .init(path: "t.tcs", text: #"rule r begin a where matches(ua, "(?i)^curl/\\d+") and regex_extract(p, "^/u/([0-9]+)", 1) == "7""#)
    ])
    XCTAssertEqual(result.diagnostics.map(\.id.description), [])
    XCTAssertEqual(result.rules.count, 1)
  }
}
