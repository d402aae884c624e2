import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// Shared runs (``SharedRun``): which rules get them, and that a matcher with them behaves
/// exactly as the general automaton walk — same matches in the same order, same partial matches
/// (states, starts, bound events) after every step — on random streams.
final class SharedRunTests: XCTestCase {
  private static let typeField = FieldPath(["type"])
  private static let amountField = FieldPath(["amount"])

  private static func isType(_ t: String) -> Expr {
    .binary(.equal, .field(typeField), .constant(.string(t)))
  }

  private static func compile(_ spec: RuleSpec) -> ProgramSet {
    NFACompiler.compile([spec], extraFields: [typeField, amountField])
  }

  private static func program(_ spec: RuleSpec) -> RuleProgram { compile(spec).rules[0] }

  private static func loop(_ quantifier: Quantifier, condition: Expr? = isType("a")) -> StepSpec {
    StepSpec(name: "burst", contiguity: .relaxed, quantifier: quantifier, condition: condition)
  }

  // MARK: - Which rules share runs

  func testDetection() {
    let countSoFar = Expr.aggregate(.count, step: 0, field: nil)
    let cases: [(String, RuleSpec, Bool)] = [
      ("times 10+", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(10))], within: .seconds(60)), true),
      ("one_or_more", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(1))]), true),
      ("no where", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(3), condition: nil)]), true),
      ("any skip", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(2))], skip: .skipToLast(step: 0, name: "burst")), true),
      ("on timeout", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(2))], within: .seconds(5), onTimeout: []), true),
      ("times 3", RuleSpec(name: "r", steps: [Self.loop(.times(3))]), false),
      ("times 2..5", RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: 5))]), false),
      ("consecutive", RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: nil, inner: .strict))]), false),
      (
        "allow_combinations",
        RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: nil, inner: .nonDeterministic))]), false
      ),
      ("greedy", RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: nil, isGreedy: true))]), false),
      ("optional", RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: nil, isOptional: true))]), false),
      ("until", RuleSpec(name: "r", steps: [Self.loop(Quantifier(min: 2, max: nil, until: Self.isType("b")))]), false),
      (
        "reads the run", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(2), condition: .binary(.less, countSoFar, .constant(.int(5)))) ]),
        false
      ),
      (
        "second step",
        RuleSpec(
          name: "r",
          steps: [Self.loop(.timesOrMore(2)), StepSpec(name: "b", contiguity: .relaxed, condition: Self.isType("b"))]),
        false
      ),
      ("within between steps", RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(2))], withinBetweenSteps: .seconds(5)), false),
      ("single event", RuleSpec(name: "r", steps: [Self.loop(.once)]), false),
    ]
    for (name, spec, expected) in cases {
      XCTAssertEqual(RuleMatcher(program: Self.program(spec)).sharesRuns, expected, name)
      XCTAssertFalse(RuleMatcher(program: Self.program(spec), sharingRuns: false).sharesRuns, name)
    }
  }

  // MARK: - Equivalence with the general walk

  private static func side(_ program: RuleProgram, sharing: Bool) -> MatcherHarness {
    MatcherHarness(RuleMatcher(program: program, sharingRuns: sharing))
  }

  private static func randomSpec(_ rng: inout SplitMix64) -> RuleSpec {
    let minimum = Int.random(in: 1...4, using: &rng)
    let within: EventDuration? = Bool.random(using: &rng) ? .seconds(Int64.random(in: 2...20, using: &rng)) : nil
    let skips: [SkipStrategy] = [
      .noSkip, .skipToNext, .skipPastLastEvent, .skipToFirst(step: 0, name: "burst"), .skipToLast(step: 0, name: "burst"),
    ]
    let skip = skips.randomElement(using: &rng)!
    // A condition that reads the event only: its type, sometimes with its amount.
    var condition = isType("a")
    if Bool.random(using: &rng) {
      condition = .and(condition, .binary(.less, .field(amountField), .constant(.int(Int64.random(in: 3...9, using: &rng)))))
    }
    let onTimeout: [EmitField]? = within != nil && Bool.random(using: &rng) ? [] : nil
    return RuleSpec(
      name: "r", steps: [loop(.timesOrMore(minimum), condition: condition)], within: within, skip: skip,
      onTimeout: onTimeout)
  }

  /// Random rules of the shape and random streams (ties, non-matching events, time advancing
  /// between events as watermarks do, state limits dropping the oldest partial matches): both
  /// matchers emit the same matches and hold the same state after every step.
  func testSharedRun_MatchesGeneralWalk_OnRandomStreams() {
    var rng = SplitMix64(seed: 0x5EED_0F_2026)
    for round in 0..<400 {
      let spec = Self.randomSpec(&rng)
      let programs = Self.compile(spec)
      let program = programs.rules[0]
      let run = Self.side(program, sharing: true)
      let general = Self.side(program, sharing: false)
      XCTAssertTrue(run.matcher.sharesRuns, "round \(round): \(spec.steps[0].quantifier)")
      let typeSlot = programs.projection.existingSlot(for: Self.typeField)!.index
      let amountSlot = programs.projection.existingSlot(for: Self.amountField)!.index
      var time: Int64 = 0
      var trail: [String] = []
      func compare(_ what: String) -> Bool {
        let same =
          run.emitted == general.emitted && run.openMatches() == general.openMatches()
          && run.heldMatches() == general.heldMatches() && run.state.isSettled == general.state.isSettled
        if !same {
          XCTFail(
            """
            round \(round) (\(spec.steps[0].quantifier), within \(String(describing: spec.within)), \(spec.skip), \
            timeouts \(spec.onTimeout != nil)) after \(what)
            trail: \(trail.joined(separator: " "))
            run:     \(run.emitted) open \(run.openMatches()) held \(run.heldMatches())
            general: \(general.emitted) open \(general.openMatches()) held \(general.heldMatches())
            """)
        }
        return same
      }
      let events = Int.random(in: 1...60, using: &rng)
      var ok = true
      for sequence in 0..<events where ok {
        // Time moves by 0–3 s (0: ties), and sometimes a watermark passes before the event.
        let step = Int64.random(in: 0...3, using: &rng)
        if step > 0, Int.random(in: 0..<4, using: &rng) == 0 {
          let watermark = EventTime.milliseconds((time + Int64.random(in: 0..<step, using: &rng)) * 1000)
          trail.append("wm\(watermark.nanosecondsSinceEpoch / 1_000_000_000)")
          for side in [run, general] { side.matcher.advanceTime(to: watermark, &side.state, emit: side.record) }
          ok = compare("watermark")
        }
        time += step
        var slots = Array(repeating: Value.null, count: programs.projection.count)
        let type = Int.random(in: 0..<3, using: &rng) == 0 ? "b" : "a"
        slots[typeSlot] = .string(type)
        slots[amountSlot] = .int(Int64.random(in: 0...10, using: &rng))
        let id = "\(type)\(sequence)"
        trail.append("\(id)@\(time)")
        let event = EventRecord(time: .milliseconds(time * 1000), sequence: UInt64(sequence), line: sequence + 1, identity: id, slots: EventSlots(slots))
        for side in [run, general] {
          side.matcher.process(event, &side.state, context: side.context, scratch: side.scratch, emit: side.record)
        }
        if ok { ok = compare("event \(id)") }
        // A state limit dropping the oldest partial matches (as the engine's caps do).
        if ok, run.state.partials.count > 2, Int.random(in: 0..<10, using: &rng) == 0 {
          let n = Int.random(in: 1..<run.state.partials.count, using: &rng)
          trail.append("drop\(n)")
          for side in [run, general] {
            side.state.partials.removeFirst(n)
            side.matcher.releaseHeld(&side.state, emit: side.record)
          }
          ok = compare("dropping \(n)")
        }
        if ok {
          XCTAssertTrue(
            run.state.partials.allSatisfy { $0.bindings.previous == nil },
            "round \(round): a partial match of a shared run binds more than its start event")
        }
      }
      guard ok else { return }
      for side in [run, general] { side.matcher.finish(&side.state, emit: side.record) }
      guard compare("the end of input") else { return }
    }
  }

  /// A checkpoint written by a build without shared runs holds each partial match with its own
  /// chain; ``RuleMatcher/adopt(_:)`` rebuilds it as a run that goes on matching the same.
  func testAdopt_RebuildsGeneralStateAsRun() {
    let spec = RuleSpec(name: "r", steps: [Self.loop(.timesOrMore(4))], within: .seconds(30))
    let programs = Self.compile(spec)
    let general = Self.side(programs.rules[0], sharing: false)
    let run = Self.side(programs.rules[0], sharing: true)
    let typeSlot = programs.projection.existingSlot(for: Self.typeField)!.index
    func event(_ sequence: Int, _ type: String) -> EventRecord {
      var slots = Array(repeating: Value.null, count: programs.projection.count)
      slots[typeSlot] = .string(type)
      return EventRecord(
        time: .milliseconds(Int64(sequence) * 1000), sequence: UInt64(sequence), line: sequence + 1, identity: "\(type)\(sequence)",
        slots: EventSlots(slots))
    }
    for (i, type) in ["a", "b", "a", "a"].enumerated() {
      general.matcher.process(event(i, type), &general.state, context: general.context, scratch: general.scratch, emit: general.record)
    }
    XCTAssertEqual(general.state.partials.count, 3)
    run.state = general.state
    XCTAssertTrue(run.matcher.adopt(&run.state))
    XCTAssertEqual(run.openMatches(), general.openMatches())
    for (i, type) in [(4, "a"), (5, "b"), (6, "a")] {
      for side in [run, general] {
        side.matcher.process(event(i, type), &side.state, context: side.context, scratch: side.scratch, emit: side.record)
      }
    }
    XCTAssertEqual(run.emitted, general.emitted)
    XCTAssertEqual(run.emitted.count, 3)  // a0 a2 a3 a4, then a0…a6 and a2…a6
    XCTAssertEqual(run.openMatches(), general.openMatches())

    // State that is no run of this rule (a partial match whose chain misses events) is refused.
    var broken = general.state
    broken.partials.removeLast()
    broken.partials.append(broken.partials[0])
    XCTAssertFalse(run.matcher.adopt(&broken))
  }
}

extension MatcherHarness {
  /// Each open partial match's bound events, oldest first. In a shared run partial match `i`
  /// binds its start event alone, and its events are the start events of `i` onwards.
  fileprivate func openMatches() -> [String] {
    let partials = state.partials
    return partials.indices.map { i in
      let ids =
        matcher.sharesRuns
        ? partials[i...].map(\.bindings.event.identity) : partials[i].bindings.nodesInOrder.map(\.event.identity)
      return "\(partials[i].state)@\(partials[i].start.sequence): " + ids.joined(separator: " ")
    }
  }

  fileprivate func heldMatches() -> [String] { Self.describe(state.completed) }
}
