import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// Run queues (`RunQueue`, Engine+RunQueues.swift): an engine that keeps shared runs in queues
/// emits exactly what one that keeps them in the general state emits, holds the same number of
/// open partial matches after every event, and their checkpoints restore into each other.
final class RunQueueTests: XCTestCase {
  private static let type = FieldPath(["type"])
  private static let amount = FieldPath(["amount"])
  private static let user = FieldPath(["user"])
  private static let score = FieldPath(["score"])

  private static func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  /// A velocity-shaped rule: `times N+` of `a` events per user, within a window, one of the five
  /// skip strategies, and alerts that read the matched events' fields.
  private static func randomSpec(_ rng: inout SplitMix64, name: String = "r") -> RuleSpec {
    let skips: [SkipStrategy] = [
      .noSkip, .skipToNext, .skipPastLastEvent, .skipToFirst(step: 0, name: "burst"), .skipToLast(step: 0, name: "burst"),
    ]
    var condition = isType("a")
    if Bool.random(using: &rng) {
      condition = .and(condition, .binary(.less, .field(amount), .constant(.int(Int64.random(in: 3...9, using: &rng)))))
    }
    var emit = [
      EmitField(name: "n", value: .aggregate(.count, step: 0, field: nil)),
      EmitField(name: "total", value: .aggregate(.sum, step: 0, field: amount)),
    ]
    if Bool.random(using: &rng) { emit.append(EmitField(name: "last", value: .field(amount))) }
    if Bool.random(using: &rng) { emit.append(EmitField(name: "first", value: .stepField(step: 0, amount))) }
    if Bool.random(using: &rng) { emit.append(EmitField(name: "who", value: .key)) }
    // Sometimes a field no other rule's alerts read, over every matched event (an aggregate:
    // `step.field` reads the newest event), so two queues keep different slots of one event.
    if Bool.random(using: &rng) { emit.append(EmitField(name: "scores", value: .aggregate(.sum, step: 0, field: score))) }
    let suppression: SuppressionSpec? =
      Bool.random(using: &rng) ? SuppressionSpec(duration: .seconds(5), key: Bool.random(using: &rng) ? .field(amount) : nil) : nil
    return RuleSpec(
      name: name, keyFields: [user],
      steps: [
        StepSpec(
          name: "burst", contiguity: .relaxed, quantifier: .timesOrMore(Int.random(in: 1...4, using: &rng)),
          condition: condition)
      ],
      within: .seconds(Int64.random(in: 2...20, using: &rng)), skip: skips.randomElement(using: &rng)!, emit: emit,
      suppression: suppression)
  }

  /// What a test compares of an action: everything an alert or a drop report carries.
  private static func describe(_ actions: [EngineAction]) -> [String] {
    actions.map { action in
      switch action {
      case .alert(let a):
        let events = a.events.map { "\($0.step):\($0.identities.joined(separator: ","))" }.joined(separator: " ")
        let fields = a.fields.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
        return "alert \(a.id) \(a.key.map { "\($0.value)" }) \(a.time) \(a.start) [\(events)] {\(fields)} \(a.suppressionKey)"
      case .stateLimit(let d): return "drop \(d.limit.rawValue) \(d.key) \(d.dropped) \(d.oldestStart) \(d.watermark)"
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

  func testQueues_MatchTheGeneralState_OnRandomStreams() throws {
    var rng = SplitMix64(seed: 0x0_0EE5_2026)
    var queuedRounds = 0
    var alerts = 0
    var capDrops = 0
    var ttlDrops = 0
    for round in 0..<300 {
      let spec = Self.randomSpec(&rng)
      // Sometimes a second rule of the same key space (two queues, or a queue and the general
      // state, sharing the keys' open masks).
      let specs = Int.random(in: 0..<3, using: &rng) == 0 ? [spec, Self.randomSpec(&rng, name: "s")] : [spec]
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
      plainOptions.queuesSharedRuns = false
      var queued = Engine(programs: programs, options: options)
      var plain = Engine(programs: programs, options: plainOptions)
      XCTAssertEqual(plain.runQueues, 0)
      let queues = specs.count { spec in
        switch spec.skip {
        case .noSkip, .skipToNext, .skipPastLastEvent: return true
        default: return false
        }
      }
      XCTAssertEqual(queued.runQueues, queues, "round \(round): \(specs.map(\.skip))")
      if queues > 0 { queuedRounds += 1 }

      let slots = (
        type: programs.projection.existingSlot(for: Self.type)!.index,
        amount: programs.projection.existingSlot(for: Self.amount)!.index,
        user: programs.projection.existingSlot(for: Self.user)!.index,
        score: programs.projection.existingSlot(for: Self.score)!.index
      )
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
        let kind = Int.random(in: 0..<3, using: &rng) == 0 ? "b" : "a"
        values[slots.type] = .string(kind)
        values[slots.amount] = .int(Int64.random(in: 0...10, using: &rng))
        values[slots.user] = .string("u\(Int.random(in: 0..<users, using: &rng))")
        values[slots.score] = .int(Int64(sequence))
        let id = "\(kind)\(sequence)"
        trail.append("\(id)@\(at)/\(values[slots.user])")
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
            round \(round) (\(spec.steps[0].quantifier), within \(spec.within!), \(spec.skip), cap \
            \(options.limits.maxPartialsPerKey)) after \(id)
            trail: \(trail.joined(separator: " "))
            queued (\(queued.openPartialMatches) open): \(da)
            plain  (\(plain.openPartialMatches) open): \(db)
            """)
          ok = false
        }
        if sequence == cut {
          // Both write the same partial matches (states, starts, events), and each side's
          // checkpoint restores into the other's form.
          let (queuedSnapshot, plainSnapshot) = (queued.snapshot(), plain.snapshot())
          XCTAssertEqual(
            Self.partials(queuedSnapshot), Self.partials(plainSnapshot), "round \(round): checkpoints; trail: \(trail)")
          let fromQueued = try Engine(restoring: queuedSnapshot, programs: programs, options: plainOptions, ruleMapping: Array(0..<specs.count))
          let fromPlain = try Engine(restoring: plainSnapshot, programs: programs, options: options, ruleMapping: Array(0..<specs.count))
          XCTAssertEqual(fromQueued.openPartialMatches, queued.openPartialMatches, "round \(round): restored from queues")
          XCTAssertEqual(fromPlain.openPartialMatches, plain.openPartialMatches, "round \(round): restored into queues")
          queued = fromPlain
          plain = fromQueued
          trail.append("cut")
        }
      }
      guard ok else { return }
      var a: [EngineAction] = []
      var b: [EngineAction] = []
      queued.finish(into: &a)
      plain.finish(into: &b)
      XCTAssertEqual(Self.describe(a), Self.describe(b), "round \(round): the end of input; trail: \(trail)")
    }
    // The comparison means something only if queues were used, matched and were capped.
    XCTAssertGreaterThan(queuedRounds, 150)
    XCTAssertGreaterThan(alerts, 1000)
    XCTAssertGreaterThan(capDrops, 20)
    XCTAssertGreaterThan(ttlDrops, 20)
  }

  /// Which rules get a queue: shared runs that end silently, with a window, without a state
  /// budget (whose bookkeeping reads the general state).
  func testWhichRulesAreQueued() {
    let loop = StepSpec(name: "burst", contiguity: .relaxed, quantifier: .timesOrMore(3), condition: Self.isType("a"))
    let cases: [(String, RuleSpec, StateLimits, Bool)] = [
      ("velocity", RuleSpec(name: "r", keyFields: [Self.user], steps: [loop], within: .seconds(60)), StateLimits(), true),
      ("no window", RuleSpec(name: "r", keyFields: [Self.user], steps: [loop]), StateLimits(), false),
      (
        "on timeout emit",
        RuleSpec(name: "r", keyFields: [Self.user], steps: [loop], within: .seconds(60), onTimeout: []), StateLimits(), false
      ),
      (
        "skip to_last",
        RuleSpec(name: "r", keyFields: [Self.user], steps: [loop], within: .seconds(60), skip: .skipToLast(step: 0, name: "burst")),
        StateLimits(), false
      ),
      ("state budget", RuleSpec(name: "r", keyFields: [Self.user], steps: [loop], within: .seconds(60)), StateLimits(maxStateBytes: 1 << 30), false),
      ("key TTL", RuleSpec(name: "r", keyFields: [Self.user], steps: [loop], within: .seconds(60)), StateLimits(keyTTL: .hours(1)), true),
      (
        "not a shared run",
        RuleSpec(name: "r", keyFields: [Self.user], steps: [loop, StepSpec(name: "b", condition: Self.isType("b"))], within: .seconds(60)),
        StateLimits(), false
      ),
    ]
    for (name, spec, limits, expected) in cases {
      var options = EngineOptions()
      options.limits = limits
      let programs = NFACompiler.compile([spec], extraFields: [Self.type])
      XCTAssertEqual(Engine(programs: programs, options: options).runQueues, expected ? 1 : 0, name)
      options.queuesSharedRuns = false
      XCTAssertEqual(Engine(programs: programs, options: options).runQueues, 0, name)
    }
  }
}
