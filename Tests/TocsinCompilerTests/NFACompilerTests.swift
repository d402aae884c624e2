import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinTestSupport
import XCTest

/// Golden dumps of compiled automata: one per step shape.
final class NFACompilerTests: XCTestCase {
  private func isType(_ t: String) -> Expr {
    .binary(.equal, .field(FieldPath(["type"])), .constant(.string(t)))
  }

  private func dump(_ steps: [StepSpec], within: EventDuration? = nil, skip: SkipStrategy = .noSkip) -> String {
    let spec = RuleSpec(name: "r", keyFields: [FieldPath(["user"])], steps: steps, within: within, skip: skip)
    return NFACompiler.compile([spec]).rules[0].nfaDescription
  }

  func testSingletons_StrictAndRelaxed() {
    assertEqualLines(
      dump([
        StepSpec(name: "a", condition: isType("a")),
        StepSpec(name: "b", contiguity: .strict, condition: isType("b")),
        StepSpec(name: "c", contiguity: .relaxed, condition: isType("c")),
      ], within: .minutes(10)),
      """
      rule r (key user, within 10m, no_skip)
      [0] a (start)
          take    → [1]  where type == "a"
          ignore  → [0]  unless type == "a"
      [1] b
          take    → [2]  where type == "b"
      [2] c
          take    → [3]  where type == "c"
          ignore  → [2]  unless type == "c"
      [3] $final

      """)
  }

  func testTimes_CopiesWithInnerRelaxedContiguity() {
    assertEqualLines(
      dump([StepSpec(name: "a", quantifier: .times(3), condition: isType("a"))]),
      """
      rule r (key user, no within, no_skip)
      [0] a#1 (start)
          take    → [1]  where type == "a"
          ignore  → [0]  unless type == "a"
      [1] a#2
          take    → [2]  where type == "a"
          ignore  → [1]  unless type == "a"
      [2] a#3
          take    → [3]  where type == "a"
          ignore  → [2]  unless type == "a"
      [3] $final

      """)
  }

  func testTimesOrMore_LoopWithProceedAndIgnoredTwin() {
    assertEqualLines(
      dump([
        StepSpec(name: "a", quantifier: .timesOrMore(2), condition: isType("a")),
        StepSpec(name: "b", contiguity: .strict, condition: isType("b")),
      ], within: .hours(1), skip: .skipPastLastEvent),
      """
      rule r (key user, within 1h, skip past_last_event)
      [0] a#1 (start)
          take    → [1]  where type == "a"
          ignore  → [0]  unless type == "a"
      [1] a#2
          take    → [2]  where type == "a"
          ignore  → [1]  unless type == "a"
      [2] a*
          proceed → [3]
          take    → [2]  where type == "a"
          ignore  → [4]  unless type == "a"
      [3] b
          take    → [5]  where type == "b"
      [4] a*ignored
          take    → [2]  where type == "a"
          ignore  → [4]  unless type == "a"
      [5] $final

      """)
  }

  func testOptionalNegationAndGreedy() {
    // begin a; not_next n; followed_by b optional; followed_by c times 1+ greedy; within 1m
    var b = StepSpec(name: "b", condition: isType("b"))
    b.quantifier.isOptional = true
    var c = StepSpec(name: "c", quantifier: .timesOrMore(1), condition: isType("c"))
    c.quantifier.isGreedy = true
    assertEqualLines(
      dump([
        StepSpec(name: "a", condition: isType("a")),
        StepSpec(name: "n", kind: .notNext, contiguity: .strict, condition: isType("n")),
        b, c,
      ], within: .minutes(1)),
      """
      rule r (key user, within 1m, no_skip)
      [0] a (start)
          take    → [1]  where type == "a"
          ignore  → [0]  unless type == "a"
      [1] n
          proceed → [2]  unless type == "n"
          proceed → [3]  where type == "n"
      [2] b
          take    → [4]  where type == "b"
          proceed → [4]
          ignore  → [5]  unless type == "b"
      [3] n! (stop)
          take    → [3]  where type == "n"
      [4] c#1
          take    → [6]  where type == "c"
          ignore  → [4]  unless type == "c"
      [5] b?ignored
          take    → [4]  where type == "b"
          ignore  → [5]  unless type == "b"
      [6] c*
          proceed → [8]  unless type == "c"
          take    → [6]  where type == "c"
          ignore  → [7]  unless type == "c"
      [7] c*ignored
          take    → [6]  where type == "c"
          ignore  → [7]  unless type == "c"
      [8] $final

      """)
  }

  func testDOT_IsWellFormed() {
    let spec = RuleSpec(name: "r", steps: [StepSpec(name: "a", condition: isType("a\"q"))])
    let dot = NFACompiler.compile([spec]).rules[0].nfaDOT
    XCTAssertTrue(dot.hasPrefix("digraph \"r\" {"))
    XCTAssertTrue(dot.contains(#"label="take: where type == \"a\\\"q\"""#), dot)
    XCTAssertTrue(dot.hasSuffix("}\n"))
  }
}
