import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// The location markers usable in test sources, in order.
let locationMarkers = ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣", "6️⃣", "7️⃣", "8️⃣", "9️⃣"]

/// Source text with `1️⃣`-style markers removed, and the byte offset each marker stood at.
struct MarkedSource {
  var text: String
  var offsets: [String: Int] = [:]

  init(_ marked: String) {
    var text = ""
    var rest = Substring(marked)
    outer: while !rest.isEmpty {
      for marker in locationMarkers where rest.hasPrefix(marker) {
        offsets[marker] = text.utf8.count
        rest = rest.dropFirst(marker.count)
        continue outer
      }
      text.append(rest.removeFirst())
    }
    self.text = text
  }
}

/// An expected diagnostic: where (a marker), which ID, and optionally its severity and notes.
struct DiagnosticSpec {
  var marker: String
  var id: String
  var severity: DiagnosticSeverity?
  /// Markers where the notes point, in order (checked when not `nil`).
  var noteMarkers: [String]?
  /// Whether a hint must be present (checked when not `nil`).
  var hasHint: Bool?

  init(
    _ marker: String, _ id: String, severity: DiagnosticSeverity? = nil, notes: [String]? = nil,
    hasHint: Bool? = nil
  ) {
    self.marker = marker
    self.id = id
    self.severity = severity
    self.noteMarkers = notes
    self.hasHint = hasHint
  }
}

/// Checks `source` (with markers) and asserts exactly the expected diagnostics, in order.
@discardableResult
func assertDiagnostics(
  _ marked: String, _ expected: [DiagnosticSpec], sinkNames: [String]? = nil,
  file: StaticString = #filePath, line: UInt = #line
) -> CheckedRuleSet {
  let source = MarkedSource(marked)
  let sourceFile = SourceFile(path: "test.tcs", text: source.text)
  let result = FrontEnd.check([sourceFile], sinkNames: sinkNames)
  let actual = result.diagnostics
  let rendered = DiagnosticRenderer(colored: false).render(actual)
  guard actual.count == expected.count else {
    XCTFail(
      "expected \(expected.count) diagnostic(s) \(expected.map(\.id)), got \(actual.count):\n\(rendered)",
      file: file, line: line)
    return result
  }
  for (got, want) in zip(actual, expected) {
    XCTAssertEqual(got.id.description, want.id, "\n\(rendered)", file: file, line: line)
    if let offset = source.offsets[want.marker] {
      XCTAssertEqual(
        got.range.start, offset, "\(want.id) at wrong offset\n\(rendered)", file: file, line: line)
    } else {
      XCTFail("marker \(want.marker) not in source", file: file, line: line)
    }
    if let severity = want.severity {
      XCTAssertEqual(got.severity, severity, "\(want.id) severity", file: file, line: line)
    }
    if let notes = want.noteMarkers {
      XCTAssertEqual(
        got.notes.map(\.range.start), notes.compactMap { source.offsets[$0] }, "\(want.id) notes",
        file: file, line: line)
    }
    if let hasHint = want.hasHint {
      XCTAssertEqual(got.hint != nil, hasHint, "\(want.id) hint: \(got.hint ?? "nil")", file: file, line: line)
    }
  }
  return result
}

/// Shorthand: one expected diagnostic.
@discardableResult
func diagnosticTest(
  _ marked: String, _ id: String, severity: DiagnosticSeverity? = nil, notes: [String]? = nil,
  hasHint: Bool? = nil, sinkNames: [String]? = nil, file: StaticString = #filePath, line: UInt = #line
) -> CheckedRuleSet {
  let marker = MarkedSource(marked).offsets.keys.sorted().first ?? "1️⃣"
  return assertDiagnostics(
    marked, [DiagnosticSpec(marker, id, severity: severity, notes: notes, hasHint: hasHint)],
    sinkNames: sinkNames, file: file, line: line)
}

/// Asserts `source` checks without any diagnostic and returns its rules.
@discardableResult
///
/// With `allowingUnusedSteps`, `sema.unusedStep` warnings are ignored: pattern-shape tests use
/// skeletal steps without conditions on purpose (the lint has its own tests).
func assertClean(
  _ source: String, allowingUnusedSteps: Bool = false, file: StaticString = #filePath, line: UInt = #line
) -> [RuleSpec] {
  let result = FrontEnd.check([SourceFile(path: "test.tcs", text: source)])
  let diagnostics = result.diagnostics.filter { !(allowingUnusedSteps && $0.id.description == "sema.unusedStep") }
  XCTAssertEqual(
    diagnostics.count, 0, DiagnosticRenderer(colored: false).render(diagnostics),
    file: file, line: line)
  return result.rules
}
