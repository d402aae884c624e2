import TocsinCore
import TocsinExpressions
import XCTest

/// One table per built-in function: normal, null, wrong-type and edge inputs. Each row calls the
/// function on fields `a` (and `b`) of one event, so literal patterns go through the compiled
/// (cached) path as in a rule.
final class FunctionTests: XCTestCase {
  private let a = Expr.field(FieldPath(["a"]))
  private let b = Expr.field(FieldPath(["b"]))
  private func str(_ s: String) -> Expr { .constant(.string(s)) }
  private func int(_ i: Int64) -> Expr { .constant(.int(i)) }

  private struct Outcome: Equatable {
    var value: Value
    var typeErrors = 0
    var regexLimitHits = 0
  }

  private func evaluate(_ expr: Expr, _ fields: [String: Value]) -> Outcome {
    var compiler = ExprCompiler()
    let evaluator = compiler.compileValue(expr)
    var slots = Array(repeating: Value.null, count: compiler.projection.count)
    for (i, path) in compiler.projection.paths.enumerated() { slots[i] = fields[path.description] ?? .null }
    let event = EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: slots)
    let context = EvalContext()
    let value = evaluator(event, nil, context)
    return Outcome(value: value, typeErrors: context.typeErrors, regexLimitHits: context.regexLimitHits)
  }

  /// `function(a, extra…)` with `a` set to `input` (absent for `nil`).
  private func callTest(
    _ function: Builtin, _ extra: [Expr], _ input: Value?, _ expected: Value, typeErrors: Int = 0,
    regexLimitHits: Int = 0, file: StaticString = #filePath, line: UInt = #line
  ) {
    let expr = Expr.call(function, [a] + extra)
    let outcome = evaluate(expr, input.map { ["a": $0] } ?? [:])
    XCTAssertEqual(
      outcome, Outcome(value: expected, typeErrors: typeErrors, regexLimitHits: regexLimitHits),
      "\(expr.rendered(stepNames: [])) on \(input.map(String.init(describing:)) ?? "missing")",
      file: file, line: line)
  }

  func testTrim() {
    callTest(.trim, [], .string("  a b \t\n"), .string("a b"))
    callTest(.trim, [], .string(""), .string(""))
    callTest(.trim, [], .string(" \t "), .string(""))
    callTest(.trim, [], .string("\u{00A0}é\u{2003}"), .string("é"))  // Unicode white space
    callTest(.trim, [], nil, .null)
    callTest(.trim, [], .int(1), .null, typeErrors: 1)
  }

  func testFloorAndCeil() {
    callTest(.floor, [], .float(2.7), .int(2))
    callTest(.floor, [], .float(-2.1), .int(-3))
    callTest(.floor, [], .int(5), .int(5))
    callTest(.floor, [], .float(1e300), .float(1e300))  // beyond Int64: stays a float
    callTest(.floor, [], .float(.nan), .null)
    callTest(.floor, [], nil, .null)
    callTest(.floor, [], .string("2"), .null, typeErrors: 1)
    callTest(.ceil, [], .float(2.1), .int(3))
    callTest(.ceil, [], .float(-2.7), .int(-2))
    callTest(.ceil, [], .float(-0.5), .int(0))
    callTest(.ceil, [], .float(.infinity), .null)
    callTest(.ceil, [], .bool(true), .null, typeErrors: 1)
  }

  func testCoalesce() {
    callTest(.coalesce, [str("x")], .string("a"), .string("a"))
    callTest(.coalesce, [str("x")], nil, .string("x"))
    callTest(.coalesce, [str("x")], .null, .string("x"))
    callTest(.coalesce, [int(0)], .string(""), .string(""))  // empty is not null
    callTest(.coalesce, [.constant(.null)], nil, .null)
    XCTAssertEqual(evaluate(.call(.coalesce, [a, b]), ["b": .int(2)]).value, .int(2))
  }

  func testMatches() {
    callTest(.matches, [str("^ab+c$")], .string("abbbc"), .bool(true))
    callTest(.matches, [str("b+")], .string("abbbc"), .bool(true))  // unanchored
    callTest(.matches, [str("^b")], .string("abc"), .bool(false))
    callTest(.matches, [str("^$")], .string(""), .bool(true))
    callTest(.matches, [str("x")], .string(""), .bool(false))
    callTest(.matches, [str("^\\w+$")], .string("größe"), .bool(true))  // UCP: Unicode \w
    callTest(.matches, [str("^.$")], .string("€"), .bool(true))  // UTF: one character
    callTest(.matches, [str("(?i)CURL")], .string("curl/8.0"), .bool(true))
    callTest(.matches, [str("a")], nil, .null)
    callTest(.matches, [str("a")], .int(1), .null, typeErrors: 1)
  }

  func testMatches_CatastrophicBacktrackingHitsTheLimit() {
    let subject = String(repeating: "a", count: 40) + "!"
    callTest(.matches, [str("(a+)+$")], .string(subject), .null, regexLimitHits: 1)
    callTest(.matches, [str("^(a|aa)+$")], .string(String(repeating: "a", count: 60) + "b"), .null, regexLimitHits: 1)
    // As a condition: false, and counted.
    var compiler = ExprCompiler()
    let predicate = compiler.compileCondition(.call(.matches, [a, str("(a+)+$")]))
    let event = EventRecord(
      time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: [.string(subject)])
    let context = EvalContext()
    XCTAssertFalse(predicate(event, nil, context))
    XCTAssertFalse(predicate(event, nil, context))
    XCTAssertEqual(context.regexLimitHits, 2)
    XCTAssertEqual(context.firstRegexLimitPattern, "(a+)+$")
    XCTAssertEqual(context.typeErrors, 0)
  }

  func testRegexExtract() {
    callTest(.regexExtract, [str("@([^.]+)\\."), int(1)], .string("jo@example.com"), .string("example"))
    callTest(.regexExtract, [str("\\d+"), int(0)], .string("order 1234 ok"), .string("1234"))
    callTest(.regexExtract, [str("\\d+"), int(0)], .string("none"), .null)  // no match
    callTest(.regexExtract, [str("(a)|(b)"), int(1)], .string("b"), .null)  // group took no part
    callTest(.regexExtract, [str("(a)"), int(5)], .string("a"), .null)  // no such group
    callTest(.regexExtract, [str("(a)"), int(-1)], .string("a"), .null)
    callTest(.regexExtract, [str("(x*)"), int(1)], .string(""), .string(""))  // empty capture
    callTest(.regexExtract, [str("(é+)"), int(1)], .string("caféé!"), .string("éé"))
    callTest(.regexExtract, [str("(a)"), int(1)], nil, .null)
    callTest(.regexExtract, [str("(a)"), .constant(.null)], .string("a"), .null)
    callTest(.regexExtract, [str("(a)"), int(1)], .float(1), .null, typeErrors: 1)
    callTest(
      .regexExtract, [str("(a+)+$"), int(1)], .string(String(repeating: "a", count: 40) + "!"), .null,
      regexLimitHits: 1)
  }

  func testLike() {
    callTest(.like, [str("/admin/*")], .string("/admin/users"), .bool(true))
    callTest(.like, [str("/admin/*")], .string("/api/admin/x"), .bool(false))  // whole string
    callTest(.like, [str("a?c")], .string("abc"), .bool(true))
    callTest(.like, [str("a?c")], .string("ac"), .bool(false))
    callTest(.like, [str("a?c")], .string("a€c"), .bool(true))  // ? is one character
    callTest(.like, [str("*.png")], .string("x.png"), .bool(true))
    callTest(.like, [str("*.png")], .string("xpng"), .bool(false))  // '.' is literal
    callTest(.like, [str("(a)+[b]")], .string("(a)+[b]"), .bool(true))  // regex syntax is literal
    callTest(.like, [str("*")], .string(""), .bool(true))
    callTest(.like, [str("")], .string(""), .bool(true))
    callTest(.like, [str("")], .string("a"), .bool(false))
    callTest(.like, [str("a*")], .string("a\nb"), .bool(true))  // * spans newlines
    callTest(.like, [str("A*")], .string("abc"), .bool(false))  // case-sensitive
    callTest(.like, [str("a*")], nil, .null)
    callTest(.like, [str("a*")], .bool(false), .null, typeErrors: 1)
    // Star-only globs go through the byte matcher (`StarGlob`), not PCRE2.
    callTest(.like, [str("m1*")], .string("m1"), .bool(true))
    callTest(.like, [str("m1*")], .string("m0518"), .bool(false))
    callTest(.like, [str("*a*b*")], .string("xaxxbx"), .bool(true))
    callTest(.like, [str("*a*b*")], .string("xbxxax"), .bool(false))  // pieces in order
    callTest(.like, [str("ab*ba")], .string("aba"), .bool(false))  // pieces do not overlap
    callTest(.like, [str("ab*ba")], .string("abba"), .bool(true))
    callTest(.like, [str("a*a*a")], .string("aaa"), .bool(true))
    callTest(.like, [str("a*a*a")], .string("aa"), .bool(false))
    callTest(.like, [str("**")], .string("anything"), .bool(true))
    callTest(.like, [str("caf*")], .string("café"), .bool(true))
    callTest(.like, [str("*é")], .string("café"), .bool(true))
    callTest(.like, [str("*é")], .string("cafe\u{301}"), .bool(false))  // code points, no normalisation
    callTest(.like, [str("*e")], .string("cafe\u{301}"), .bool(false))  // the whole string
    // A whole or prefix glob of up to 15 bytes tests a short subject from its bits: bytes past
    // the eighth, the count, and subjects of 15 and 16 bytes (the longest short one, the first
    // that is not).
    callTest(.like, [str("abcdefghij*")], .string("abcdefghijklmno"), .bool(true))
    callTest(.like, [str("abcdefghij*")], .string("abcdefghiXklmno"), .bool(false))
    callTest(.like, [str("abcdefghij*")], .string("abcdefghijklmnop"), .bool(true))
    callTest(.like, [str("abcdefghij*")], .string("abcdefghi"), .bool(false))
    callTest(.like, [str("abcdefghijk")], .string("abcdefghijk"), .bool(true))
    callTest(.like, [str("abcdefghijk")], .string("abcdefghijX"), .bool(false))
    callTest(.like, [str("abcdefghijk")], .string("abcdefghijkl"), .bool(false))
    callTest(.like, [str("abcdefghijk*")], .string("abcdefghijk"), .bool(true))
    callTest(.like, [str("é*")], .string("éa"), .bool(true))
    callTest(.like, [str("é*")], .string("e"), .bool(false))
  }

  /// The byte matcher agrees with the regex form of the same glob on random star-only globs and
  /// subjects over a small alphabet (ASCII, two- and three-byte characters, and the wildcard's
  /// own neighbours), so that pieces recur and overlap often.
  func testStarGlobAgreesWithRegexForm() throws {
    var random = SplitMix64(seed: 0x5EED_610B)
    let alphabet: [String] = ["a", "b", "é", "€", ".", "\n"]
    func text(_ length: Int) -> String {
      (0..<length).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &random)] }.joined()
    }
    var compared = 0
    var matched = 0
    for _ in 0..<3000 {
      var glob = ""
      for _ in 0..<Int.random(in: 0...5, using: &random) {
        glob += Bool.random(using: &random) ? "*" : text(Int.random(in: 1...2, using: &random))
      }
      let matcher = try XCTUnwrap(StarGlob(glob), glob)
      let regex = try CompiledRegex(Glob.regexPattern(for: glob))
      for _ in 0..<8 {
        let subject = text(Int.random(in: 0...7, using: &random))
        let expected = regex.matches(subject) == .matched
        XCTAssertEqual(matcher.matches(subject), expected, "like(\(subject.debugDescription), \(glob.debugDescription))")
        compared += 1
        if expected { matched += 1 }
      }
    }
    // Both outcomes are exercised.
    XCTAssertGreaterThan(matched, compared / 20)
    XCTAssertLessThan(matched, compared - compared / 20)
    XCTAssertNil(StarGlob("a?c"), "a glob with ? keeps the regex form")
  }

  func testInCidr() {
    callTest(.inCidr, [str("10.0.0.0/8")], .string("10.200.3.4"), .bool(true))
    callTest(.inCidr, [str("10.0.0.0/8")], .string("11.0.0.1"), .bool(false))
    callTest(.inCidr, [str("192.168.1.0/25")], .string("192.168.1.127"), .bool(true))
    callTest(.inCidr, [str("192.168.1.0/25")], .string("192.168.1.128"), .bool(false))
    callTest(.inCidr, [str("0.0.0.0/0")], .string("8.8.8.8"), .bool(true))
    callTest(.inCidr, [str("8.8.8.8/32")], .string("8.8.8.8"), .bool(true))
    callTest(.inCidr, [str("2001:db8::/32")], .string("2001:db8:1::5"), .bool(true))
    callTest(.inCidr, [str("2001:db8::/32")], .string("2001:db9::5"), .bool(false))
    callTest(.inCidr, [str("fe80::/10")], .string("febf::1"), .bool(true))
    callTest(.inCidr, [str("fe80::/10")], .string("fec0::1"), .bool(false))
    callTest(.inCidr, [str("::/0")], .string("::1"), .bool(true))
    callTest(.inCidr, [str("10.0.0.0/8")], .string("::ffff:10.1.2.3"), .bool(true))  // mapped
    callTest(.inCidr, [str("10.0.0.0/8")], .string("2001:db8::1"), .bool(false))  // other family
    callTest(.inCidr, [str("::/0")], .string("10.0.0.1"), .bool(false))
    callTest(.inCidr, [str("10.0.0.0/8")], .string(""), .null, typeErrors: 1)
    callTest(.inCidr, [str("10.0.0.0/8")], .string("10.0.0.256"), .null, typeErrors: 1)
    callTest(.inCidr, [str("10.0.0.0/8")], nil, .null)
    callTest(.inCidr, [str("10.0.0.0/8")], .int(167_772_161), .null, typeErrors: 1)
  }

  func testCIDRBlockParsing() {
    for good in ["10.0.0.0/8", "0.0.0.0/0", "1.2.3.4/32", "::/0", "2001:db8::/128"] {
      XCTAssertNotNil(CIDRBlock(good), good)
    }
    for bad in ["10.0.0.0/33", "10.0.0.0", "10.0.0.0/", "/8", "10.0.0/8", "::/129", "10.0.0.0/-1", "10.0.0.0/+8", "a/8", ""] {
      XCTAssertNil(CIDRBlock(bad), bad)
    }
  }

  func testHourOfDay() {
    callTest(.hourOfDay, [], .int(0), .int(0))
    callTest(.hourOfDay, [], .int(1_764_300_719_120), .int(3))  // 2025-11-28T03:31:59.120Z
    callTest(.hourOfDay, [], .int(-1), .int(23))  // 1969-12-31T23:59:59.999Z
    callTest(.hourOfDay, [], .float(3_600_000.9), .int(1))
    callTest(.hourOfDay, [], .string("2026-11-28T03:31:59.120Z"), .int(3))
    callTest(.hourOfDay, [], .string("2026-11-28T03:31:59+05:00"), .int(22))  // UTC
    callTest(.hourOfDay, [], .float(.nan), .null, typeErrors: 1)
    callTest(.hourOfDay, [], .string(""), .null, typeErrors: 1)
    callTest(.hourOfDay, [], .string("yesterday"), .null, typeErrors: 1)
    callTest(.hourOfDay, [], .bool(true), .null, typeErrors: 1)
    callTest(.hourOfDay, [], nil, .null)
  }

  func testDayOfWeek() {
    callTest(.dayOfWeek, [], .int(0), .int(4))  // 1970-01-01, a Thursday
    callTest(.dayOfWeek, [], .int(-1), .int(3))  // Wednesday
    callTest(.dayOfWeek, [], .string("2026-11-30T00:00:00Z"), .int(1))  // Monday
    callTest(.dayOfWeek, [], .string("2026-11-29T23:59:59Z"), .int(7))  // Sunday
    callTest(.dayOfWeek, [], .string("2026-11-30T00:30:00+01:00"), .int(7))  // still Sunday in UTC
    callTest(.dayOfWeek, [], .string("2024-02-29T12:00:00Z"), .int(4))
    callTest(.dayOfWeek, [], .float(.infinity), .null, typeErrors: 1)
    callTest(.dayOfWeek, [], nil, .null)
  }

  func testPatternsAreCompiledOncePerText() {
    var compiler = ExprCompiler()
    _ = compiler.compileCondition(.call(.matches, [a, str("x+")]))
    _ = compiler.compileCondition(.call(.matches, [b, str("x+")]))
    _ = compiler.compileValue(.call(.regexExtract, [a, str("x+"), int(0)]))
    XCTAssertEqual(compiler.compiledPatternCount, 1)
    _ = compiler.compileCondition(.call(.like, [a, str("x+")]))  // a glob, not the same regex
    _ = compiler.compileCondition(.call(.inCidr, [a, str("10.0.0.0/8")]))
    XCTAssertEqual(compiler.compiledPatternCount, 3)
  }

  func testConstantFoldingUsesTheSameSemantics() {
    XCTAssertEqual(ExprCompiler.constantValue(of: .call(.matches, [str("abc"), str("b")])), .bool(true))
    XCTAssertEqual(ExprCompiler.constantValue(of: .call(.like, [str("abc"), str("a*")])), .bool(true))
    XCTAssertEqual(ExprCompiler.constantValue(of: .call(.inCidr, [str("::1"), str("::1/128")])), .bool(true))
    XCTAssertEqual(ExprCompiler.constantValue(of: .call(.coalesce, [.constant(.null), int(3)])), .int(3))
  }

  func testCompiledRegex_UsesTheJITWhereAvailable() throws {
    XCTAssertEqual(try CompiledRegex("^a+b$").isJIT, CompiledRegex.isJITAvailable)
    XCTAssertEqual(try CompiledRegex("(a+)+$").captureCount, 1)
  }

  func testCompiledRegex_CompileErrorsCarryPCRE2MessageAndOffset() {
    XCTAssertThrowsError(try CompiledRegex("ab)c")) { error in
      let e = error as? CompiledRegex.CompileError
      XCTAssertEqual(e?.offset, 2)
      XCTAssertEqual(e?.message.contains("parenthesis"), true, e?.message ?? "")
    }
    XCTAssertThrowsError(try CompiledRegex("a{2,1}"))
    XCTAssertThrowsError(try CompiledRegex("[z-a]"))
    XCTAssertNoThrow(try CompiledRegex(""))
  }
}
