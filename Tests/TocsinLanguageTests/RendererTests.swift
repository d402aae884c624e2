import TocsinCore
import XCTest

@testable import TocsinLanguage

final class RendererTests: XCTestCase {
  private func render(_ path: String, _ text: String, colored: Bool = false) -> String {
    let result = FrontEnd.check([SourceFile(path: path, text: text)])
    return DiagnosticRenderer(colored: colored).render(result.diagnostics)
  }

  /// Eleven filler lines so the interesting one is line 12.
  private let filler = String(repeating: "# filler\n", count: 10)

  func testUnknownFunctionPlain() {
    let text = filler + "rule geo begin first\n  where distanse_km(first.lat, first.lon, lat, lon) > 500\n"
    XCTAssertEqual(
      render("rules/geo.tcs", text),
      """
      rules/geo.tcs:12:9: error: unknown function 'distanse_km'
         |
      12 |   where distanse_km(first.lat, first.lon, lat, lon) > 500
         |         ^~~~~~~~~~~
         = hint: did you mean 'distance_km'?

      """)
  }

  func testUnknownFunctionColored() {
    let text = filler + "rule geo begin first\n  where distanse_km(first.lat, first.lon, lat, lon) > 500\n"
    let esc = "\u{1B}"
    XCTAssertEqual(
      render("rules/geo.tcs", text, colored: true),
      "\(esc)[1mrules/geo.tcs:12:9:\(esc)[0m \(esc)[1;31merror:\(esc)[0m \(esc)[1munknown function 'distanse_km'\(esc)[0m\n"
        + "\(esc)[1;34m   |\(esc)[0m\n"
        + "\(esc)[1;34m12 |\(esc)[0m   where distanse_km(first.lat, first.lon, lat, lon) > 500\n"
        + "\(esc)[1;34m   |\(esc)[0m         \(esc)[1;31m^~~~~~~~~~~\(esc)[0m\n"
        + "\(esc)[1;34m   =\(esc)[0m \(esc)[1mhint:\(esc)[0m did you mean 'distance_km'?\n")
  }

  func testNoteWithWiderGutter() {
    let text = "rule r\n  begin a\n" + String(repeating: "\n", count: 8) + "  next a\n"
    XCTAssertEqual(
      render("r.tcs", text),
      """
      r.tcs:11:8: error: duplicate step name 'a'
         |
      11 |   next a
         |        ^
      r.tcs:2:9: note: 'a' is first declared here
         |
       2 |   begin a
         |         ^

      """)
  }

  func testWarningColoredUsesYellow() {
    let esc = "\u{1B}"
    let out = render("w.tcs", "rule r begin a where x == null", colored: true)
    XCTAssertEqual(
      out,
      "\(esc)[1mw.tcs:1:22:\(esc)[0m \(esc)[1;33mwarning:\(esc)[0m \(esc)[1mcomparison with null is always false; use exists(f) or not exists(f)\(esc)[0m\n"
        + "\(esc)[1;34m  |\(esc)[0m\n"
        + "\(esc)[1;34m1 |\(esc)[0m rule r begin a where x == null\n"
        + "\(esc)[1;34m  |\(esc)[0m                      \(esc)[1;33m^~~~~~~~~\(esc)[0m\n")
  }

  func testEmptyRangeAtEndOfLineAndMultiLineSpan() {
    XCTAssertEqual(
      render("e.tcs", "rule r begin a within\n"),
      """
      e.tcs:1:22: error: expected a duration after 'within'
        |
      1 | rule r begin a within
        |                      ^
        = hint: write e.g. '10m', '90s' or '1h30m'

      """)
    // A range running past its line is underlined to the end of the first line.
    XCTAssertEqual(
      render("m.tcs", "rule r begin a where (x +\n 1)"),
      """
      m.tcs:1:22: error: condition has type 'number'; expected bool
        |
      1 | rule r begin a where (x +
        |                      ^~~~

      """)
  }

  func testColumnsCountCharactersAndKeepTabs() {
    XCTAssertEqual(
      render("u.tcs", "rule r begin a where\tcity == \"Zürich\" and nope(1)"),
      """
      u.tcs:1:43: error: unknown function 'nope'
        |
      1 | rule r begin a where\tcity == "Zürich" and nope(1)
        |                     \t                     ^~~~

      """)
  }

  func testSeveralDiagnosticsConcatenate() {
    XCTAssertEqual(
      render("s.tcs", "rule r begin a where nope(1) and nada(2)"),
      """
      s.tcs:1:22: error: unknown function 'nope'
        |
      1 | rule r begin a where nope(1) and nada(2)
        |                      ^~~~
      s.tcs:1:34: error: unknown function 'nada'
        |
      1 | rule r begin a where nope(1) and nada(2)
        |                                  ^~~~

      """)
  }

  func testAbsenceWithoutWithin() {
    XCTAssertEqual(
      render("rules/absence.tcs", "rule no_ack\n  begin alarm where type == \"alarm\"\n  not_followed_by ack where type == \"ack\"\n"),
      """
      rules/absence.tcs:3:3: error: 'not_followed_by' as the last step needs 'within': without a deadline the absence never becomes certain
        |
      3 |   not_followed_by ack where type == "ack"
        |   ^~~~~~~~~~~~~~~
        = hint: add e.g. 'within 10m'

      """)
  }

  func testOptionalBeforeNegationWithNote() {
    XCTAssertEqual(
      render("o.tcs", "rule r begin a next b optional not_next c followed_by d"),
      """
      o.tcs:1:32: error: an optional step cannot be directly followed by 'not_next': an optional path to a negation is not supported
        |
      1 | rule r begin a next b optional not_next c followed_by d
        |                                ^~~~~~~~
        = hint: write two rules, one with and one without the optional step
      o.tcs:1:23: note: the step before is optional here
        |
      1 | rule r begin a next b optional not_next c followed_by d
        |                       ^~~~~~~~

      """)
  }

  func testDiagnosticDescription() {
    let result = FrontEnd.check([SourceFile(path: "d.tcs", text: "rule r begin a where nope(1)")])
    XCTAssertEqual(result.diagnostics.first?.description, "d.tcs:1:22: error: unknown function 'nope'")
    XCTAssertEqual(result.diagnostics.first?.id, DiagnosticID(domain: "sema", name: "unknownFunction"))
  }
}
