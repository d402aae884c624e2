import TocsinApp
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

@testable import TocsinRuntime

/// Which rules skip an event no step can use (Engine's `skipsUnconcerned`): the step guard
/// (every take condition and `until` guarded by a string equality) and the automaton's
/// transparency (such an event leaves every partial match where it is). The debug-build
/// assertion in `Engine._verifySkip` checks every skip of every test against full processing.
final class StepGuardTests: XCTestCase {
  private func programs(_ text: String) throws -> ProgramSet {
    try XCTUnwrap(RuleSet.build([SourceFile(path: "r.tcs", text: text)], ingest: IngestOptions()).programs)
  }

  func testTransparentStatesAndGuardsByRuleShape() throws {
    // (steps after `begin a where type == "a"`, names of the transparent states, guarded)
    let cases: [(String, [String], Bool)] = [
      ("followed_by b where type == \"b\"", ["a", "b"], true),
      ("followed_by_any b where type == \"b\"", ["a", "b"], true),
      ("next b where type == \"b\"", ["a"], true),
      ("not_next b where type == \"b\"\n  followed_by c where type == \"c\"", ["a", "c"], true),
      ("not_followed_by b where type == \"b\"\n  followed_by c where type == \"c\"", ["a", "c"], true),  // b! stops
      // After a loop took an event, the next event moves the partial match on: `b*` is not
      // transparent, `b*ignored` (where it goes) is.
      ("followed_by b where type == \"b\"\n    one_or_more\n  followed_by c where type == \"c\"",
       ["a", "b#1", "c", "b*ignored"], true),
      ("followed_by b where type == \"b\"\n    one_or_more\n    until type == \"x\"\n  followed_by c where type == \"c\"",
       ["a", "b#1", "c", "b*ignored"], true),
      ("followed_by b where type in [\"b\", \"bb\"]", ["a", "b"], true),
      ("followed_by b where amount > 10", ["a", "b"], false),
      ("followed_by b where type == \"b\" or amount > 10", ["a", "b"], false),
      // A step without `where` takes every event; the rule has no step guard, so transparency
      // (computed as if every take failed) is never used.
      ("followed_by b", ["a", "b"], false),
    ]
    for (steps, transparent, guarded) in cases {
      let text = "rule r\n  key user\n  begin a where type == \"a\"\n  \(steps)\n  within 1h\n"
      let set = try programs(text)
      let program = try XCTUnwrap(set.rules.first)
      let matcher = RuleMatcher(program: program)
      let names = program.nfa.states.filter { matcher.isTransparent[$0.id.index] }.map(\.name)
      XCTAssertEqual(names, transparent, steps)
      XCTAssertEqual(RuleGuards(programs: set).guardsSteps(rule: 0), guarded, steps)
    }
  }

  func testAnEventNoStepUsesIsNotAConcernOfTheRule() throws {
    let set = try programs(
      """
      rule r
        key user
        begin a where type == "a"
        followed_by b where type in ["b", "c"]
        within 1h
      """)
    let guards = RuleGuards(programs: set)
    let typeSlot = try XCTUnwrap(set.projection.existingSlot(for: FieldPath(["type"]))).index
    func event(_ type: Value) -> EventRecord {
      var slots = Array(repeating: Value.null, count: set.projection.count)
      slots[typeSlot] = type
      return EventRecord(time: .milliseconds(0), sequence: 0, line: 1, identity: "e", slots: EventSlots(slots))
    }
    let cases: [(Value, Bool)] = [
      (.string("a"), true), (.string("b"), true), (.string("c"), true), (.string("d"), false),
      (.null, false),
      (.int(3), true),  // not a string: the condition runs, so its type error is counted
    ]
    for (type, concerned) in cases { XCTAssertEqual(guards.candidates(for: event(type)).step & 1 == 1, concerned, "\(type)") }
  }
}
