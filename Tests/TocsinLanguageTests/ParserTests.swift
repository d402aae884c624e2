import TocsinCore
import XCTest

@testable import TocsinLanguage

final class ParserTests: XCTestCase {
  private func parse(_ text: String) -> (RuleFileSyntax, [Diagnostic]) {
    let (syntax, diagnostics) = Parser.parse(SourceFile(path: "t.tcs", text: text))
    return (syntax, diagnostics)
  }

  /// Parses `rule r begin a where EXPR` and compares the condition's fully parenthesised shape.
  private func exprTest(
    _ expr: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    let (syntax, diagnostics) = parse("rule r begin a where \(expr)")
    XCTAssertEqual(diagnostics.map(\.message), [], file: file, line: line)
    guard case .step(let step)? = syntax.rules.first?.clauses.first?.kind,
      case .where(let condition)? = step.modifiers.first?.kind
    else { return XCTFail("no condition", file: file, line: line) }
    XCTAssertEqual(shape(condition), expected, file: file, line: line)
  }

  private func shape(_ e: ExprSyntax) -> String {
    switch e.kind {
    case .integer(let n): return "\(n)"
    case .float(let x): return "\(x)"
    case .string(let s): return "\"\(s)\""
    case .bool(let b): return "\(b)"
    case .null: return "null"
    case .key: return "key"
    case .path(let p): return p.dotted
    case .call(let name, let args): return "\(name.value)(\(args.map(shape).joined(separator: ", ")))"
    case .prefix(let op, let x): return "(\(op.value.rawValue) \(shape(x)))"
    case .infix(let op, let l, let r): return "(\(shape(l)) \(op.value.rawValue) \(shape(r)))"
    case .parenthesized(let x): return shape(x)
    case .inList(let x, _, let elements): return "(\(shape(x)) in [\(elements.map(shape).joined(separator: ", "))])"
    case .duration(let d): return d.description
    case .inValue(let x, _, let list): return "(\(shape(x)) in \(shape(list)))"
    }
  }

  func testInList() {
    exprTest("a in [1, 2]", "(a in [1, 2])")
    exprTest("a in []", "(a in [])")
    exprTest("a + 1 in [2] and b", "(((a + 1) in [2]) and b)")
    exprTest("not a in [\"x\"]", "(not (a in [\"x\"]))")
    exprTest("a in [-1, \"x\", true]", "(a in [(- 1), \"x\", true])")
  }

  // MARK: - Expressions

  func testExpressionPrecedence() {
    exprTest("a + b * c", "(a + (b * c))")
    exprTest("a - b - c", "((a - b) - c)")
    exprTest("a / b * c", "((a / b) * c)")
    exprTest("a or b and c", "(a or (b and c))")
    exprTest("not a == b", "(not (a == b))")
    exprTest("not a and b", "((not a) and b)")
    exprTest("a and not not b", "(a and (not (not b)))")
    exprTest("- - a * b", "((- (- a)) * b)")
    exprTest("(a + b) * c", "((a + b) * c)")
    exprTest("a.b.c >= 1.5", "(a.b.c >= 1.5)")
    exprTest("geo.key == key", "(geo.key == key)")
    exprTest("f() or g(1, \"x\", h(y))", "(f() or g(1, \"x\", h(y)))")
    exprTest("x != null and true", "((x != null) and true)")
  }

  func testExpressionErrors() {
    diagnosticTest("rule r begin a where 1️⃣", "parse.expectedExpression")
    diagnosticTest("rule r begin a where x > 1️⃣within 5m", "parse.expectedExpression")
    diagnosticTest("rule r begin a where 1 < 2 1️⃣< 3", "parse.chainedComparison")
    diagnosticTest("rule r begin a where 1 == 1️⃣not x", "parse.expectedExpression", hasHint: true)
    diagnosticTest("rule r begin a where 2️⃣(x > 1 1️⃣within 5m", "parse.missingClosing", notes: ["2️⃣"])
    diagnosticTest("rule r begin a where f2️⃣(x, 1️⃣", "parse.expectedExpression")
    diagnosticTest("rule r begin a where f2️⃣(x 1️⃣y)", "parse.missingClosing", notes: ["2️⃣"])
    diagnosticTest("rule r begin a where x.1️⃣ > 1", "parse.expectedToken")
  }

  func testNestingLimit() {
    let deep = String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300)
    let (_, diagnostics) = parse("rule r begin a where \(deep) within 5m")
    XCTAssertEqual(diagnostics.map(\.id.description), ["parse.nestingTooDeep"])
    let ok = String(repeating: "(", count: 200) + "1" + String(repeating: ")", count: 200)
    XCTAssertEqual(parse("rule r begin a where \(ok) == 1").1.count, 0)
    let negations = String(repeating: "- ", count: 1000) + "1"
    XCTAssertEqual(parse("rule r begin a where \(negations) < 0").1.map(\.id.description), ["parse.nestingTooDeep"])
  }

  /// A compact spelling of a clause, for table tests.
  private func describe(_ clause: ClauseSyntax) -> String {
    switch clause.kind {
    case .severity(let l): return "severity \(l.value)"
    case .description(let d): return "description \(d.value)"
    case .key(let paths): return "key \(paths.map(\.dotted).joined(separator: ","))"
    case .step(let s): return describe(s)
    case .within(let d): return "within \(d.value)"
    case .withinBetweenSteps(let d): return "within \(d.value) between steps"
    case .skip(let s, let step): return "skip \(s.value.rawValue)" + (step.map { " \($0.value)" } ?? "")
    case .emit(let fields): return "emit \(fields.map(\.name.value).joined(separator: ","))"
    case .onTimeout(let fields): return "on timeout emit \(fields.map(\.name.value).joined(separator: ","))"
    case .to(let sinks): return "to \(sinks.map(\.value).joined(separator: ","))"
    case .suppress(let d, let key): return "suppress \(d.value)" + (key == nil ? "" : " by …")
    }
  }

  /// `intro name mods` or `intro (inner; inner) mods`.
  private func describe(_ s: StepSyntax) -> String {
    let mods = s.modifiers.map { m -> String in
      switch m.kind {
      case .where: return "where"
      case .orWhere: return "or where"
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
    return "\(s.kind.value.rawValue) \(body) \(mods.joined(separator: " "))"
  }

  // MARK: - Clauses

  func testClauseShapes() {
    let (syntax, diagnostics) = parse(
      """
      rule r
        severity high
        description "d"
        key user, geo.country
        begin a where x > 1 where y times 3+
        next b
        followed_by c times 2
        within 1h30m
        skip past_last_event
        no_skip
        emit { a: 1, b: key, }
        suppress 1h by merchant
      rule s begin x suppress 30s
      """)
    XCTAssertEqual(diagnostics.map(\.message), [])
    XCTAssertEqual(syntax.rules.map { $0.name?.value }, ["r", "s"])
    let kinds = syntax.rules[0].clauses.map(describe)
    XCTAssertEqual(kinds, [
      "severity high", "description d", "key user,geo.country", "begin a where where times 3+",
      "next b ", "followed_by c times 2", "within 90m", "skip past_last_event", "skip no_skip",
      "emit a,b", "suppress 1h by …",
    ])
    XCTAssertEqual(syntax.rules[1].clauses.map(describe), ["begin x ", "suppress 30s"])
    let file = syntax.file
    XCTAssertEqual(file.text(of: syntax.rules[0].range).hasSuffix("suppress 1h by merchant"), true)
    XCTAssertEqual(file.text(of: syntax.rules[1].range), "rule s begin x suppress 30s")
  }

  func testClauseErrors() {
    diagnosticTest("rule1️⃣ ", "parse.expectedToken")
    diagnosticTest("rule1️⃣ 42 begin a", "parse.expectedToken")
    diagnosticTest("1️⃣begin a rule r begin b", "parse.expectedRule")
    diagnosticTest("rule r 1️⃣severty high begin a", "parse.unknownClause", hasHint: true)
    diagnosticTest("rule r 1️⃣foo begin a", "parse.unknownClause", hasHint: false)
    diagnosticTest("rule r begin a within 5m 1️⃣where x", "parse.expectedClause", hasHint: true)
    diagnosticTest("rule r begin a 1️⃣42", "parse.expectedClause")
    diagnosticTest("rule r severity1️⃣ begin a", "parse.expectedToken")
    diagnosticTest("rule r description1️⃣ high begin a", "parse.expectedToken")
    diagnosticTest("rule r key1️⃣ begin a", "parse.expectedToken")
    diagnosticTest("rule r key a,1️⃣ begin a", "parse.expectedToken")
    diagnosticTest("rule r begin1️⃣ where x", "parse.expectedToken")
    diagnosticTest("rule r begin a times1️⃣ within 5m", "parse.expectedToken")
    diagnosticTest("rule r begin a within1️⃣ 10", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a within 101️⃣q", "lex.unknownDurationUnit")
    diagnosticTest("rule r begin a skip1️⃣ 3", "parse.expectedToken")
    diagnosticTest("rule r begin a skip 1️⃣past_last_evnt", "parse.unknownSkipStrategy", hasHint: true)
    diagnosticTest("rule r begin a emit1️⃣ x", "parse.expectedToken")
    diagnosticTest("rule r begin a suppress1️⃣ 10", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a suppress1️⃣ by x", "parse.expectedToken", hasHint: true)
    diagnosticTest("rule r begin a suppress 1h by 1️⃣within 5m", "parse.expectedExpression")
    diagnosticTest("rule r begin a emit { a1️⃣ 1 }", "parse.expectedToken")
    diagnosticTest("rule r begin a emit { a: 11️⃣ b: 2 }", "parse.expectedToken")
    diagnosticTest("rule r begin a emit 2️⃣{ a: 1,1️⃣ within 5m", "parse.missingClosing", notes: ["2️⃣"])
    diagnosticTest("rule r begin a emit { a: 1️⃣}", "parse.expectedExpression")
    diagnosticTest("rule r begin a where 1️⃣\"abc\nwithin 5m", "lex.unterminatedString")
    diagnosticTest("rule r description 1️⃣\"abc\nbegin a", "lex.unterminatedString")
  }

  func testEmitAcceptsKeywordNames() {
    let (syntax, diagnostics) = parse("rule r begin a emit { key: key, severity: 1 }")
    XCTAssertEqual(diagnostics.map(\.message), [])
    guard case .emit(let fields)? = syntax.rules.first?.clauses.last?.kind else { return XCTFail() }
    XCTAssertEqual(fields.map(\.name.value), ["key", "severity"])
  }

  // MARK: - Recovery

  func testRecoveryReportsEveryMistakeOnce() {
    let text = """
      rule r
        severty high
        begin a where x > > 1
        within 10
        followed_by b where y == 1
      """
    let (syntax, diagnostics) = parse(text)
    XCTAssertEqual(diagnostics.map(\.id.description), [
      "parse.unknownClause", "parse.expectedExpression", "parse.expectedToken",
    ])
    XCTAssertEqual(diagnostics.map { "\($0.location)" }, ["2:3", "3:21", "4:9"])
    // The clauses after the mistakes are still parsed.
    XCTAssertEqual(syntax.rules.first?.clauses.count, 2)
    XCTAssertEqual(syntax.rules.first?.hasSyntaxErrors, true)
  }

  func testRecoveryAcrossRules() {
    let (syntax, diagnostics) = parse(
      """
      rule a begin x where (
      rule b begin y
      rule c begin z where q @ 1
      """)
    XCTAssertEqual(syntax.rules.map { $0.name?.value }, ["a", "b", "c"])
    XCTAssertEqual(syntax.rules.map(\.hasSyntaxErrors), [true, false, true])
    XCTAssertEqual(diagnostics.map(\.id.description), ["parse.expectedExpression", "lex.unexpectedCharacter"])
    XCTAssertEqual(diagnostics.map { "\($0.location)" }, ["2:1", "3:24"])
  }

  func testGarbageNeverHangs() {
    let inputs = [
      "", "rule", "rule rule rule", "((((", "rule r emit {{{{", "rule r begin a where ,,,,)))",
      "rule r key . . .", "rule r begin a times + + +", "}}}} rule r", "rule r emit { : : , , }",
      "rule r begin a where f(,)", "rule r begin a where not", "rule r emit { a: ( }",
    ]
    for input in inputs {
      _ = parse(input)
      _ = FrontEnd.check([SourceFile(path: "t.tcs", text: input)])
    }
  }
  // MARK: - Ranges

  func testNodeRanges() {
    let text = "rule r # c\n  begin first where (a.b + 1) * f(x) > 2 times 3+\n  emit { v: -x }"
    let (syntax, diagnostics) = parse(text)
    XCTAssertEqual(diagnostics.count, 0)
    let file = syntax.file
    XCTAssertEqual(syntax.comments.map { file.text(of: $0) }, ["# c"])
    guard let rule = syntax.rules.first, case .step(let step) = rule.clauses[0].kind,
      case .where(let condition) = step.modifiers[0].kind,
      case .infix(let gt, let product, _) = condition.kind,
      case .infix(_, let paren, let call) = product.kind,
      case .parenthesized(let sum) = paren.kind,
      case .infix(_, let path, _) = sum.kind, case .path(let pathSyntax) = path.kind,
      case .emit(let fields) = rule.clauses[1].kind
    else { return XCTFail("unexpected shape") }
    XCTAssertEqual(file.text(of: rule.range), text)
    XCTAssertEqual(file.text(of: step.range), "begin first where (a.b + 1) * f(x) > 2 times 3+")
    XCTAssertEqual(file.text(of: step.kind.range), "begin")
    XCTAssertEqual(step.name.map { file.text(of: $0.range) }, "first")
    XCTAssertEqual(file.text(of: step.modifiers[0].range), "where (a.b + 1) * f(x) > 2")
    XCTAssertEqual(file.text(of: step.modifiers[1].range), "times 3+")
    XCTAssertEqual(file.text(of: condition.range), "(a.b + 1) * f(x) > 2")
    XCTAssertEqual(file.text(of: gt.range), ">")
    XCTAssertEqual(file.text(of: paren.range), "(a.b + 1)")
    XCTAssertEqual(file.text(of: call.range), "f(x)")
    XCTAssertEqual(pathSyntax.components.map { file.text(of: $0.range) }, ["a", "b"])
    XCTAssertEqual(file.text(of: rule.clauses[1].range), "emit { v: -x }")
    XCTAssertEqual(fields.map { file.text(of: $0.range) }, ["v: -x"])
    XCTAssertEqual(fields.map { file.text(of: $0.value.range) }, ["-x"])
  }
}
