import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// Which states reach the final state by proceed edges alone (`RuleMatcher.proceedsReachFinal`):
/// the matcher asks whether a take completes a match only from those. A state missing from the
/// set would lose matches (the matching and conformance tests fail then); one wrongly in it
/// costs a walk. Checked here against a forward search from each state, on the automata of
/// every step shape, and on two shapes whose answer is known.
final class ProceedReachTests: XCTestCase {
  private static let typeField = FieldPath(["type"])

  private static func step(
    _ name: String, _ type: String, _ contiguity: Contiguity = .relaxed, _ quantifier: Quantifier = .once,
    kind: StepKind = .take
  ) -> StepSpec {
    StepSpec(
      name: name, kind: kind, contiguity: contiguity, quantifier: quantifier,
      condition: .binary(.equal, .field(typeField), .constant(.string(type))))
  }

  private static func nfa(_ steps: [StepSpec], within: EventDuration? = .seconds(60)) -> NFA {
    NFACompiler.compile([RuleSpec(name: "r", steps: steps, within: within)], extraFields: [typeField]).rules[0].nfa
  }

  /// Forward: whether a path of proceed edges leads from `state` to the final state.
  private static func reaches(_ nfa: NFA, from state: StateID) -> Bool {
    var seen: Set<StateID> = [state]
    var frontier = [state]
    while let id = frontier.popLast() {
      for edge in nfa[id].edges where edge.action == .proceed {
        if edge.target == nfa.final { return true }
        if seen.insert(edge.target).inserted { frontier.append(edge.target) }
      }
    }
    return false
  }

  private static let shapes: [(String, [StepSpec])] = [
    ("a b", [step("a", "a"), step("b", "b")]),
    ("a next b", [step("a", "a"), step("b", "b", .strict)]),
    ("a not_next c then b", [step("a", "a"), step("c", "c", .strict, kind: .notNext), step("b", "b")]),
    ("a then b optional", [step("a", "a"), step("b", "b", .relaxed, Quantifier(min: 1, max: 1, isOptional: true))]),
    ("a then b times 2+ (last)", [step("a", "a"), step("b", "b", .relaxed, .timesOrMore(2))]),
    ("a times 2+ greedy then b", [
      step("a", "a", .relaxed, Quantifier(min: 2, max: nil, isGreedy: true)), step("b", "b"),
    ]),
    ("a times 2..4 then b", [step("a", "a", .relaxed, Quantifier(min: 2, max: 4)), step("b", "b")]),
    ("a one_or_more until x then b", [
      step("a", "a", .relaxed, Quantifier(min: 1, max: nil, until: .binary(.equal, .field(typeField), .constant(.string("x"))))),
      step("b", "b"),
    ]),
    ("a not_followed_by c then b", [step("a", "a"), step("c", "c", kind: .notFollowedBy), step("b", "b")]),
    ("a then trailing not_followed_by c", [step("a", "a"), step("c", "c", kind: .notFollowedBy)]),
    ("a then b followed_by_any, times 1..3 optional", [
      step("a", "a"), step("b", "b", .nonDeterministic, Quantifier(min: 1, max: 3, isOptional: true)),
    ]),
  ]

  func testAgreesWithForwardSearch_EveryShape() {
    for (name, steps) in Self.shapes {
      let nfa = Self.nfa(steps)
      let reach = RuleMatcher.statesReachingFinalByProceeds(nfa)
      XCTAssertEqual(reach.count, nfa.states.count, name)
      for state in nfa.states where state.id != nfa.final {
        XCTAssertEqual(reach[state.id.index], Self.reaches(nfa, from: state.id), "\(name): \(state.name)")
      }
      XCTAssertFalse(reach[nfa.final.index], "\(name): the final state is not its own target")
    }
  }

  /// A loop followed by a step (W2's `w2_night_spree`): nothing reaches the final state without
  /// the last step's event. A loop as the last step: its state after the minimum does.
  func testKnownShapes() {
    func shape(_ name: String) -> [StepSpec] { Self.shapes.first { $0.0 == name }?.1 ?? [] }
    let loopThenStep = Self.nfa(shape("a times 2+ greedy then b"))
    XCTAssertEqual(RuleMatcher.statesReachingFinalByProceeds(loopThenStep).filter { $0 }.count, 0)
    let loopLast = Self.nfa(shape("a then b times 2+ (last)"))
    let reaching = zip(loopLast.states, RuleMatcher.statesReachingFinalByProceeds(loopLast)).filter(\.1).map(\.0.name)
    XCTAssertFalse(reaching.isEmpty)
    XCTAssertTrue(reaching.allSatisfy { $0.hasPrefix("b") }, "\(reaching)")
  }
}
