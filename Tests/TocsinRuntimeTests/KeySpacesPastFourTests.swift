import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// Rule sets with more key spaces than an event carries ids for in its packed form
/// (``FourKeyIDs``: the first four): the rules of the fifth and later spaces see the events they
/// would see alone, whether keys are deferred or not, with each space's key present in some
/// events and missing in others.
final class KeySpacesPastFourTests: XCTestCase {
  private static let spaces = 6
  private let type = FieldPath(["type"])
  private let fields = (0..<KeySpacesPastFourTests.spaces).map { FieldPath(["k\($0)"]) }

  private func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  /// Rule `i`: `a` then `b` for one key of field `k<i>` within 10 s; every third rule lets any
  /// later `b` complete it (`followed_by_any`), so that a key holds several partial matches.
  private func rule(_ i: Int) -> RuleSpec {
    RuleSpec(
      name: "r\(i)", keyFields: [fields[i]],
      steps: [
        StepSpec(name: "a", condition: isType("a")),
        StepSpec(name: "b", contiguity: i % 3 == 2 ? .nonDeterministic : .relaxed, condition: isType("b")),
      ],
      within: .seconds(10))
  }

  /// 6,000 events of types `a`, `b` and `x`; each key field present in three events of five,
  /// with one of 12 values; times jittered within the out-of-orderness bound.
  private func events() -> [EventRecord] {
    var rng = SplitMix64(seed: 11)
    return (0..<6_000).map { i in
      let t = ["a", "b", "b", "x"][Int(rng.next() % 4)]
      var slots: [Value] = [.string(t)]
      for _ in 0..<Self.spaces {
        slots.append(rng.next() % 5 < 3 ? .string("v\(rng.next() % 12)") : .null)
      }
      let ms = Int64(i) * 100 + Int64(rng.next() % 3_000)
      return EventRecord(
        time: .milliseconds(ms), sequence: UInt64(i), line: i + 1, identity: "e\(i)", slots: EventSlots(slots))
    }
  }

  /// The actions of `rules` over `events`, as text.
  private func run(_ rules: [RuleSpec], defers: Bool, _ events: [EventRecord]) -> [String] {
    let programs = NFACompiler.compile(rules, extraFields: [type] + fields)
    var options = EngineOptions(outOfOrderness: .seconds(5))
    options.defersKeys = defers
    let engine = Engine(programs: programs, options: options)
    var actions: [EngineAction] = []
    for event in events { engine.eventArrived(event, into: &actions) }
    engine.finish(into: &actions)
    return QueueEquivalence.describe(actions)
  }

  func testEachRuleAlertsAsItDoesAlone() {
    let events = events()
    let rules = (0..<Self.spaces).map(rule)
    for defers in [false, true] {
      let together = run(rules, defers: defers, events)
      for i in rules.indices {
        let alone = run([rules[i]], defers: defers, events).filter { $0.hasPrefix("alert ") }
        let mine = together.filter { $0.hasPrefix("alert r\(i) ") }
        XCTAssertGreaterThan(alone.count, 20, "rule \(i) alerts")
        XCTAssertEqual(mine, alone, "rule \(i) (key space \(i)), deferring: \(defers)")
      }
      // An event without any of the six keys is the only one reported missing.
      let missing = together.filter { $0.hasPrefix("missing ") }
      let expected = events.filter { e in (1...Self.spaces).allSatisfy { e.slots[$0].isNull } }.map { "missing \($0.identity)" }
      XCTAssertEqual(missing, expected, "deferring: \(defers)")
    }
  }

  func testDeferringChangesNothing() {
    let events = events()
    let rules = (0..<Self.spaces).map(rule)
    XCTAssertEqual(run(rules, defers: true, events), run(rules, defers: false, events))
  }
}
