import TocsinCore
import XCTest

@testable import TocsinLanguage

final class LexerTests: XCTestCase {
  /// Lexes `text` and compares the token kinds (without the final end-of-file) and diagnostic IDs.
  private func lexTest(
    _ text: String, _ expected: [TokenKind], diagnostics: [String] = [],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let lexed = Lexer.lex(SourceFile(path: "t.tcs", text: text))
    XCTAssertEqual(lexed.tokens.last?.kind, .endOfFile, file: file, line: line)
    XCTAssertEqual(Array(lexed.tokens.dropLast().map(\.kind)), expected, file: file, line: line)
    XCTAssertEqual(lexed.diagnostics.map(\.id.description), diagnostics, file: file, line: line)
  }

  func testKeywordsAndIdentifiers() {
    lexTest("rule r", [.keyword(.rule), .identifier("r")])
    lexTest("followed_by no_skip", [.keyword(.followedBy), .keyword(.noSkip)])
    lexTest("past_last_event", [.identifier("past_last_event")])
    lexTest("to_next to_first to_last", [.identifier("to_next"), .identifier("to_first"), .identifier("to_last")])
    lexTest("followed_by_any not_next not_followed_by", [
      .keyword(.followedByAny), .keyword(.notNext), .keyword(.notFollowedBy),
    ])
    lexTest("until one_or_more optional greedy consecutive allow_combinations", [
      .keyword(.until), .keyword(.oneOrMore), .keyword(.optional), .keyword(.greedy),
      .keyword(.consecutive), .keyword(.allowCombinations),
    ])
    lexTest("within between steps on timeout", [
      .keyword(.within), .keyword(.between), .keyword(.steps), .keyword(.on), .keyword(.timeout),
    ])
    lexTest("_a1 B2", [.identifier("_a1"), .identifier("B2")])
    lexTest("and or not true false null key", [
      .keyword(.and), .keyword(.or), .keyword(.not), .keyword(.true), .keyword(.false),
      .keyword(.null), .keyword(.key),
    ])
  }

  func testNumbers() {
    lexTest("0 42", [.integer(0), .integer(42)])
    lexTest("1.5", [.float(1.5)])
    lexTest("9223372036854775807", [.integer(Int64.max)])
    lexTest("9223372036854775808", [.invalid], diagnostics: ["lex.numberTooLarge"])
    lexTest("a.1", [.identifier("a"), .punctuator(.dot), .integer(1)])
    lexTest("1.", [.integer(1), .punctuator(.dot)])
    lexTest("2..5", [.integer(2), .punctuator(.dotDot), .integer(5)])
    lexTest("2 .. 5.5", [.integer(2), .punctuator(.dotDot), .float(5.5)])
  }

  func testDurations() {
    lexTest("within 10m", [.keyword(.within), .duration(.minutes(10))])
    lexTest("500ms", [.duration(.milliseconds(500))])
    lexTest("90s", [.duration(.seconds(90))])
    lexTest("1h", [.duration(.hours(1))])
    lexTest("2d", [.duration(.days(2))])
    lexTest("1h30m", [.duration(EventDuration(nanoseconds: 5_400_000_000_000))])
    lexTest("1m500ms", [.duration(.milliseconds(60_500))])
    lexTest("10x", [.invalid], diagnostics: ["lex.unknownDurationUnit"])
    lexTest("10min", [.invalid], diagnostics: ["lex.unknownDurationUnit"])
    lexTest("1h30", [.invalid], diagnostics: ["lex.missingDurationUnit"])
  }

  func testDurationUnitMessage() {
    let lexed = Lexer.lex(SourceFile(path: "t.tcs", text: "within 10x"))
    XCTAssertEqual(lexed.diagnostics.first?.message, "unknown duration unit 'x'; expected ms, s, m, h or d")
    XCTAssertEqual(lexed.diagnostics.first?.range, SourceRange(start: 9, end: 10))
  }

  func testStrings() {
    lexTest(#""purchase""#, [.string("purchase")])
    lexTest(#""a\"b\\c\nd\te""#, [.string("a\"b\\c\nd\te")])
    lexTest(#""\u00e9\u0041""#, [.string("éA")])
    lexTest(#""""#, [.string("")])
    lexTest(#""héllo""#, [.string("héllo")])
    lexTest(#""abc"#, [.invalid], diagnostics: ["lex.unterminatedString"])
    lexTest("\"abc\nrule", [.invalid, .keyword(.rule)], diagnostics: ["lex.unterminatedString"])
    lexTest(#""a\qb""#, [.string("ab")], diagnostics: ["lex.unknownEscape"])
    lexTest(#""\u12""#, [.string("")], diagnostics: ["lex.unknownEscape"])
  }

  func testOperators() {
    lexTest("== != < <= > >=", [
      .punctuator(.equal), .punctuator(.notEqual), .punctuator(.less), .punctuator(.lessOrEqual),
      .punctuator(.greater), .punctuator(.greaterOrEqual),
    ])
    lexTest("+-*/(){},:.", [
      .punctuator(.plus), .punctuator(.minus), .punctuator(.star), .punctuator(.slash),
      .punctuator(.leftParen), .punctuator(.rightParen), .punctuator(.leftBrace),
      .punctuator(.rightBrace), .punctuator(.comma), .punctuator(.colon), .punctuator(.dot),
    ])
    lexTest("a<=b", [.identifier("a"), .punctuator(.lessOrEqual), .identifier("b")])
  }

  func testBadCharacters() {
    lexTest("a @ b", [.identifier("a"), .invalid, .identifier("b")], diagnostics: ["lex.unexpectedCharacter"])
    lexTest("a = b", [.identifier("a"), .invalid, .identifier("b")], diagnostics: ["lex.unexpectedCharacter"])
    lexTest("a ! b", [.identifier("a"), .invalid, .identifier("b")], diagnostics: ["lex.unexpectedCharacter"])
    lexTest("é", [.invalid], diagnostics: ["lex.unexpectedCharacter"])
    lexTest("$ ;", [.invalid, .invalid], diagnostics: ["lex.unexpectedCharacter", "lex.unexpectedCharacter"])
  }

  func testUnexpectedCharacterCoversWholeCharacter() {
    let lexed = Lexer.lex(SourceFile(path: "t.tcs", text: "a é"))
    XCTAssertEqual(lexed.diagnostics.first?.range, SourceRange(start: 2, end: 4))
    XCTAssertEqual(lexed.diagnostics.first?.message, "unexpected character 'é'")
  }

  func testCommentsAreTrivia() {
    let text = "# top\nrule r # trailing\r\n# last"
    let lexed = Lexer.lex(SourceFile(path: "t.tcs", text: text))
    XCTAssertEqual(lexed.tokens.map(\.kind), [.keyword(.rule), .identifier("r"), .endOfFile])
    let file = SourceFile(path: "t.tcs", text: text)
    XCTAssertEqual(lexed.comments.map { file.text(of: $0) }, ["# top", "# trailing", "# last"])
  }

  func testTokenRanges() {
    let lexed = Lexer.lex(SourceFile(path: "t.tcs", text: "within  1h30m"))
    XCTAssertEqual(lexed.tokens.map(\.range), [
      SourceRange(start: 0, end: 6), SourceRange(start: 8, end: 13), SourceRange(start: 13, end: 13),
    ])
  }
}
