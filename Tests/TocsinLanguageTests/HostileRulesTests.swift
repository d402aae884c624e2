import Foundation
import TocsinCore
import XCTest

@testable import TocsinLanguage

/// Rule text as untrusted input: each generated case once crashed the checker (stack overflow,
/// a `StateID` precondition) or ran for minutes; now it gets a diagnostic, quickly.
final class HostileRulesTests: XCTestCase {
  /// A one-step rule whose condition is `condition`.
  private func rule(_ condition: String, extra: String = "") -> String {
    "rule r\n  key user\n  begin a where \(condition)\(extra)\n  within 1m\n"
  }

  /// How much slower this build is allowed to be than a plain debug build: the bounds below
  /// catch hangs and quadratic blow-ups, not small slowdowns. `scripts/asan.sh` sets
  /// `TOCSIN_TIME_SCALE=4` (AddressSanitizer made the 100 000-value list take ~30 s).
  private let timeScale = ProcessInfo.processInfo.environment["TOCSIN_TIME_SCALE"].flatMap(Double.init) ?? 1

  /// One row: checking `text` reports `id` (or no error when `nil`) within `seconds` (scaled by
  /// ``timeScale``).
  private func hostileTest(
    _ text: String, _ id: String?, seconds: Double = 10, file: StaticString = #filePath, line: UInt = #line
  ) {
    let clock = ContinuousClock()
    let start = clock.now
    let result = FrontEnd.check([SourceFile(path: "hostile.tcs", text: text)])
    _ = DiagnosticRenderer(colored: false).render(result.diagnostics)
    let elapsed = clock.now - start
    let errors = result.diagnostics.filter { $0.severity == .error }.map(\.id.description)
    if let id {
      XCTAssertTrue(errors.contains(id), "expected \(id), got \(errors.prefix(5))", file: file, line: line)
    } else {
      XCTAssertEqual(errors, [], file: file, line: line)
    }
    XCTAssertLessThan(elapsed, .seconds(seconds * timeScale), "checking took \(elapsed)", file: file, line: line)
  }

  func testDeepNesting() {
    hostileTest(rule(String(repeating: "(", count: 10_000) + "x" + String(repeating: ")", count: 10_000) + " > 1"), "parse.nestingTooDeep")
    hostileTest(rule(String(repeating: "-", count: 10_000) + "x > 1"), "parse.nestingTooDeep")
    hostileTest(rule(String(repeating: "not ", count: 10_000) + "x > 1"), "parse.nestingTooDeep")
    hostileTest(rule(String(repeating: "abs(", count: 10_000) + "x" + String(repeating: ")", count: 10_000) + " > 1"), "parse.nestingTooDeep")
    // Operator chains build trees as deep as they are long.
    hostileTest(rule(Array(repeating: "x", count: 100_000).joined(separator: " + ") + " > 1"), "parse.nestingTooDeep")
    hostileTest(rule(Array(repeating: "x > 1", count: 50_000).joined(separator: " and ")), "parse.nestingTooDeep")
    hostileTest(rule(Array(repeating: "x", count: 250).joined(separator: " + ") + " > 1"), nil)
    hostileTest(rule(Array(repeating: "x", count: 300).joined(separator: " + ") + " > 1"), "parse.nestingTooDeep")
    // Groups of steps.
    let groups = "rule r\n key user\n begin a where x > 1\n" + String(repeating: " followed_by (begin", count: 5_000)
      + " b where x > 1" + String(repeating: ")", count: 5_000) + "\n within 1m\n"
    hostileTest(groups, "parse.nestingTooDeep")
  }

  func testSizeLimits() {
    // A 100 000-value list is fine: it lowers to a balanced `or`.
    hostileTest(rule("x in [" + (0..<100_000).map(String.init).joined(separator: ",") + "]"), nil, seconds: 30)
    hostileTest(rule("x > 1", extra: String(repeating: " where x > 1", count: 20_000)), "sema.tooManyConditions")
    hostileTest(rule("x > 1", extra: String(repeating: " or where x > 1", count: 300)), "sema.tooManyConditions")
    hostileTest(rule("x > 1", extra: String(repeating: " where x > 1", count: 255)), nil)
    let steps = "rule r\n key user\n begin a where x > 1\n"
      + (0..<20_000).map { " followed_by s\($0) where x > 1\n" }.joined() + " within 1m\n"
    hostileTest(steps, "sema.tooManySteps")
    let nested = "rule r\n key user\n begin (\n begin a where x > 1 times 100000\n ) times 100000\n within 1m\n"
    hostileTest(nested, "sema.patternTooLarge")
    let nested3 = "rule r\n key user\n begin ( begin ( begin a where x > 1 times 1000 ) times 1000 ) times 1000\n within 1m\n"
    hostileTest(nested3, "sema.patternTooLarge")
    hostileTest(rule("x > 1", extra: " times 100000"), nil)
    // 20 000 key fields, 20 000 distinct fields read once: the typo lint must not go quadratic.
    hostileTest("rule r\n key " + (0..<20_000).map { "k\($0)" }.joined(separator: ", ") + "\n begin a where x > 1\n within 1m\n", nil)
    hostileTest(rule("x > 1") + " emit {" + (0..<20_000).map { "f\($0): g\($0)" }.joined(separator: ", ") + "}\n", nil)
  }

  /// 50 000 errors on one 250 KB line: each snippet shows a window of the line, so the
  /// rendering is linear (it used to be 50 000 copies of the line: gigabytes).
  func testLongLines_RenderAWindow() {
    let text = String(repeating: "rule ", count: 50_000)
    let result = FrontEnd.check([SourceFile(path: "long.tcs", text: text)])
    XCTAssertEqual(result.errorCount, 50_000)
    let rendered = DiagnosticRenderer(colored: false).render(result.diagnostics)
    XCTAssertLessThan(rendered.utf8.count, 50_000 * 700)
    let longest = rendered.split(separator: "\n").map(\.count).max() ?? 0
    XCTAssertLessThanOrEqual(longest, DiagnosticRenderer.longLineBytes + 10)
    // A window in the middle of the line: cut on both sides, the caret under the error.
    let middle = DiagnosticRenderer(colored: false).render(result.diagnostics[25_000])
    let lines = middle.split(separator: "\n", omittingEmptySubsequences: false)
    XCTAssertTrue(lines[0].hasPrefix("long.tcs:1:125005: error: expected a rule name after 'rule'"), "\(lines[0])")
    XCTAssertTrue(lines[2].hasPrefix("1 | …"))
    XCTAssertTrue(lines[2].hasSuffix("…"))
    let caret = lines[3].firstIndex(of: "^").map { lines[3].distance(from: lines[3].startIndex, to: $0) }
    let column = caret.map { $0 - 4 }  // "  | " before the window
    let shown = Array(lines[2].dropFirst(4))
    XCTAssertEqual(column.map { String(shown[($0 - 5)..<$0]) }, " rule", "the caret right after a 'rule'")
  }

  func testHostileBytesAndLiterals() {
    hostileTest(rule("x > " + String(repeating: "9", count: 5_000)), "lex.numberTooLarge")
    hostileTest(rule("x > 1e999999"), "lex.unknownDurationUnit")
    hostileTest(rule(#"x == ""# + String(repeating: "a", count: 1_000_000) + #"""#), nil)
    hostileTest(rule(#"matches(x, "(((")"#), "sema.invalidRegex")
    hostileTest(rule(#"matches(x, "(a+)+$")"#), nil)
    hostileTest(rule("x\u{0} > 1"), "lex.unexpectedCharacter")
    hostileTest("\u{0}\u{0}\u{0}", "lex.unexpectedCharacter")
    hostileTest(rule("x == \"\u{FFFD}\u{FFFD}\""), nil)  // invalid UTF-8 as the loader's replacement
    hostileTest(rule(#"x == "\u{D800}""#), "lex.unknownEscape")
    hostileTest(String(repeating: "rule ", count: 50_000), "parse.expectedToken")
    hostileTest(String(repeating: "\"", count: 10_001), "lex.unterminatedString")
  }
}
