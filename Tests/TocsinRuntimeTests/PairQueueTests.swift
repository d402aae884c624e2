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
  private static let type = FieldPath(["type"])
  private static let amount = FieldPath(["amount"])
  private static let user = FieldPath(["user"])
  private static let score = FieldPath(["score"])

  private static func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  /// A field of the pair's first event (`a.field`).
  private static func first(_ path: FieldPath) -> Expr { .stepField(step: 0, path) }

  /// What B tests of the pair beyond the event's type: a relation to the first event's fields or
  /// time, or `nil` (none). Some of them hit type or arithmetic errors on some pairs, so the
  /// error counts are compared too.
  private static func randomRelation(_ rng: inout SplitMix64) -> Expr? {
    switch Int.random(in: 0..<12, using: &rng) {
    case 0:
      return .binary(.greater, .field(amount), first(amount))
    case 1:
      // Always true (an event never pairs with itself), but read from the first event.
      return .binary(.notEqual, .field(score), first(score))
    case 2:
      let bound = Int64.random(in: 6...14, using: &rng)
      return .binary(.greater, .binary(.add, .field(amount), first(amount)), .constant(.int(bound)))
    case 3:
      return .binary(.equal, first(amount), .field(amount))
    case 4:
      // Only pairs a few events apart (scores are sequence numbers).
      let gap = Int64.random(in: 1...8, using: &rng)
      return .binary(.lessOrEqual, .binary(.subtract, .field(score), first(score)), .constant(.int(gap)))
    case 5:
      // `time() - time(a) < D`: a duration compared with a duration constant.
      let gap = EventDuration.milliseconds(500 * Int64.random(in: 1...12, using: &rng))
      return .binary(.less, .binary(.subtract, .eventTime, .stepTime(step: 0)), .constant(.duration(gap)))
    case 6:
      // `amount > 6 and a.user < amount` compares a string with an int (a type error, and false)
      // whenever the left side holds; the `or` still lets other pairs match.
      return .or(
        .and(.binary(.greater, .field(amount), .constant(.int(6))), .binary(.less, first(user), .field(amount))),
        .binary(.less, .field(amount), first(amount)))
    case 7:
      // Division by `a.amount`, which is 0 on some events (an arithmetic error, and false).
      return .binary(.greaterOrEqual, .binary(.divide, .field(amount), first(amount)), .constant(.int(1)))
    case 8:
      // The partition key, as text.
      return .and(.binary(.equal, first(user), .key), .binary(.notEqual, .key, .constant(.string("u1"))))
    case 9:
      // A call and a negation: `not abs(amount - a.amount) > k`.
      let bound = Int64.random(in: 0...3, using: &rng)
      return .not(
        .binary(.greater, .call(.abs, [.binary(.subtract, .field(amount), first(amount))]), .constant(.int(bound))))
    case 10:
      // Reads nothing of `a` (so the general walk evaluates it once per event) and hits a type
      // error each time: `user < amount or amount > 5`.
      return .or(.binary(.less, .field(user), .field(amount)), .binary(.greater, .field(amount), .constant(.int(5))))
    default:
      return nil
    }
  }

  /// The condition of a `not_followed_by` step between the pair's two: `c` events, alone
  /// (reading nothing of `a`), with a relation to `a`, or one that hits a type error; rarely
  /// none (every event stops the key's partial matches).
  private static func randomNegation(_ rng: inout SplitMix64) -> Expr? {
    switch Int.random(in: 0..<7, using: &rng) {
    case 0, 1: return isType("c")
    case 2: return .and(isType("c"), .binary(.lessOrEqual, .field(amount), first(amount)))
    case 3: return .binary(.equal, .field(amount), first(amount))
    case 4: return .or(.binary(.less, first(user), .field(amount)), isType("c"))
    case 5: return .and(isType("b"), .binary(.greater, .field(amount), .constant(.int(8))))
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
    var a: Expr? = isType("a")
    if Bool.random(using: &rng) {
      a = .and(isType("a"), .binary(.less, .field(amount), .constant(.int(Int64.random(in: 3...9, using: &rng)))))
    }
    // Rarely every event starts a partial match.
    if Int.random(in: 0..<16, using: &rng) == 0 { a = nil }
    // B's type test: `b` events only, or also `a` events (so an event can both complete matches
    // and start one), or none.
    let typeTest: Expr?
    switch Int.random(in: 0..<4, using: &rng) {
    case 0, 1: typeTest = isType("b")
    case 2: typeTest = .binary(.notEqual, .field(type), .constant(.string("c")))
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
    if Bool.random(using: &rng) { emit.append(EmitField(name: "first", value: first(amount))) }
    switch Int.random(in: 0..<3, using: &rng) {
    case 0: emit.append(EmitField(name: "last", value: .stepField(step: second, amount)))
    case 1: emit.append(EmitField(name: "last", value: .field(amount)))
    default: break
    }
    if Bool.random(using: &rng) { emit.append(EmitField(name: "who", value: .key)) }
    // Aggregates are allowed in `emit` (not in B).
    switch Int.random(in: 0..<4, using: &rng) {
    case 0: emit.append(EmitField(name: "n", value: .aggregate(.count, step: 0, field: nil)))
    case 1: emit.append(EmitField(name: "total", value: .aggregate(.sum, step: 0, field: amount)))
    default: break
    }
    if Int.random(in: 0..<3, using: &rng) == 0 {
      emit.append(EmitField(name: "score", value: Bool.random(using: &rng) ? .field(score) : first(score)))
    }
    if Int.random(in: 0..<4, using: &rng) == 0 {
      emit.append(EmitField(name: "gap", value: .binary(.subtract, .eventTime, .stepTime(step: 0))))
    }
    if Int.random(in: 0..<4, using: &rng) == 0 { emit.append(EmitField(name: "opener", value: first(user))) }
    // Sometimes a type error in every alert (`a.user + amount`).
    if Int.random(in: 0..<8, using: &rng) == 0 {
      emit.append(EmitField(name: "bad", value: .binary(.add, first(user), .field(amount))))
    }

    var suppression: SuppressionSpec? = nil
    if Int.random(in: 0..<3, using: &rng) == 0 {
      let keys: [Expr?] = [nil, .field(amount), first(amount)]
      suppression = SuppressionSpec(
        duration: .seconds(Int64.random(in: 1...6, using: &rng)), key: keys.randomElement(using: &rng)!)
    }
    return RuleSpec(
      name: name, keyFields: [user],
      steps: [StepSpec(name: "a", condition: a)]
        + (negation.map { [StepSpec(name: "n", kind: .notFollowedBy, contiguity: .relaxed, condition: $0)] } ?? [])
        + [StepSpec(name: "b", contiguity: Bool.random(using: &rng) ? .nonDeterministic : .relaxed, condition: b)],
      within: .seconds(Int64.random(in: 2...20, using: &rng)), emit: emit, suppression: suppression)
  }

  /// A pair rule changed so that no pair queue may hold it (it stays in the general state):
  /// strict contiguity, a skip strategy, or time-outs that emit.
  private static func ineligible(_ spec: RuleSpec, _ rng: inout SplitMix64) -> RuleSpec {
    var spec = spec
    switch Int.random(in: 1..<5, using: &rng) {
    case 1: spec.steps[spec.steps.count - 1].contiguity = .strict
    case 2: spec.skip = .skipPastLastEvent
    case 3: spec.skip = .skipToNext
    default: spec.onTimeout = [EmitField(name: "opened", value: first(amount))]
    }
    return spec
  }

  /// A velocity-shaped rule (as `RunQueueTests` draws them): `times N+` of `a` events per user,
  /// within a window, one of the five skip strategies.
  private static func randomVelocitySpec(_ rng: inout SplitMix64, name: String) -> RuleSpec {
    let skips: [SkipStrategy] = [
      .noSkip, .skipToNext, .skipPastLastEvent, .skipToFirst(step: 0, name: "burst"), .skipToLast(step: 0, name: "burst"),
    ]
    var condition = isType("a")
    if Bool.random(using: &rng) {
      condition = .and(condition, .binary(.less, .field(amount), .constant(.int(Int64.random(in: 3...9, using: &rng)))))
    }
    var emit = [EmitField(name: "n", value: .aggregate(.count, step: 0, field: nil))]
    if Bool.random(using: &rng) { emit.append(EmitField(name: "total", value: .aggregate(.sum, step: 0, field: amount))) }
    if Bool.random(using: &rng) { emit.append(EmitField(name: "last", value: .field(amount))) }
    return RuleSpec(
      name: name, keyFields: [user],
      steps: [
        StepSpec(
          name: "burst", contiguity: .relaxed, quantifier: .timesOrMore(Int.random(in: 1...4, using: &rng)),
          condition: condition)
      ],
      within: .seconds(Int64.random(in: 2...20, using: &rng)), skip: skips.randomElement(using: &rng)!, emit: emit)
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

  /// What a test compares of an action: everything an alert or a drop report carries.
  private static func describe(_ actions: [EngineAction]) -> [String] {
    actions.map { action in
      switch action {
      case .alert(let a):
        let events = a.events.map { "\($0.step):\($0.identities.joined(separator: ","))" }.joined(separator: " ")
        let fields = a.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        return """
          alert \(a.rule) \(a.id)\(a.isTimeout ? " timeout" : "") \(a.key.map { "\($0.value)" }) \(a.time) \(a.start) \
          [\(events)] {\(fields)} \(a.suppressionKey)
          """
      case .stateLimit(let d): return "drop \(d.limit.rawValue) \(d.rule) \(d.key) \(d.dropped) \(d.oldestStart) \(d.watermark)"
      case .late(let e, let watermark): return "late \(e.identity) \(watermark)"
      case .missingKey(let e, _): return "missing \(e.identity)"
      case .timeSkew(let e, _): return "skew \(e.identity)"
      }
    }
  }

  /// A checkpoint's partial matches: per key, each one's state, start and events.
  private static func partials(_ snapshot: EngineSnapshot) -> [String] {
    // A key with nothing open may still have a timer in flight (the general state's), which
    // is not a partial match.
    snapshot.rules.flatMap(\.keys).filter { !$0.partials.isEmpty || !$0.completed.isEmpty }.map { key in
      let partials = key.partials.map { partial in
        var events: [String] = []
        var node = partial.node
        while node >= 0 {
          events.append(snapshot.events[snapshot.nodes[node].event].identity)
          node = snapshot.nodes[node].previous
        }
        return "\(partial.state)@\(partial.start.time)/\(partial.start.sequence)[\(events.joined(separator: ","))]"
      }
      return "key \(key.key): \(partials.joined(separator: " ")) held \(key.completed.count)"
    }
  }

  /// A checkpoint's per-rule counters: alerts and evaluation errors.
  private static func counters(_ snapshot: EngineSnapshot) -> [String] {
    snapshot.rules.map { rule in
      """
      \(rule.name): alerts \(rule.alerts), type errors \(rule.typeErrors) (first: \(rule.firstTypeError ?? "-")), \
      arithmetic errors \(rule.arithmeticErrors)
      """
    }
  }

  /// Each rule's type errors and the first one's text, as the run summary prints them.
  private static func typeErrors(_ engine: Engine) -> [String] {
    engine.typeErrors.map { "\($0.rule) \($0.count) \($0.first ?? "-")" }
  }

  func testPairQueues_MatchTheGeneralState_OnRandomStreams() throws {
    var rng = SplitMix64(seed: 0x0_0A12_2026)
    var alerts = 0
    var capDrops = 0
    var ttlDrops = 0
    var typeErrors = 0
    var arithmeticErrors = 0
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
        specs.append(Self.randomVelocitySpec(&rng, name: "s"))
        if Self.runQueued(specs[1]) { runQueues += 1 }
      case 2:
        let other = Self.randomPairSpec(&rng, name: "s")
        specs.append(Self.ineligible(other, &rng))
      default:
        break
      }
      if specs.count == 2 && Bool.random(using: &rng) { specs.swapAt(0, 1) }
      let programs = NFACompiler.compile(specs, extraFields: [Self.type, Self.amount, Self.user, Self.score])
      var options = EngineOptions(outOfOrderness: .seconds(Int64.random(in: 0...3, using: &rng)), maxTimeSkew: nil)
      // Exact timers on both sides, so the open partial matches agree after every event.
      options.roundsQuietTimers = false
      if Int.random(in: 0..<3, using: &rng) == 0 { options.limits.maxPartialsPerKey = Int.random(in: 2...6, using: &rng) }
      // Sometimes an idle-key TTL, which drops a key's partial matches when it has seen no event
      // for a while (shorter than some windows, so it acts).
      if Int.random(in: 0..<3, using: &rng) == 0 { options.limits.keyTTL = .seconds(Int64.random(in: 1...8, using: &rng)) }
      // Sometimes keys are reclaimed after every watermark step, so ids come back while dead
      // entries of their old keys are still queued.
      if Bool.random(using: &rng) { options.keySweepFloor = 0 }
      var plainOptions = options
      plainOptions.queuesPairs = false
      plainOptions.queuesSharedRuns = false
      var queued = Engine(programs: programs, options: options)
      var plain = Engine(programs: programs, options: plainOptions)
      XCTAssertEqual(plain.pairQueues, 0)
      XCTAssertEqual(plain.runQueues, 0)
      let shapes = specs.map(Self.shape).joined(separator: " | ")
      XCTAssertEqual(queued.pairQueues, pairs, "round \(round): \(shapes)")
      // Run queues count velocity rules only.
      XCTAssertEqual(queued.runQueues, runQueues, "round \(round): \(shapes)")

      let slots = (
        type: programs.projection.existingSlot(for: Self.type)!.index,
        amount: programs.projection.existingSlot(for: Self.amount)!.index,
        user: programs.projection.existingSlot(for: Self.user)!.index,
        score: programs.projection.existingSlot(for: Self.score)!.index
      )
      // `c` events (in some rounds) are neither a first nor, for most B, a second event.
      let kinds = Bool.random(using: &rng) ? ["a", "a", "a", "b", "b", "c", "c"] : ["a", "a", "a", "b", "b"]
      let users = Int.random(in: 1...4, using: &rng)
      let count = Int.random(in: 1...120, using: &rng)
      let cut = Int.random(in: 0..<count, using: &rng)
      var time: Int64 = 0
      var trail: [String] = []
      var ok = true
      for sequence in 0..<count where ok {
        // Times in half seconds, so events fall exactly on window ends, and ties are common.
        time += 500 * Int64.random(in: 0...3, using: &rng)
        // Arrival jitter of up to 4 s: within the bound or late.
        let at = max(0, time - 500 * Int64.random(in: 0...8, using: &rng))
        var values = Array(repeating: Value.null, count: programs.projection.count)
        let kind = kinds.randomElement(using: &rng)!
        values[slots.type] = .string(kind)
        values[slots.amount] = .int(Int64.random(in: 0...10, using: &rng))
        values[slots.user] = .string("u\(Int.random(in: 0..<users, using: &rng))")
        values[slots.score] = .int(Int64(sequence))
        let id = "\(kind)\(sequence)"
        trail.append("\(id)@\(at)/\(values[slots.user])/\(values[slots.amount])")
        let event = EventRecord(
          time: .milliseconds(at), sequence: UInt64(sequence), line: sequence + 1, identity: id, slots: EventSlots(values))
        var a: [EngineAction] = []
        var b: [EngineAction] = []
        queued.eventArrived(event, into: &a)
        plain.eventArrived(event, into: &b)
        let (da, db) = (Self.describe(a), Self.describe(b))
        alerts += da.count { $0.hasPrefix("alert") }
        capDrops += da.count { $0.hasPrefix("drop max_partials_per_key") }
        ttlDrops += da.count { $0.hasPrefix("drop key_ttl") }
        if da != db || queued.openPartialMatches != plain.openPartialMatches {
          XCTFail(
            """
            round \(round) (\(shapes); cap \(options.limits.maxPartialsPerKey), \
            ttl \(options.limits.keyTTL.map { "\($0)" } ?? "-")) after \(id)
            trail: \(trail.joined(separator: " "))
            queued (\(queued.openPartialMatches) open): \(da)
            plain  (\(plain.openPartialMatches) open): \(db)
            """)
          ok = false
        }
        if sequence == cut {
          // Both write the same partial matches (states, starts, events) and counters, and each
          // side's checkpoint restores into the other's form.
          let (queuedSnapshot, plainSnapshot) = (queued.snapshot(), plain.snapshot())
          XCTAssertEqual(
            Self.partials(queuedSnapshot), Self.partials(plainSnapshot), "round \(round) (\(shapes)): checkpoints; trail: \(trail)")
          XCTAssertEqual(Self.counters(queuedSnapshot), Self.counters(plainSnapshot), "round \(round) (\(shapes)): counters at the cut")
          let mapping = Array(0..<specs.count)
          let fromQueued = try Engine(restoring: queuedSnapshot, programs: programs, options: plainOptions, ruleMapping: mapping)
          let fromPlain = try Engine(restoring: plainSnapshot, programs: programs, options: options, ruleMapping: mapping)
          XCTAssertEqual(fromQueued.pairQueues, 0, "round \(round): restored into the general state")
          XCTAssertEqual(fromPlain.pairQueues, pairs, "round \(round): restored into queues")
          XCTAssertEqual(fromQueued.openPartialMatches, queued.openPartialMatches, "round \(round): restored from queues")
          XCTAssertEqual(fromPlain.openPartialMatches, plain.openPartialMatches, "round \(round): restored into queues")
          queued = fromPlain
          plain = fromQueued
          trail.append("cut")
        }
      }
      guard ok else { return }
      // The same evaluation errors per rule (B is tested against the same pairs on both sides),
      // and the same partial matches left for the end of input.
      let (queuedSnapshot, plainSnapshot) = (queued.snapshot(), plain.snapshot())
      XCTAssertEqual(
        Self.partials(queuedSnapshot), Self.partials(plainSnapshot), "round \(round) (\(shapes)): last checkpoints; trail: \(trail)")
      XCTAssertEqual(
        Self.counters(queuedSnapshot), Self.counters(plainSnapshot), "round \(round) (\(shapes)): counters; trail: \(trail)")
      arithmeticErrors += queuedSnapshot.rules.reduce(0) { $0 + $1.arithmeticErrors }
      var a: [EngineAction] = []
      var b: [EngineAction] = []
      queued.finish(into: &a)
      plain.finish(into: &b)
      XCTAssertEqual(Self.describe(a), Self.describe(b), "round \(round) (\(shapes)): the end of input; trail: \(trail)")
      let da = Self.describe(a)
      alerts += da.count { $0.hasPrefix("alert") }
      capDrops += da.count { $0.hasPrefix("drop max_partials_per_key") }
      ttlDrops += da.count { $0.hasPrefix("drop key_ttl") }
      // The events the end of input released were tested too.
      XCTAssertEqual(Self.typeErrors(queued), Self.typeErrors(plain), "round \(round) (\(shapes)): type errors at the end")
      typeErrors += queued.typeErrors.reduce(0) { $0 + $1.count }
    }
    // The comparison means something only if pair queues were used, matched, were capped and
    // timed out, and evaluated B into errors.
    // (Seen at this seed: 8,411 alerts, 517 cap drops, 629 TTL drops, 3,229 type errors, 239
    // arithmetic errors.)
    XCTAssertGreaterThan(alerts, 4000)
    XCTAssertGreaterThan(capDrops, 200)
    XCTAssertGreaterThan(ttlDrops, 200)
    XCTAssertGreaterThan(typeErrors, 1500)
    XCTAssertGreaterThan(arithmeticErrors, 100)
  }

  /// A keyed two-step rule for the table of `testWhichRulesArePaired`.
  private static func pair(
    _ steps: [StepSpec], within: EventDuration? = .seconds(60), skip: SkipStrategy = .noSkip, onTimeout: [EmitField]? = nil
  ) -> RuleSpec {
    RuleSpec(name: "r", keyFields: [user], steps: steps, within: within, skip: skip, onTimeout: onTimeout)
  }

  /// A second step `b` for the table of `testWhichRulesArePaired`.
  private static func second(
    kind: StepKind = .take, _ contiguity: Contiguity = .nonDeterministic, quantifier: Quantifier = .once,
    condition: Expr? = isType("b")
  ) -> StepSpec {
    StepSpec(name: "b", kind: kind, contiguity: contiguity, quantifier: quantifier, condition: condition)
  }

  /// A `not_followed_by` step `n` for the table of `testWhichRulesArePaired`.
  private static func between(
    _ name: String = "n", kind: StepKind = .notFollowedBy, _ contiguity: Contiguity = .relaxed,
    condition: Expr? = isType("c")
  ) -> StepSpec {
    StepSpec(name: name, kind: kind, contiguity: contiguity, condition: condition)
  }

  /// Which rules get a pair queue: `begin a where A followed_by_any b where B within W` (or
  /// `followed_by b`), with at most one `not_followed_by` step between the two, no skip
  /// strategy, no time-out alerts, singleton steps, and no state budget (whose bookkeeping reads
  /// the general state). No condition is required; an idle-key TTL is allowed.
  func testWhichRulesArePaired() {
    let a = StepSpec(name: "a", condition: Self.isType("a"))
    let b = StepSpec(
      name: "b", contiguity: .nonDeterministic,
      condition: .and(Self.isType("b"), .binary(.greater, .field(Self.amount), .stepField(step: 0, Self.amount))))
    let third = StepSpec(name: "c", contiguity: .nonDeterministic, condition: Self.isType("c"))
    let loop = StepSpec(name: "a", quantifier: .timesOrMore(2), condition: Self.isType("a"))
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
      ("next", Self.pair([a, Self.second(.strict)]), StateLimits(), false),
      ("skip past_last_event", Self.pair([a, b], skip: .skipPastLastEvent), StateLimits(), false),
      ("skip to_next", Self.pair([a, b], skip: .skipToNext), StateLimits(), false),
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
      let programs = NFACompiler.compile([spec], extraFields: [Self.type, Self.amount])
      let engine = Engine(programs: programs, options: options)
      XCTAssertEqual(engine.pairQueues, expected ? 1 : 0, name)
      // A pair queue is not a run queue.
      if expected { XCTAssertEqual(engine.runQueues, 0, name) }
      options.queuesPairs = false
      XCTAssertEqual(Engine(programs: programs, options: options).pairQueues, 0, name)
    }
  }
}
