import Foundation
import TocsinExpressions
import XCTest

@testable import TocsinLanguage

/// Keeps the message catalogue, its IDs and `docs/diagnostics.md` in step.
final class CatalogueTests: XCTestCase {
  /// One sample of every catalogue case. A new case must be added here (and to the docs).
  private let samples: [(id: DiagnosticID, text: String)] = {
    let lex: [LexMessage] = [
      .missingDurationUnit("30"), .numberTooLarge("1"), .unexpectedCharacter("@"),
      .unknownDurationUnit("x"), .unknownEscape("\\q"), .unterminatedString,
    ]
    let parse: [ParseMessage] = [
      .chainedComparison, .expectedClause(found: "'x'"), .expectedExpression(found: "'x'"),
      .expectedRule(found: "'x'"), .expectedToken(expected: "x", after: "'y'"),
      .missingClosing(")", opening: "("), .nestingTooDeep(limit: 256), .unknownClause("x"),
      .unknownSkipStrategy("x"),
    ]
    let sema: [SemaMessage] = [
      .aggregateArgument(function: "sum", example: "sum(a.b)"),
      .argumentTypeMismatch(position: 1, function: "f", found: .int, expected: .string),
      .beginNotFirst, .comparisonTypeMismatch(op: "==", lhs: .int, rhs: .string),
      .comparisonWithNull, .conditionNotBool(.int), .duplicateClause("within"),
      .duplicateEmitField("x"), .duplicateQuantifier(step: "a"), .duplicateRule("r"),
      .duplicateStep("a"), .fieldLooksLikeStep(name: "frist", path: "frist.lat"),
      .firstStepNotBegin(found: "next"), .loopingStepField(step: "a"), .missingStep(rule: "r"),
      .operandTypeMismatch(op: "+", found: .string, expected: "a number"),
      .rarelyUsedField(name: "amout", suggestion: "amount"),
      .stepDeclaredLater(step: "b", current: "a"), .stepWithoutField(step: "a"),
      .timesOutOfRange("0"), .unboundedState, .unknownFunction("f"), .unknownSeverity("x"),
      .unknownSink("pagr"), .duplicateSink("pager"),
      .unknownStep("x"), .withinNotPositive,
      .wrongArgumentCount(function: "f", expected: [1], found: 2, signature: "f(x)"),
      // The pattern algebra.
      .absenceWithoutWithin, .conflictingContiguity, .duplicateModifier("optional"),
      .greedyInGroup(onGroup: true), .groupCondition("where"),
      .groupWithoutTakingStep, .modifierNeedsLoop("greedy"), .negatedGroup("not_next"),
      .negationFirst("not_next", inGroup: false),
      .negationQuantifier("optional"), .negationStepRead(step: "b"), .optionalBeforeNegation("not_next"),
      .orWhereFirst, .skipTargetOptional(step: "b"), .skipToNegation(step: "b"), .timeoutWithoutWithin,
      .timesRangeReversed("5..2"),
      // Functions with literal patterns.
      .argumentNotLiteral(position: 2, function: "matches", signature: "matches(string, \"pattern\")"),
      .invalidCidr("10.0.0.0/33"), .invalidRegex("missing closing parenthesis"), .listElementNotConstant,
      .alwaysFalse(field: "amount"), .alwaysTrue(field: "amount"),
      .regexGroupOutOfRange(group: 2, groups: 1),
      // Times, lists, schemas and usage lints.
      .arithmeticTypeMismatch(op: "-", lhs: .time, rhs: .int), .duplicateSchemaField("amount"),
      .inNotList(.string), .optionalStepRead(step: "b"),
      .schemaFileUnusable(path: "shared.schema", reason: "cannot be read"), .speedArguments,
      .suppressNotPositive, .timeArgument,
      .unusedStep(step: "b"), .unknownField("amout"), .unknownSchemaType("text"),
      .unknownTimeZone("Europe/Berln"),
      // Size limits.
      .patternTooLarge(copies: 200_001, limit: 200_000), .tooManyConditions(count: 300, limit: 256),
      .tooManySteps(count: 1001, limit: 1000),
    ]
    return lex.map { ($0.id, $0.text) } + parse.map { ($0.id, $0.text) } + sema.map { ($0.id, $0.text) }
  }()

  func testIDsAreUniqueAndDerivedFromCaseNames() {
    let ids = samples.map(\.id.description)
    XCTAssertEqual(Set(ids).count, ids.count)
    XCTAssertTrue(ids.contains("sema.unknownFunction"))
    XCTAssertTrue(ids.contains("lex.unterminatedString"))
    XCTAssertEqual(ids.count, 82)
  }

  func testMessageStyle() {
    for sample in samples {
      let first = sample.text.first.map(String.init) ?? ""
      XCTAssertEqual(first, first.lowercased(), "\(sample.id): starts lower-case")
      XCTAssertFalse(sample.text.hasSuffix("."), "\(sample.id): no final period")
    }
  }

  func testEveryIDIsDocumented() throws {
    let docs = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("docs/diagnostics.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    for sample in samples {
      XCTAssertTrue(text.contains("`\(sample.id)`"), "\(sample.id) missing from docs/diagnostics.md")
    }
  }
}
