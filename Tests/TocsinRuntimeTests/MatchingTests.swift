import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// Runtime semantics driven by hand-built rule specs and explicit event sequences.
///
/// Events are written `"a1@0"`: the letter is the event's `type`, the whole token its identity,
/// the number after `@` its time in milliseconds (omitted: its position in the list, in
/// seconds). Each expected match is the identities it bound, space-separated, in order.
final class MatchingTests: XCTestCase {
  private func isType(_ t: String) -> Expr {
    .binary(.equal, .field(FieldPath(["type"])), .constant(.string(t)))
  }

  private func step(
    _ name: String, _ type: String, _ contiguity: Contiguity = .relaxed,
    _ quantifier: Quantifier = .once
  ) -> StepSpec {
    StepSpec(name: name, contiguity: contiguity, quantifier: quantifier, condition: isType(type))
  }

  private func matches(
    _ steps: [StepSpec], within: EventDuration? = nil, skip: SkipStrategy = .noSkip,
    _ input: String, outOfOrderness: EventDuration = .zero
  ) -> [String] {
    let spec = RuleSpec(name: "r", steps: steps, within: within, skip: skip)
    return TokenReplay.matches(spec, input, outOfOrderness: outOfOrderness)
  }

  private func check(
    _ steps: [StepSpec], within: EventDuration? = nil, skip: SkipStrategy = .noSkip,
    _ input: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(matches(steps, within: within, skip: skip, input), expected, file: file, line: line)
  }

  func testContiguity_FlinkTable() {
    // Flink CEP docs, "Combining Patterns": pattern "a b", input "a, c, b1, b2".
    check([step("x", "a"), step("y", "b", .strict)], "a c b1 b2", [])
    check([step("x", "a"), step("y", "b", .relaxed)], "a c b1 b2", ["a b1"])
    check([step("x", "a"), step("y", "b", .nonDeterministic)], "a c b1 b2", ["a b1", "a b2"])
    check([step("x", "a"), step("y", "b", .strict)], "a b1 b2", ["a b1"])
  }

  func testTimes_RelaxedInnerContiguity() {
    check([step("x", "a", .relaxed, .times(3))], "a1 x a2 a3 a4", ["a1 a2 a3", "a2 a3 a4"])
    check(
      [step("x", "a", .relaxed, Quantifier(min: 3, max: 3, inner: .strict))], "a1 x a2 a3 a4",
      ["a2 a3 a4"])
  }

  func testTimesOrMore_AtEnd_NoSkipEmitsEveryPrefix() {
    check([step("x", "a", .relaxed, .timesOrMore(2))], "a1 a2 a3", ["a1 a2", "a1 a2 a3", "a2 a3"])
  }

  func testTimesOrMore_SkipPastLastEvent_OneMatchPerBurst() {
    let burst = (1...12).map { "a\($0)" }.joined(separator: " ")
    check(
      [step("x", "a", .relaxed, .timesOrMore(10))], within: .hours(1), skip: .skipPastLastEvent,
      burst, [(1...10).map { "a\($0)" }.joined(separator: " ")])
  }

  func testTimesOrMore_ThenNextStep_NotGreedy() {
    check([step("x", "a", .relaxed, .timesOrMore(2)), step("y", "b")], "a1 a2 b", ["a1 a2 b"])
    check(
      [step("x", "a", .relaxed, .timesOrMore(1)), step("y", "b")], "a1 a2 b",
      ["a1 a2 b", "a1 b", "a2 b"])
  }

  func testWithin_IsExclusive() {
    let steps = [step("x", "a"), step("y", "b")]
    check(steps, within: .seconds(10), "a@0 b@10000", [])
    check(steps, within: .seconds(10), "a@0 b@9999", ["a b"])
  }

  func testOutOfOrderArrival_IsReordered() {
    let steps = [step("x", "a"), step("y", "b")]
    let inOrder = matches(steps, within: .seconds(10), "a@1000 c@2000 b@3000", outOfOrderness: .seconds(5))
    let shuffled = matches(steps, within: .seconds(10), "b@3000 a@1000 c@2000", outOfOrderness: .seconds(5))
    XCTAssertEqual(inOrder, ["a b"])
    XCTAssertEqual(shuffled, inOrder)
  }
}
