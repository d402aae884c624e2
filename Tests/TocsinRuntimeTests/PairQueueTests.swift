import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// Pair queues: an engine that keeps the partial matches of `begin a where A followed_by_any b
/// where B within W` rules (or `followed_by b`, where a match takes its partial match; either
/// after `not_followed_by n`, which stops them) in queues emits exactly what one that keeps them in the general state
/// emits (alerts, state-limit drops), holds the same number of open partial matches after every
/// event, counts the same evaluation errors, and their checkpoints restore into each other.
final class PairQueueTests: XCTestCase {
  private typealias Q = QueueEquivalence

  /// A field of the pair's first event (`a.field`).
  private static func first(_ path: FieldPath) -> Expr { .stepField(step: 0, path) }

  /// What B tests of the pair beyond the event's type: a relation to the first event's fields or
  /// time, or `nil` (none). Some of them hit type or arithmetic errors on some pairs, so the
  /// error counts are compared too.
  private static func randomRelation(_ rng: inout SplitMix64) -> Expr? {
    switch Int.random(in: 0..<12, using: &rng) {
    case 0:
      return .binary(.greater, .field(Q.amount), first(Q.amount))
    case 1:
      // Always true (an event never pairs with itself), but read from the first event.
      return .binary(.notEqual, .field(Q.score), first(Q.score))
    case 2:
      let bound = Int64.random(in: 6...14, using: &rng)
      return .binary(.greater, .binary(.add, .field(Q.amount), first(Q.amount)), .constant(.int(bound)))
    case 3:
      return .binary(.equal, first(Q.amount), .field(Q.amount))
    case 4:
      // Only pairs a few events apart (scores are sequence numbers).
      let gap = Int64.random(in: 1...8, using: &rng)
      return .binary(.lessOrEqual, .binary(.subtract, .field(Q.score), first(Q.score)), .constant(.int(gap)))
    case 5:
      // `time() - time(a) < D`: a duration compared with a duration constant.
      let gap = EventDuration.milliseconds(500 * Int64.random(in: 1...12, using: &rng))
      return .binary(.less, .binary(.subtract, .eventTime, .stepTime(step: 0)), .constant(.duration(gap)))
    case 6:
      // `amount > 6 and a.user < amount` compares a string with an int (a type error, and false)
      // whenever the left side holds; the `or` still lets other pairs match.
      return .or(
        .and(.binary(.greater, .field(Q.amount), .constant(.int(6))), .binary(.less, first(Q.user), .field(Q.amount))),
        .binary(.less, .field(Q.amount), first(Q.amount)))
    case 7:
      // Division by `a.amount`, which is 0 on some events (an arithmetic error, and false).
      return .binary(.greaterOrEqual, .binary(.divide, .field(Q.amount), first(Q.amount)), .constant(.int(1)))
    case 8:
      // The partition key, as text.
      return .and(.binary(.equal, first(Q.user), .key), .binary(.notEqual, .key, .constant(.string("u1"))))
    case 9:
      // A call and a negation: `not abs(amount - a.amount) > k`.
      let bound = Int64.random(in: 0...3, using: &rng)
      return .not(
        .binary(.greater, .call(.abs, [.binary(.subtract, .field(Q.amount), first(Q.amount))]), .constant(.int(bound))))
    case 10:
      // Reads nothing of `a` (so the general walk evaluates it once per event) and hits a type
      // error each time: `user < amount or amount > 5`.
      return .or(.binary(.less, .field(Q.user), .field(Q.amount)), .binary(.greater, .field(Q.amount), .constant(.int(5))))
    default:
      return nil
    }
  }

  /// The condition of a `not_followed_by` step between the pair's two: `c` events, alone
  /// (reading nothing of `a`), with a relation to `a`, or one that hits a type error; rarely
  /// none (every event stops the key's partial matches).
  private static func randomNegation(_ rng: inout SplitMix64) -> Expr? {
    switch Int.random(in: 0..<7, using: &rng) {
    case 0, 1: return Q.isType("c")
    case 2: return .and(Q.isType("c"), .binary(.lessOrEqual, .field(Q.amount), first(Q.amount)))
    case 3: return .binary(.equal, .field(Q.amount), first(Q.amount))
    case 4: return .or(.binary(.less, first(Q.user), .field(Q.amount)), Q.isType("c"))
    case 5: return .and(Q.isType("b"), .binary(.greater, .field(Q.amount), .constant(.int(8))))
    default: return nil
    }
  }

  /// A pair-shaped rule: `begin a where A followed_by_any b where B within W` (or `followed_by`),
  /// sometimes with `not_followed_by n where N` between the two, keyed by user, whose B reads
  /// the first event, and alerts that read both events.
  private static func randomPairSpec(_ rng: inout SplitMix64, name: String = "r") -> RuleSpec {
    let negation: Expr?? = Int.random(in: 0..<3, using: &rng) == 0 ? .some(randomNegation(&rng)) : .none
    // The second event's step.
    let second = negation == nil ? 1 : 2
    var a: Expr? = Q.isType("a")
    if Bool.random(using: &rng) {
      a = .and(Q.isType("a"), .binary(.less, .field(Q.amount), .constant(.int(Int64.random(in: 3...9, using: &rng)))))
    }
    // Rarely every event starts a partial match.
    if Int.random(in: 0..<16, using: &rng) == 0 { a = nil }
    // B's type test: `b` events only, or also `a` events (so an event can both complete matches
    // and start one), or none.
    let typeTest: Expr?
    switch Int.random(in: 0..<4, using: &rng) {
    case 0, 1: typeTest = Q.isType("b")
    case 2: typeTest = .binary(.notEqual, .field(Q.type), .constant(.string("c")))
    default: typeTest = nil
    }
    let b: Expr?
    switch (typeTest, randomRelation(&rng)) {
    case (let t?, let r?): b = .and(t, r)
    case (let t?, nil): b = t
    case (nil, let r?): b = r
    case (nil, nil): b = nil
    }

    var emit: [EmitField] = []
    if Bool.random(using: &rng) { emit.append(EmitField(name: "first", value: first(Q.amount))) }
    switch Int.random(in: 0..<3, using: &rng) {
    case 0: emit.append(EmitField(name: "last", value: .stepField(step: second, Q.amount)))
    case 1: emit.append(EmitField(name: "last", value: .field(Q.amount)))
    default: break
    }
    if Bool.random(using: &rng) { emit.append(EmitField(name: "who", value: .key)) }
    // Aggregates are allowed in `emit` (not in B).
    switch Int.random(in: 0..<4, using: &rng) {
    case 0: emit.append(EmitField(name: "n", value: .aggregate(.count, step: 0, field: nil)))
    case 1: emit.append(EmitField(name: "total", value: .aggregate(.sum, step: 0, field: Q.amount)))
    default: break
    }
    if Int.random(in: 0..<3, using: &rng) == 0 {
      emit.append(EmitField(name: "score", value: Bool.random(using: &rng) ? .field(Q.score) : first(Q.score)))
    }
    if Int.random(in: 0..<4, using: &rng) == 0 {
      emit.append(EmitField(name: "gap", value: .binary(.subtract, .eventTime, .stepTime(step: 0))))
    }
    if Int.random(in: 0..<4, using: &rng) == 0 { emit.append(EmitField(name: "opener", value: first(Q.user))) }
    // Sometimes a type error in every alert (`a.user + amount`).
    if Int.random(in: 0..<8, using: &rng) == 0 {
      emit.append(EmitField(name: "bad", value: .binary(.add, first(Q.user), .field(Q.amount))))
    }

    var suppression: SuppressionSpec? = nil
    if Int.random(in: 0..<3, using: &rng) == 0 {
      let keys: [Expr?] = [nil, .field(Q.amount), first(Q.amount)]
      suppression = SuppressionSpec(
        duration: .seconds(Int64.random(in: 1...6, using: &rng)), key: keys.randomElement(using: &rng)!)
    }
    // `skip to_next` keeps the pair shape when B reads nothing of `a` (and nothing is between).
    let skip: SkipStrategy =
      negation == nil && !(b?.readsBindings ?? false) && Int.random(in: 0..<3, using: &rng) == 0 ? .skipToNext : .noSkip
    return RuleSpec(
      name: name, keyFields: [Q.user],
      steps: [StepSpec(name: "a", condition: a)]
        + (negation.map { [StepSpec(name: "n", kind: .notFollowedBy, contiguity: .relaxed, condition: $0)] } ?? [])
        + [StepSpec(name: "b", contiguity: Self.randomContiguity(&rng, negation: negation != nil), condition: b)],
      within: .seconds(Int64.random(in: 2...20, using: &rng)), skip: skip, emit: emit, suppression: suppression)
  }

  /// The second step's contiguity: `followed_by_any`, `followed_by`, or (without a negation
  /// between the two) `next`.
  private static func randomContiguity(_ rng: inout SplitMix64, negation: Bool) -> Contiguity {
    let choices: [Contiguity] = negation ? [.nonDeterministic, .relaxed] : [.nonDeterministic, .relaxed, .strict]
    return choices.randomElement(using: &rng)!
  }

  /// A pair rule changed so that no pair queue may hold it (it stays in the general state): a
  /// second step that loops, a skip strategy, or time-outs that emit.
  private static func ineligible(_ spec: RuleSpec, _ rng: inout SplitMix64) -> RuleSpec {
    var spec = spec
    switch Int.random(in: 1..<5, using: &rng) {
    case 1: spec.steps[spec.steps.count - 1].quantifier = .timesOrMore(2)
    case 2: spec.skip = .skipPastLastEvent
    case 3: spec.skip = .skipToFirst(step: 0, name: "a")
    default: spec.onTimeout = [EmitField(name: "opened", value: first(Q.amount))]
    }
    return spec
  }

  /// Whether a run queue holds a velocity rule (its skip drops a key's partial matches from the
  /// oldest end only).
  private static func runQueued(_ spec: RuleSpec) -> Bool {
    switch spec.skip {
    case .noSkip, .skipToNext, .skipPastLastEvent: return true
    default: return false
    }
  }

  /// A rule's pattern as text, for failure messages.
  private static func shape(_ spec: RuleSpec) -> String {
    let names = spec.steps.map(\.name)
    let steps = spec.steps.map { step in
      "\(step.name) \(step.kind) \(step.contiguity) \(step.quantifier) where \(step.condition?.rendered(stepNames: names) ?? "-")"
    }
    let timeout = spec.onTimeout == nil ? "" : " on timeout"
    return "\(spec.name): \(steps.joined(separator: "; ")) within \(spec.within.map { "\($0)" } ?? "-") \(spec.skip)\(timeout)"
  }

  func testPairQueues_MatchTheGeneralState_OnRandomStreams() throws {
    var rng = SplitMix64(seed: 0x0_0A12_2026)
    var tally = QueueEquivalence.Tally()
    for round in 0..<300 {
      // A pair rule, and sometimes a second rule of the same key space: another pair queue, a
      // run queue, or the general state, sharing the keys' open masks; in either order.
      var specs = [Self.randomPairSpec(&rng)]
      var pairs = 1
      var runQueues = 0
      switch Int.random(in: 0..<6, using: &rng) {
      case 0:
        specs.append(Self.randomPairSpec(&rng, name: "s"))
        pairs += 1
      case 1:
        specs.append(Q.randomVelocitySpec(&rng, name: "s"))
        if Self.runQueued(specs[1]) { runQueues += 1 }
      case 2:
        let other = Self.randomPairSpec(&rng, name: "s")
        specs.append(Self.ineligible(other, &rng))
      default:
        break
      }
      if specs.count == 2 && Bool.random(using: &rng) { specs.swapAt(0, 1) }
      let programs = NFACompiler.compile(specs, extraFields: QueueEquivalence.fields)
      let options = QueueEquivalence.randomOptions(&rng)
      var plainOptions = options
      plainOptions.queuesPairs = false
      plainOptions.queuesSharedRuns = false
      let plain = Engine(programs: programs, options: plainOptions)
      XCTAssertEqual(plain.pairQueues, 0)
      XCTAssertEqual(plain.runQueues, 0)
      let shapes = specs.map(Self.shape).joined(separator: " | ")
      let queued = Engine(programs: programs, options: options)
      XCTAssertEqual(queued.pairQueues, pairs, "round \(round): \(shapes)")
      // Run queues count velocity rules only.
      XCTAssertEqual(queued.runQueues, runQueues, "round \(round): \(shapes)")
      // `c` events (in some rounds) are neither a first nor, for most B, a second event.
      let kinds = Bool.random(using: &rng) ? ["a", "a", "a", "b", "b", "c", "c"] : ["a", "a", "a", "b", "b"]
      let label = """
        round \(round) (\(shapes); cap \(options.limits.maxPartialsPerKey), \
        ttl \(options.limits.keyTTL.map { "\($0)" } ?? "-"))
        """
      let ok = try QueueEquivalence.replay(
        programs, rules: specs.count, options: options, plainOptions: plainOptions, kinds: kinds, label: label,
        rng: &rng, tally: &tally
      ) { fromQueued, fromPlain in
        XCTAssertEqual(fromQueued.pairQueues, 0, "round \(round): restored into the general state")
        XCTAssertEqual(fromPlain.pairQueues, pairs, "round \(round): restored into queues")
      }
      guard ok else { return }
    }
    // The comparison means something only if pair queues matched, were capped and timed out,
    // and evaluated conditions into errors.
    // (Seen at this seed: 8,504 alerts, 453 cap drops, 654 TTL drops, 3,429 type errors, 105
    // arithmetic errors; 1,813 walks left out by filters.)
    XCTAssertGreaterThan(tally.alerts, 4000)
    XCTAssertGreaterThan(tally.capDrops, 150)
    XCTAssertGreaterThan(tally.ttlDrops, 300)
    XCTAssertGreaterThan(tally.typeErrors, 1500)
    XCTAssertGreaterThan(tally.arithmeticErrors, 50)
  }

  /// A condition of 2–4 conjuncts in random order, for the pair filters (``PairFilter``):
  /// conjuncts that read nothing of `a` (some of them erring: a type error, a division by zero),
  /// comparisons with `a` by `==`/`!=` that the filter checks (erring whenever the kinds of the
  /// `mixed` field differ), and relations to `a` it cannot check, which end what it may use.
  private static func randomConjunction(_ rng: inout SplitMix64) -> Expr {
    let mixed = Q.mixed
    let k = Int64.random(in: 3...8, using: &rng)
    let free: [Expr] = [
      Q.isType("b"),
      .binary(.greater, .field(Q.amount), .constant(.int(k))),
      .binary(.less, .field(Q.amount), .constant(.int(k))),
      .binary(.equal, .field(mixed), .constant(.int(2))),
      .binary(.less, .field(Q.user), .field(Q.amount)),
      .binary(.greaterOrEqual, .binary(.divide, .field(Q.amount), .binary(.subtract, .field(Q.amount), .constant(.int(5)))), .constant(.int(0))),
      .binary(.notEqual, .field(mixed), .constant(.string("x"))),
    ]
    let checked: [Expr] = [
      .binary(.notEqual, .field(mixed), first(mixed)),
      .binary(.equal, first(mixed), .field(mixed)),
      .binary(.equal, .field(Q.amount), first(Q.amount)),
      .binary(.notEqual, first(Q.user), .field(Q.user)),
      .binary(.equal, .constant(.string("x")), first(mixed)),
      .binary(.notEqual, .field(Q.type), first(Q.type)),
      .binary(.equal, first(mixed), .field(Q.amount)),
    ]
    let opaque: [Expr] = [
      .binary(.greater, .field(Q.amount), first(Q.amount)),
      .binary(.less, first(mixed), .field(mixed)),
      .binary(.lessOrEqual, .binary(.subtract, .field(Q.score), first(Q.score)), .constant(.int(4))),
    ]
    var conjuncts: [Expr] = []
    for _ in 0..<Int.random(in: 2...4, using: &rng) {
      switch Int.random(in: 0..<8, using: &rng) {
      case 0...3: conjuncts.append(free.randomElement(using: &rng)!)
      case 4...6: conjuncts.append(checked.randomElement(using: &rng)!)
      default: conjuncts.append(opaque.randomElement(using: &rng)!)
      }
    }
    // `and` nests either way; the filter reads the conjuncts left to right.
    if Bool.random(using: &rng) { return conjuncts.dropFirst().reduce(conjuncts[0]) { .and($0, $1) } }
    return conjuncts.dropLast().reversed().reduce(conjuncts[conjuncts.count - 1]) { .and($1, $0) }
  }

  /// Pair filters: rules whose second step (and sometimes negation) is a random conjunction
  /// (``randomConjunction(_:)``) against the general state, as the test above: the filter leaves
  /// a walk out only when the general walk would emit nothing and count no error.
  func testPairFilters_MatchTheGeneralState_OnRandomStreams() throws {
    var rng = SplitMix64(seed: 0x0_F117_2026)
    var tally = QueueEquivalence.Tally()
    for round in 0..<250 {
      let negation: Expr?? = Int.random(in: 0..<3, using: &rng) == 0 ? .some(Self.randomConjunction(&rng)) : .none
      let second = negation == nil ? 1 : 2
      var emit = [EmitField(name: "first", value: Self.first(Q.amount)), EmitField(name: "last", value: .field(Q.amount))]
      if Bool.random(using: &rng) { emit.append(EmitField(name: "was", value: Self.first(Q.mixed))) }
      if Bool.random(using: &rng) { emit.append(EmitField(name: "is", value: .stepField(step: second, Q.mixed))) }
      let spec = RuleSpec(
        name: "r", keyFields: [Q.user],
        steps: [StepSpec(name: "a", condition: Bool.random(using: &rng) ? Q.isType("a") : nil)]
          + (negation.map { [StepSpec(name: "n", kind: .notFollowedBy, contiguity: .relaxed, condition: $0)] } ?? [])
          + [
            StepSpec(
              name: "b", contiguity: Self.randomContiguity(&rng, negation: negation != nil),
              condition: Self.randomConjunction(&rng))
          ],
        within: .seconds(Int64.random(in: 2...20, using: &rng)), emit: emit)
      let programs = NFACompiler.compile([spec], extraFields: QueueEquivalence.fields + [Q.mixed])
      let options = QueueEquivalence.randomOptions(&rng)
      var plainOptions = options
      plainOptions.queuesPairs = false
      let shape = Self.shape(spec)
      XCTAssertEqual(Engine(programs: programs, options: options).pairQueues, 1, "round \(round): \(shape)")
      let kinds = Bool.random(using: &rng) ? ["a", "a", "a", "b", "b", "c", "c"] : ["a", "a", "b", "b", "b"]
      let ok = try QueueEquivalence.replay(
        programs, rules: 1, options: options, plainOptions: plainOptions, kinds: kinds,
        label: "round \(round) (\(shape); cap \(options.limits.maxPartialsPerKey))", rng: &rng, tally: &tally
      ) { _, _ in }
      guard ok else { return }
    }
    // The comparison means something only if filters left walks out while conditions erred.
    // (Seen at this seed: 1,158 walks left out, 766 alerts, 11,370 type errors, 237 arithmetic
    // errors.)
    XCTAssertGreaterThan(tally.filteredWalks, 800)
    XCTAssertGreaterThan(tally.alerts, 400)
    XCTAssertGreaterThan(tally.typeErrors, 6000)
    XCTAssertGreaterThan(tally.arithmeticErrors, 100)
  }

  /// A key whose partial matches keep ending (a bot logging in and out, under "a login, no
  /// logout, then a large purchase") walks only its live entries: the ended ones of its window
  /// are out of its chain. Before they were taken out, every event walked all of them (100k
  /// events of one key: 8.65 s; now 0.06 s, as the general state).
  func testEndedEntriesAreNotWalkedAgain() {
    let spec = RuleSpec(
      name: "r", keyFields: [Q.user],
      steps: [
        StepSpec(name: "a", condition: Q.isType("a")),
        StepSpec(name: "n", kind: .notFollowedBy, contiguity: .relaxed, condition: Q.isType("c")),
        StepSpec(
          name: "b", contiguity: .relaxed,
          condition: .and(Q.isType("b"), .binary(.greater, .field(Q.amount), .stepField(step: 0, Q.amount)))),
      ],
      within: .hours(1))
    let programs = NFACompiler.compile([spec], extraFields: QueueEquivalence.fields)
    let engine = Engine(programs: programs, options: EngineOptions(outOfOrderness: .zero, maxTimeSkew: nil))
    XCTAssertEqual(engine.pairQueues, 1)
    let events = 4000
    var actions: [EngineAction] = []
    for i in 0..<events {
      var values = Array(repeating: Value.null, count: programs.projection.count)
      // a, c, a, c, …: each `c` ends the `a` before it, and the window holds them all.
      values[programs.projection.existingSlot(for: Q.type)!.index] = .string(i % 2 == 0 ? "a" : "c")
      values[programs.projection.existingSlot(for: Q.user)!.index] = .string("bot")
      values[programs.projection.existingSlot(for: Q.amount)!.index] = .int(1)
      engine.eventArrived(
        EventRecord(time: .milliseconds(Int64(i)), sequence: UInt64(i), line: i + 1, identity: "e\(i)", slots: EventSlots(values)),
        into: &actions)
    }
    XCTAssertEqual(engine.openPartialMatches, 1)
    // One live entry per walk (the `a` before each `c`); with the ended ones walked, ~events²/8.
    XCTAssertLessThanOrEqual(engine.pairEntriesWalked, events)
    XCTAssertGreaterThan(engine.pairEntriesWalked, events / 4)
  }

  /// A keyed two-step rule for the table of `testWhichRulesArePaired`.
  private static func pair(
    _ steps: [StepSpec], within: EventDuration? = .seconds(60), skip: SkipStrategy = .noSkip, onTimeout: [EmitField]? = nil
  ) -> RuleSpec {
    RuleSpec(name: "r", keyFields: [Q.user], steps: steps, within: within, skip: skip, onTimeout: onTimeout)
  }

  /// A second step `b` for the table of `testWhichRulesArePaired`.
  private static func second(
    kind: StepKind = .take, _ contiguity: Contiguity = .nonDeterministic, quantifier: Quantifier = .once,
    condition: Expr? = Q.isType("b")
  ) -> StepSpec {
    StepSpec(name: "b", kind: kind, contiguity: contiguity, quantifier: quantifier, condition: condition)
  }

  /// A `not_followed_by` step `n` for the table of `testWhichRulesArePaired`.
  private static func between(
    _ name: String = "n", kind: StepKind = .notFollowedBy, _ contiguity: Contiguity = .relaxed,
    condition: Expr? = Q.isType("c")
  ) -> StepSpec {
    StepSpec(name: name, kind: kind, contiguity: contiguity, condition: condition)
  }

  /// Which rules get a pair queue: `begin a where A followed_by_any b where B within W` (or
  /// `followed_by b`), with at most one `not_followed_by` step between the two, no skip
  /// strategy, no time-out alerts, singleton steps, and no state budget (whose bookkeeping reads
  /// the general state). No condition is required; an idle-key TTL is allowed.
  func testWhichRulesArePaired() {
    let a = StepSpec(name: "a", condition: Q.isType("a"))
    let b = StepSpec(
      name: "b", contiguity: .nonDeterministic,
      condition: .and(Q.isType("b"), .binary(.greater, .field(Q.amount), .stepField(step: 0, Q.amount))))
    let third = StepSpec(name: "c", contiguity: .nonDeterministic, condition: Q.isType("c"))
    let loop = StepSpec(name: "a", quantifier: .timesOrMore(2), condition: Q.isType("a"))
    let optionalOnce = Quantifier(min: 1, max: 1, isOptional: true)
    var overGap = Self.pair([a, b])
    overGap.within = nil
    overGap.withinBetweenSteps = .seconds(60)
    var grouped = Self.pair([a, b])
    grouped.groups = [GroupSpec(range: 0..<2, contiguity: .relaxed, quantifier: .times(2))]
    let cases: [(String, RuleSpec, StateLimits, Bool)] = [
      ("W5 shape", Self.pair([a, b]), StateLimits(), true),
      ("no window", Self.pair([a, b], within: nil), StateLimits(), false),
      ("within between steps", overGap, StateLimits(), false),
      ("on timeout emit", Self.pair([a, b], onTimeout: []), StateLimits(), false),
      ("followed_by", Self.pair([a, Self.second(.relaxed)]), StateLimits(), true),
      ("next", Self.pair([a, Self.second(.strict)]), StateLimits(), true),
      ("skip past_last_event", Self.pair([a, b], skip: .skipPastLastEvent), StateLimits(), false),
      ("skip to_next, B reads a", Self.pair([a, b], skip: .skipToNext), StateLimits(), false),
      ("skip to_next, B reads only the event", Self.pair([a, Self.second()], skip: .skipToNext), StateLimits(), true),
      ("skip to_next, followed_by", Self.pair([a, Self.second(.relaxed)], skip: .skipToNext), StateLimits(), true),
      ("skip to_next, not_followed_by between", Self.pair([a, Self.between(), Self.second()], skip: .skipToNext), StateLimits(), false),
      ("skip to_first", Self.pair([a, Self.second()], skip: .skipToFirst(step: 0, name: "a")), StateLimits(), false),
      ("state budget", Self.pair([a, b]), StateLimits(maxStateBytes: 1 << 30), false),
      ("key TTL", Self.pair([a, b]), StateLimits(keyTTL: .hours(1)), true),
      ("per-key cap", Self.pair([a, b]), StateLimits(maxPartialsPerKey: 5), true),
      ("three steps", Self.pair([a, b, third]), StateLimits(), false),
      ("second step times 2+", Self.pair([a, Self.second(quantifier: .timesOrMore(2))]), StateLimits(), false),
      ("second step optional", Self.pair([a, Self.second(quantifier: optionalOnce)]), StateLimits(), false),
      ("first step times 2+", Self.pair([loop, b]), StateLimits(), false),
      ("grouped", grouped, StateLimits(), false),
      ("begin without where", Self.pair([StepSpec(name: "a"), b]), StateLimits(), true),
      ("second step without where", Self.pair([a, Self.second(condition: nil)]), StateLimits(), true),
      ("not_followed_by", Self.pair([a, Self.second(kind: .notFollowedBy, .relaxed)]), StateLimits(), false),
      ("not_followed_by between", Self.pair([a, Self.between(), b]), StateLimits(), true),
      ("not_followed_by between, then followed_by", Self.pair([a, Self.between(), Self.second(.relaxed)]), StateLimits(), true),
      ("not_followed_by between, no where", Self.pair([a, Self.between(condition: nil), b]), StateLimits(), true),
      ("not_next between", Self.pair([a, Self.between(kind: .notNext, .strict), b]), StateLimits(), false),
      ("not_followed_by between, then next", Self.pair([a, Self.between(), Self.second(.strict)]), StateLimits(), false),
      ("two negations", Self.pair([a, Self.between(), Self.between("m"), b]), StateLimits(), false),
      ("one step", Self.pair([a]), StateLimits(), false),
    ]
    for (name, spec, limits, expected) in cases {
      var options = EngineOptions()
      options.limits = limits
      let programs = NFACompiler.compile([spec], extraFields: [Q.type, Q.amount])
      let engine = Engine(programs: programs, options: options)
      XCTAssertEqual(engine.pairQueues, expected ? 1 : 0, name)
      // A pair queue is not a run queue.
      if expected { XCTAssertEqual(engine.runQueues, 0, name) }
      options.queuesPairs = false
      XCTAssertEqual(Engine(programs: programs, options: options).pairQueues, 0, name)
    }
  }
}
