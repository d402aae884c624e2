import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import XCTest

/// A condition that reads no binding is evaluated once per event and key, however many partial
/// matches it is tested for; one that reads the bindings, once per partial match. Either way the
/// matches are those of a matcher that evaluates every condition per partial match.
final class EventConditionCacheTests: XCTestCase {
  private let type = FieldPath(["type"])
  private let amount = FieldPath(["amount"])

  private func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  /// Each step's condition, wrapped to count its evaluations.
  private final class Counted {
    var evaluations: [Int]
    init(steps: Int) { evaluations = Array(repeating: 0, count: steps) }
  }

  /// Runs `events` (type, amount) through one key of `spec`; returns the emitted matches (event
  /// identities) and, per event, how often each step's condition was evaluated.
  private func run(_ spec: RuleSpec, _ events: [(String, Int64)], caching: Bool) -> (
    matches: [[String]], evaluations: [[Int]]
  ) {
    var programs = NFACompiler.compile([spec], extraFields: [type, amount])
    let counted = Counted(steps: spec.steps.count)
    programs.rules[0].stepConditions = programs.rules[0].stepConditions.enumerated().map { step, condition in
      condition.map { original in
        Condition { event, bindings, context in
          counted.evaluations[step] += 1
          return original.holds(event, bindings, context)
        }
      }
    }
    let matcher = RuleMatcher(program: programs.rules[0], sharingRuns: false, cachingEventConditions: caching)
    let context = EvalContext()
    let scratch = MatcherScratch()
    var state = PartialMatches()
    var matches: [[String]] = []
    var evaluations: [[Int]] = []
    for (n, (t, a)) in events.enumerated() {
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[0] = .string(t)  // the extra fields are projected first, in order
      slots[1] = .int(a)
      let event = EventRecord(
        time: .milliseconds(Int64(n) * 1000), sequence: UInt64(n), line: n + 1, identity: "\(t)\(n)", slots: slots)
      counted.evaluations = Array(repeating: 0, count: spec.steps.count)
      matcher.process(event, &state, context: context, scratch: scratch) { node, _ in
        matches.append(node.nodesInOrder.map(\.event.identity))
      }
      evaluations.append(counted.evaluations)
    }
    return (matches, evaluations)
  }

  func testEventOnlyConditionsAreEvaluatedOncePerEvent() {
    // a (type a), then b as `followed_by_any … one_or_more` (every partial match both takes and
    // passes by each b: their number doubles), then c.
    let bOnly = isType("b")
    let bRising = Expr.and(isType("b"), .binary(.greater, .field(amount), .stepField(step: 0, amount)))
    let bAfterA = Expr.and(isType("b"), .binary(.greater, .eventTime, .stepTime(step: 0)))
    let events: [(String, Int64)] = [("a", 5), ("a", 1), ("b", 3), ("x", 0), ("b", 9), ("a", 2), ("b", 4), ("c", 0)]
    let cases: [(name: String, b: Expr, readsBindings: Bool)] = [
      ("type only", bOnly, false),
      ("amount above a's", bRising, true),
      ("after a's time", bAfterA, true),
    ]
    for c in cases {
      let spec = RuleSpec(
        name: "r",
        steps: [
          StepSpec(name: "a", contiguity: .relaxed, quantifier: .once, condition: isType("a")),
          StepSpec(
            name: "b", contiguity: .nonDeterministic,
            quantifier: Quantifier(min: 1, max: nil, inner: .nonDeterministic), condition: c.b),
          StepSpec(name: "c", contiguity: .relaxed, quantifier: .once, condition: isType("c")),
        ],
        within: .seconds(60))
      XCTAssertEqual(c.b.readsBindings, c.readsBindings, c.name)
      let cached = run(spec, events, caching: true)
      let uncached = run(spec, events, caching: false)
      XCTAssertEqual(cached.matches, uncached.matches, c.name)
      XCTAssertFalse(cached.matches.isEmpty, c.name)
      for (n, (withCache, without)) in zip(cached.evaluations, uncached.evaluations).enumerated() {
        for step in withCache.indices {
          // Per partial match tested without the cache; with it, once if any was tested, unless
          // the condition reads the bindings.
          let reads = spec.steps[step].condition?.readsBindings ?? false
          let expected = reads ? without[step] : min(without[step], 1)
          XCTAssertEqual(withCache[step], expected, "\(c.name): event \(n), step \(step)")
        }
      }
      // The cases are only meaningful if some event tested b for several partial matches.
      XCTAssertTrue(uncached.evaluations.contains { $0[1] > 1 }, c.name)
    }
  }
}
