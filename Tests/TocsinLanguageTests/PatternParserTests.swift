import TocsinCore
import XCTest

@testable import TocsinLanguage

/// Parser tables for the pattern algebra: step kinds, modifiers, groups, skip targets,
/// `within … between steps` and `on timeout emit`.
final class PatternParserTests: XCTestCase {
  /// Parses `rule r begin a TEXT` and compares the last clause's compact spelling.
  private func clauseTest(
    _ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let (syntax, diagnostics) = Parser.parse(SourceFile(path: "t.tcs", text: "rule r begin a \(text)"))
    XCTAssertEqual(diagnostics.map(\.message), [], file: file, line: line)
    guard let clause = syntax.rules.first?.clauses.last else { return XCTFail("no clause", file: file, line: line) }
    XCTAssertEqual(describe(clause), expected, file: file, line: line)
  }

  private func describe(_ clause: ClauseSyntax) -> String {
    switch clause.kind {
    case .step(let s): return describe(s)
    case .within(let d): return "within \(d.value)"
    case .withinBetweenSteps(let d): return "within \(d.value) between steps"
    case .skip(let s, let step): return "skip \(s.value.rawValue)" + (step.map { " \($0.value)" } ?? "")
    case .onTimeout(let fields): return "on timeout emit \(fields.map(\.name.value).joined(separator: ","))"
    case .emit(let fields): return "emit \(fields.map(\.name.value).joined(separator: ","))"
    default: return "other"
    }
  }

  private func describe(_ s: StepSyntax) -> String {
    let mods = s.modifiers.map { m -> String in
      switch m.kind {
      case .where: return "where"
      case .orWhere: return "or_where"
      case .until: return "until"
      case .times(let n, let more): return "times \(n.value)\(more ? "+" : "")"
      case .timesRange(let a, let b): return "times \(a.value)..\(b.value)"
      case .oneOrMore: return "one_or_more"
      case .optional: return "optional"
      case .greedy: return "greedy"
      case .consecutive: return "consecutive"
      case .allowCombinations: return "allow_combinations"
      }
    }
    let body = s.group.map { "(\($0.steps.map(describe).joined(separator: "; ")))" } ?? (s.name?.value ?? "?")
    return ([s.kind.value.rawValue, body] + mods).joined(separator: " ")
  }

  func testStepKinds() {
    clauseTest("followed_by_any b", "followed_by_any b")
    clauseTest("not_next b", "not_next b")
    clauseTest("not_followed_by b where x", "not_followed_by b where")
    clauseTest("next b", "next b")
  }

  func testModifiers() {
    clauseTest("next b where x or where y", "next b where or_where")
    clauseTest("next b where x > 1 where y or where z == 2", "next b where where or_where")
    clauseTest("next b where x or y or where z", "next b where or_where")
    clauseTest("next b times 2..5", "next b times 2..5")
    clauseTest("next b times 3+ greedy consecutive", "next b times 3+ greedy consecutive")
    clauseTest(
      "next b one_or_more optional allow_combinations until x > 3",
      "next b one_or_more optional allow_combinations until")
    clauseTest("next b optional where x times 2", "next b optional where times 2")
    clauseTest("next b until x where y", "next b until where")
  }

  func testGroups() {
    clauseTest(
      "followed_by (begin x where a > 1 next y where b) times 2 consecutive",
      "followed_by (begin x where; next y where) times 2 consecutive")
    clauseTest(
      "next (begin x followed_by (begin y next z) one_or_more) optional",
      "next (begin x; followed_by (begin y; next z) one_or_more) optional")
    clauseTest("followed_by_any (begin x) times 2..3", "followed_by_any (begin x) times 2..3")
    let (syntax, diagnostics) = Parser.parse(
      SourceFile(path: "t.tcs", text: "rule r begin ( begin a next b ) times 2 followed_by c"))
    XCTAssertEqual(diagnostics.map(\.message), [])
    XCTAssertEqual(syntax.rules.first?.clauses.map(describe), ["begin (begin a; next b) times 2", "followed_by c"])
  }

  func testClauses() {
    clauseTest("within 5m between steps", "within 5m between steps")
    clauseTest("within 5m", "within 5m")
    clauseTest("no_skip", "skip no_skip")
    clauseTest("skip to_next", "skip to_next")
    clauseTest("skip past_last_event", "skip past_last_event")
    clauseTest("skip to_first a", "skip to_first a")
    clauseTest("skip to_last a", "skip to_last a")
    clauseTest("on timeout emit { x: 1, y: key }", "on timeout emit x,y")
  }

  func testGroupRanges() {
    let text = "rule r begin a followed_by (begin b next c) times 2 within 5m"
    let (syntax, _) = Parser.parse(SourceFile(path: "t.tcs", text: text))
    guard case .step(let step)? = syntax.rules.first?.clauses[1].kind, let group = step.group else {
      return XCTFail("no group")
    }
    XCTAssertEqual(syntax.file.text(of: step.range), "followed_by (begin b next c) times 2")
    XCTAssertEqual(syntax.file.text(of: group.open), "(")
    XCTAssertEqual(group.steps.map { syntax.file.text(of: $0.range) }, ["begin b", "next c"])
    XCTAssertEqual(syntax.file.text(of: step.modifiers[0].range), "times 2")
  }

  func testErrors() {
    diagnosticTest("rule r begin a next b times 2..1️⃣ within 5m", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a next b 1️⃣or x", "parse.expectedClause")
    diagnosticTest("rule r begin a within 5m between1️⃣ emit { x: 1 }", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a skip to_first1️⃣ within 5m", "parse.expectedToken")
    diagnosticTest("rule r begin a skip 1️⃣to_frist a", "parse.unknownSkipStrategy", hasHint: true)
    diagnosticTest("rule r begin a on1️⃣ emit { x: 1 }", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a on timeout1️⃣ { x: 1 }", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a next (1️⃣)", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a next 2️⃣(begin b 1️⃣within 5m", "parse.missingClosing", notes: ["2️⃣"])
    diagnosticTest("rule r begin a next (begin b) 1️⃣)", "parse.expectedClause", hasHint: true)
    diagnosticTest("rule r begin a next1️⃣ 42", "parse.expectedToken", hasHint: true)
    // An error inside a group is reported once; the rest of the rule is still parsed.
    let result = diagnosticTest(
      "rule r begin a next (begin b where x > 1️⃣) times 2 within 5m\nrule s begin a", "parse.expectedExpression")
    XCTAssertEqual(result.rules.map(\.name), ["s"])
  }

  func testOrWhereIsNotAnOperator() {
    let (syntax, diagnostics) = Parser.parse(SourceFile(path: "t.tcs", text: "rule r begin a where x or y or where z"))
    XCTAssertEqual(diagnostics.count, 0)
    guard case .step(let step)? = syntax.rules.first?.clauses.first?.kind else { return XCTFail() }
    XCTAssertEqual(step.modifiers.map { syntax.file.text(of: $0.range) }, ["where x or y", "or where z"])
  }

  func testGarbageNeverHangs() {
    let inputs = [
      "rule r begin ((((", "rule r begin ( ) ) )", "rule r next (begin a next (begin b",
      "rule r begin a times 1..", "rule r on timeout", "rule r begin a or or where",
      "rule r begin (begin a where (", "rule r begin a skip to_last", "rule r begin ( begin ( begin",
      "rule r begin a within 1m between", ")))) rule r begin a", "rule r begin a next ( within 5m )",
    ]
    for input in inputs {
      _ = Parser.parse(SourceFile(path: "t.tcs", text: input))
      _ = FrontEnd.check([SourceFile(path: "t.tcs", text: input)])
    }
    let deep = "rule r begin " + String(repeating: "(begin ", count: 300) + "a" + String(repeating: ")", count: 300)
    XCTAssertEqual(
      Parser.parse(SourceFile(path: "t.tcs", text: deep)).diagnostics.map(\.id.description), ["parse.nestingTooDeep"])
  }
}
