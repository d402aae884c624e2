import Foundation
import TocsinCore
import TocsinLanguage
import XCTest

/// Twenty realistic mistakes in one file (`Resources/twenty-mistakes.tcs`, one per numbered
/// comment) produce exactly the diagnostics in `twenty-mistakes.expected`, byte for byte.
///
/// The expected file was produced by `tocsin check --color never` and reviewed mistake by
/// mistake; to change it deliberately, regenerate it the same way (without the summary line)
/// and review the diff.
final class TwentyMistakesTests: XCTestCase {
  private let resources = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Resources")

  func testEveryMistakeIsReportedExactly() throws {
    let source = try String(contentsOf: resources.appendingPathComponent("twenty-mistakes.tcs"), encoding: .utf8)
    let expected = try String(
      contentsOf: resources.appendingPathComponent("twenty-mistakes.expected"), encoding: .utf8)
    let result = FrontEnd.check([SourceFile(path: "twenty-mistakes.tcs", text: source)])
    let rendered = DiagnosticRenderer(colored: false).render(result.diagnostics)
    XCTAssertEqual(rendered, expected)
    XCTAssertEqual(result.errorCount, 17)
    XCTAssertEqual(result.warningCount, 3)
    // Each of the twenty numbered mistakes has a diagnostic on its line.
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
    let mistakeLines = lines.enumerated().filter { $0.element.contains("# ") && $0.element.contains(": ") }
      .map { $0.offset + 1 }
    let reported = Set(result.diagnostics.filter { $0.severity != .note }.map { $0.location.line })
    for line in mistakeLines where !lines[line - 1].trimmingCharacters(in: .whitespaces).hasPrefix("#") {
      XCTAssertTrue(reported.contains(line), "no diagnostic on line \(line): \(lines[line - 1])")
    }
  }
}
