import TocsinCore
import XCTest

@testable import TocsinLanguage

/// The `to SINK, …` clause: parsing (a contextual word, not a keyword), lowering, and the sink
/// name checks made when a sink configuration is given.
final class SinkClauseTests: XCTestCase {
  private let base = "rule r severity high begin a where x > 1"

  func testTo_LowersIntoRuleSpecInWrittenOrder() {
    let rules = assertClean("\(base) to pager, audit")
    XCTAssertEqual(rules.first?.sinks, ["pager", "audit"])
    XCTAssertEqual(assertClean(base).first?.sinks, [])
  }

  func testTo_AnywhereAClauseMayStart() {
    XCTAssertEqual(assertClean("rule r to pager begin a where x > 1 within 5m").first?.sinks, ["pager"])
    XCTAssertEqual(assertClean("rule r key user to pager begin a where x > 1").first?.sinks, ["pager"])
    XCTAssertEqual(assertClean("rule r begin a where x > 1 emit { n: 1 } to audit").first?.sinks, ["audit"])
  }

  /// `to` is not reserved: fields and emitted names called `to` keep working.
  func testTo_IsStillAFieldAndEmitName() {
    let rules = assertClean("rule r begin a where to == \"x\" emit { from: a.from, to: a.to } to pager")
    XCTAssertEqual(rules.first?.emit.map(\.name), ["from", "to"])
    XCTAssertEqual(rules.first?.sinks, ["pager"])
  }

  func testTo_Errors() {
    diagnosticTest("\(base) to1️⃣", "parse.expectedToken")
    diagnosticTest("\(base) to pager,1️⃣ within 5m", "parse.expectedToken")
    diagnosticTest("\(base) 2️⃣to pager 1️⃣to audit", "sema.duplicateClause", notes: ["2️⃣"])
    diagnosticTest("\(base) to pager, 1️⃣pager", "sema.duplicateSink", severity: .warning)
  }

  func testUnknownSink_OnlyWithASinkConfiguration() {
    let sinks = ["pager", "audit", "console"]
    diagnosticTest("\(base) to 1️⃣pagr", "sema.unknownSink", hasHint: true, sinkNames: sinks)
    diagnosticTest("\(base) to audit, 1️⃣nowhere", "sema.unknownSink", hasHint: true, sinkNames: sinks)
    assertDiagnostics("\(base) to pager, audit", [], sinkNames: sinks)
    assertClean("\(base) to pagr")  // no configuration: checked by `tocsin run --sinks`
  }

  func testUnknownSink_HintSuggestsTheClosestName() {
    let result = FrontEnd.check([SourceFile(path: "t.tcs", text: "\(base) to pagr")], sinkNames: ["audit", "pager"])
    XCTAssertEqual(result.diagnostics.first?.hint, "did you mean 'pager'?")
    let far = FrontEnd.check([SourceFile(path: "t.tcs", text: "\(base) to xyz")], sinkNames: ["audit", "pager"])
    XCTAssertEqual(far.diagnostics.first?.hint, "defined sinks: audit, pager")
  }
}
