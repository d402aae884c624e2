import TocsinApp
import TocsinTestSupport
import XCTest

/// The Flink CEP conformance suite (`fixtures/conformance/*.cases`): every active case must
/// pass; `status pending` cases are counted but not required to.
final class ConformanceTests: XCTestCase {
  func testConformanceSuite_EveryActiveCasePasses() throws {
    let results = ConformanceSuite.run(root: Repository.path("fixtures/conformance"), filter: nil) { _ in }
    XCTAssertGreaterThanOrEqual(results.count, 150)
    var pending = 0
    for result in results {
      switch result.outcome {
      case .passed: break
      case .pending: pending += 1
      default: XCTFail("conformance case \(result.name): \(result.outcome)")
      }
    }
    XCTAssertLessThan(pending, results.count, "every case is pending")
  }

  func testConformanceParse_ReportsLineNumbers() {
    let text = "case a\ncite derived: x\npattern\n  begin a\ninput a\nbogus\n"
    XCTAssertThrowsError(try ConformanceSuite.parse(text, path: "t.cases")) { error in
      XCTAssertEqual((error as? ConformanceSuite.ParseError)?.line, 6)
    }
  }

  func testConformanceParse_Tokens() throws {
    let text = "case t\ncite derived: x\npattern\n  begin a\ninput a1 b2@1500 x1{v:5,name:\"q\"}\nexpect\n  a:a1\n"
    let cases = try ConformanceSuite.parse(text, path: "t.cases")
    XCTAssertEqual(cases.count, 1)
    XCTAssertEqual(
      ConformanceSuite.eventsText(cases[0]),
      """
      {"id":"a1","ts":1000,"type":"a"}
      {"id":"b2","ts":1500,"type":"b"}
      {"id":"x1","ts":3000,"type":"x","v":5,"name":"q"}

      """)
  }
}
