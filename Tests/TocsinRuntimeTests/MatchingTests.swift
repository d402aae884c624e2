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

  /// The matcher gives the nodes of partial matches that ended (completed and emitted, timed
  /// out, or dropped by a strict step) back to its pool and binds new events with them; what a
  /// live partial match still reaches is never taken.
  func testMatcher_ReusesNodesOfEndedPartialMatches() {
    let spec = RuleSpec(
      name: "r", steps: [step("x", "a"), step("y", "b"), step("z", "c", .strict)], within: .seconds(10))
    let programs = NFACompiler.compile([spec], extraFields: [FieldPath(["type"])])
    let matcher = RuleMatcher(program: programs.rules[0])
    let context = EvalContext()
    let scratch = MatcherScratch()
    var state = PartialMatches()
    var emitted: [[String]] = []
    var sequence: UInt64 = 0
    func feed(_ type: String, at seconds: Int64) {
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[0] = .string(type)
      let event = EventRecord(
        time: .milliseconds(seconds * 1000), sequence: sequence, line: Int(sequence) + 1,
        identity: "\(type)\(sequence)", slots: slots)
      sequence += 1
      matcher.process(event, &state, context: context, scratch: scratch) { node, _ in
        emitted.append(node.nodesInOrder.map(\.event.identity))
      }
    }
    // (event, time in s, nodes in the pool after it, open partial matches after it)
    let steps: [(String, Int64, Int, Int)] = [
      ("a", 0, 0, 1),  // a0 opens
      ("b", 1, 0, 1),  // a0 b1 waits for c (the partial match at `y` moved on)
      ("x", 2, 2, 0),  // strict `c` broken: a0 b1 ends, both nodes pooled
      ("a", 3, 1, 1),  // a3 reuses one
      ("b", 4, 0, 1),  // b4 the other
      ("c", 5, 3, 0),  // a3 b4 c5 completes and is emitted: all three pooled
      ("a", 6, 2, 1),
      // a6 timed out before a30 took a node; a timed-out node reaches the pool only
      // `MatchNodePool.retireDelay` time-outs later (retire(_:)), so the pool has one left.
      ("a", 30, 1, 1),
    ]
    for (n, (type, time, pooled, open)) in steps.enumerated() {
      feed(type, at: time)
      XCTAssertEqual(matcher.nodes.count, pooled, "after event \(n) (\(type)@\(time))")
      XCTAssertEqual(state.partials.count, open, "after event \(n)")
    }
    XCTAssertEqual(emitted, [["a3", "b4", "c5"]])
    XCTAssertEqual(state.partials.first?.bindings.event.identity, "a7")
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
