import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import XCTest

/// The engine driven step by step: explicit event times, explicit watermarks, and the actions
/// each step returns.
final class EngineTests: XCTestCase {
  private let type = FieldPath(["type"])
  private let user = FieldPath(["user"])

  private func engine(
    _ steps: [StepSpec], within: EventDuration? = .seconds(10), skip: SkipStrategy = .noSkip,
    outOfOrderness: EventDuration = .seconds(5), onTimeout: [EmitField]? = nil, roundsQuietTimers: Bool = true,
    queuesPairs: Bool = true, queuesStarts: Bool = true
  ) -> Engine {
    let spec = RuleSpec(name: "r", keyFields: [user], steps: steps, within: within, skip: skip, onTimeout: onTimeout)
    let programs = NFACompiler.compile([spec], extraFields: [type, user, FieldPath(["v"])])
    var options = EngineOptions(outOfOrderness: outOfOrderness)
    options.roundsQuietTimers = roundsQuietTimers
    options.queuesPairs = queuesPairs
    options.queuesStarts = queuesStarts
    return Engine(programs: programs, options: options)
  }

  private func step(_ name: String, _ t: String, _ q: Quantifier = .once) -> StepSpec {
    StepSpec(name: name, quantifier: q, condition: .binary(.equal, .field(type), .constant(.string(t))))
  }

  private var sequence: UInt64 = 0
  private func event(_ id: String, at ms: Int64, user u: String? = "u1", v: Int64 = 0) -> EventRecord {
    defer { sequence += 1 }
    return EventRecord(
      time: .milliseconds(ms), sequence: sequence, line: Int(sequence) + 1, identity: id,
      slots: [.string(String(id.prefix(1))), u.map(Value.string) ?? .null, .int(v)])
  }

  /// Summarises actions as strings: `alert a1 b1`, `late x`, `missingKey x`.
  private func describe(_ actions: [EngineAction]) -> [String] {
    actions.map { action in
      switch action {
      case .alert(let alert): return "alert " + alert.events.flatMap(\.identities).joined(separator: " ")
      case .late(let event, _): return "late \(event.identity)"
      case .missingKey(let event, _): return "missingKey \(event.identity)"
      case .timeSkew(let event, _): return "skew \(event.identity)"
      case .stateLimit(let drop): return "stateLimit \(drop.key) \(drop.dropped)"
      }
    }
  }

  func testEventsWaitForTheWatermark() {
    let e = engine([step("x", "a"), step("y", "b")])
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 1_000), into: &actions)
    e.eventArrived(event("b1", at: 2_000), into: &actions)
    XCTAssertEqual(describe(actions), [], "both wait: watermark is 2000 - 5000 - 1ns")
    XCTAssertEqual(e.bufferedEvents, 2, "held while the time base calibrates")
    e.advanceWatermark(to: .milliseconds(1_999), into: &actions)
    XCTAssertEqual(describe(actions), [], "b1 (2000) is not yet released")
    e.advanceWatermark(to: .milliseconds(2_000), into: &actions)
    XCTAssertEqual(describe(actions), ["alert a1 b1"])
    XCTAssertEqual(e.bufferedEvents, 0)
  }

  func testLateness_IsTimeAtOrBeforeWatermark() {
    let e = engine([step("x", "a")], within: nil, outOfOrderness: .seconds(5))
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 10_000), into: &actions)  // watermark → 4999.999999
    e.eventArrived(event("a2", at: 5_000), into: &actions)  // exactly max − bound: on time
    e.eventArrived(event("a3", at: 4_999), into: &actions)  // behind: late
    XCTAssertEqual(describe(actions), ["late a3"])
    XCTAssertEqual(e.counters.late, 1)
    actions.removeAll()
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2", "alert a1"], "released in event-time order")
  }

  func testEqualTimestamps_KeepArrivalOrder() {
    let e = engine([step("x", "a"), step("y", "b")], outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("b0", at: 1_000), into: &actions)
    e.eventArrived(event("a1", at: 1_000), into: &actions)
    e.eventArrived(event("b1", at: 1_000), into: &actions)
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a1 b1"])
  }

  func testWithinTimer_PrunesWhenTheWatermarkPasses() {
    let e = engine(
      [step("x", "a"), step("y", "b")], within: .seconds(10), outOfOrderness: .zero, roundsQuietTimers: false)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 0, "not released yet: the watermark is just before 0")
    e.advanceWatermark(to: .milliseconds(0), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 1)
    e.advanceWatermark(to: .milliseconds(9_999), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 1)
    e.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(e.openPartialMatches, 0, "start + within <= watermark: timed out")
    e.eventArrived(event("b1", at: 10_001), into: &actions)
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), [])
  }

  /// A rule whose time-outs emit nothing has its timers rounded up (to 2^25 ns, ~33.6 ms, for a
  /// 10 s window): its expired partial match stays in memory until the rounded deadline, yet the
  /// key's next event never sees it. A rule that reports time-outs keeps exact timers. (The
  /// general state's timers: this two-step rule would otherwise be kept in a pair queue, or its
  /// start in a start queue, which have none, and drop a partial match at the watermark step that
  /// passes its deadline.)
  func testQuietTimers_FireAtTheRoundedDeadline_AndChangeNoMatch() {
    let quantum: Int64 = 1 << 25
    let rounded = (10_000_000_000 + quantum - 1) / quantum * quantum  // 10,032,775,168 ns
    XCTAssertEqual(rounded / 1_000_000, 10_032)

    let paired = engine([step("x", "a"), step("y", "b")], within: .seconds(10), outOfOrderness: .zero)
    XCTAssertEqual(paired.pairQueues, 1)
    var pairActions: [EngineAction] = []
    paired.eventArrived(event("a1", at: 0), into: &pairActions)
    paired.advanceWatermark(to: .milliseconds(0), into: &pairActions)
    paired.advanceWatermark(to: .milliseconds(9_999), into: &pairActions)
    XCTAssertEqual(paired.openPartialMatches, 1)
    paired.advanceWatermark(to: .milliseconds(10_000), into: &pairActions)
    XCTAssertEqual(paired.openPartialMatches, 0, "a pair queue's time-outs are not rounded")

    let quiet = engine(
      [step("x", "a"), step("y", "b")], within: .seconds(10), outOfOrderness: .zero, queuesPairs: false,
      queuesStarts: false)
    var actions: [EngineAction] = []
    quiet.eventArrived(event("a1", at: 0), into: &actions)
    quiet.advanceWatermark(to: .milliseconds(0), into: &actions)
    quiet.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(quiet.openPartialMatches, 1, "expired, but its timer is rounded up")
    // The key's next event, inside the rounding: the expired partial match must not take it.
    quiet.eventArrived(event("b1", at: 10_001), into: &actions)
    quiet.advanceWatermark(to: .milliseconds(10_001), into: &actions)
    XCTAssertEqual(describe(actions), [], "a1 expired at 10,000 ms")
    XCTAssertEqual(quiet.openPartialMatches, 0, "dropped by the key's own event")
    quiet.eventArrived(event("a2", at: 20_000), into: &actions)
    quiet.advanceWatermark(to: .milliseconds(20_000), into: &actions)
    let rounded2 = (30_000_000_000 + quantum - 1) / quantum * quantum
    quiet.advanceWatermark(to: EventTime(nanosecondsSinceEpoch: rounded2 - 1), into: &actions)
    XCTAssertEqual(quiet.openPartialMatches, 1)
    quiet.advanceWatermark(to: EventTime(nanosecondsSinceEpoch: rounded2), into: &actions)
    XCTAssertEqual(quiet.openPartialMatches, 0, "timed out at the rounded deadline")
    quiet.finish(into: &actions)
    XCTAssertEqual(describe(actions), [])

    let reporting = engine(
      [step("x", "a"), step("y", "b")], within: .seconds(10), outOfOrderness: .zero,
      onTimeout: [EmitField(name: "n", value: .constant(.int(1)))])
    actions = []
    reporting.eventArrived(event("a1", at: 0), into: &actions)
    reporting.advanceWatermark(to: .milliseconds(0), into: &actions)
    reporting.advanceWatermark(to: .milliseconds(9_999), into: &actions)
    XCTAssertEqual(describe(actions), [])
    reporting.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(describe(actions), ["alert a1"], "a reported time-out fires at its exact deadline")
    XCTAssertEqual(reporting.openPartialMatches, 0)
  }

  func testSkipPastLastEvent_HoldsAMatchUntilNoEarlierPartialMatchRemains() {
    // y needs a larger `v` than x's event. At b1 the match starting at a2 completes while the
    // one starting at a1 (v 10) is still open, so Flink holds the later-starting match until
    // a1's partial match is gone (here: timed out by the watermark).
    let v = FieldPath(["v"])
    let x = step("x", "a")
    var y = step("y", "b")
    y.condition = .and(
      y.condition!, .binary(.greater, .field(v), .stepField(step: 0, v)))
    let e = engine([x, y], within: .seconds(10), skip: .skipPastLastEvent, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, v: 10), into: &actions)
    e.eventArrived(event("a2", at: 1_000, v: 1), into: &actions)
    e.eventArrived(event("b1", at: 2_000, v: 5), into: &actions)
    e.advanceWatermark(to: .milliseconds(2_000), into: &actions)
    XCTAssertEqual(describe(actions), [], "held: a1's partial match started earlier")
    e.advanceWatermark(to: .milliseconds(9_999), into: &actions)
    XCTAssertEqual(describe(actions), [])
    e.advanceWatermark(to: .milliseconds(10_000), into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2 b1"], "released once a1's partial match timed out")
  }

  func testSkipPastLastEvent_ReleasesAtEndOfInput() {
    let v = FieldPath(["v"])
    var y = step("y", "b")
    y.condition = .and(y.condition!, .binary(.greater, .field(v), .stepField(step: 0, v)))
    let e = engine([step("x", "a"), y], within: nil, skip: .skipPastLastEvent, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, v: 10), into: &actions)
    e.eventArrived(event("a2", at: 1_000, v: 1), into: &actions)
    e.eventArrived(event("b1", at: 2_000, v: 5), into: &actions)
    e.advanceWatermark(to: .milliseconds(2_000), into: &actions)
    XCTAssertEqual(describe(actions), [])
    XCTAssertEqual(e.openPartialMatches, 1, "a1's partial match holds a2's complete match back")
    e.finish(into: &actions)
    XCTAssertEqual(describe(actions), ["alert a2 b1"])
    XCTAssertEqual(e.openPartialMatches, 0)
  }

  /// At the end of input, a rule emits what its ending partial matches produce (`on timeout
  /// emit`, a trailing absence) and held matches; a rule whose partial matches end silently is
  /// not walked (``RuleMatcher/endsSilently``), and every partial match counts as ended.
  func testEndOfInput_EmitsTimeoutsAndAbsences_AndEndsTheRest() {
    let absent = StepSpec(
      name: "y", kind: .notFollowedBy, condition: .binary(.equal, .field(type), .constant(.string("b"))))
    let cases: [(String, [StepSpec], [EmitField]?, silent: Bool, atEnd: [String])] = [
      ("followed_by", [step("x", "a"), step("y", "b")], nil, true, []),
      ("on timeout emit", [step("x", "a"), step("y", "b")], [], false, ["alert a1", "alert a2"]),
      ("trailing absence", [step("x", "a"), absent], nil, false, ["alert a1", "alert a2"]),
      ("absence between steps", [step("x", "a"), absent, step("z", "c")], nil, true, []),
      ("loop", [step("x", "a", .timesOrMore(3))], nil, true, []),
    ]
    for (name, steps, onTimeout, silent, atEnd) in cases {
      let spec = RuleSpec(name: "r", keyFields: [user], steps: steps, within: .seconds(10), onTimeout: onTimeout)
      let programs = NFACompiler.compile([spec], extraFields: [type, user, FieldPath(["v"])])
      XCTAssertEqual(RuleMatcher(program: programs.rules[0]).endsSilently, silent, name)
      let e = Engine(programs: programs, options: EngineOptions(outOfOrderness: .zero))
      var actions: [EngineAction] = []
      e.eventArrived(event("a1", at: 0), into: &actions)
      e.eventArrived(event("a2", at: 1_000, user: "u2"), into: &actions)
      e.advanceWatermark(to: .milliseconds(1_000), into: &actions)
      XCTAssertEqual(describe(actions), [], name)
      XCTAssertEqual(e.openPartialMatches, 2, name)
      e.finish(into: &actions)
      XCTAssertEqual(describe(actions), atEnd, name)
      XCTAssertEqual(e.openPartialMatches, 0, name)
    }
  }

  /// Property: with more rules than the release loop tracks as bits (64), over two key spaces
  /// and events that lack one of the keys, each rule alerts exactly as it does alone, and
  /// counts the same events without its key. The loop visits only the rules an event concerns
  /// (open for its key, admitted by a start guard) for the first 64 rules and every rule past
  /// them, so both paths, and their order, are held to the rule alone.
  func testManyRules_EachRuleAlertsAsItDoesAlone() {
    let card = FieldPath(["card"])
    let fields = [type, user, card, FieldPath(["v"])]
    let letters = ["a", "b", "c"]
    var specs: [RuleSpec] = []
    for r in 0..<70 {
      let first = letters[r % 3]
      let second = letters[(r / 3) % 3]
      let steps =
        r % 4 == 0
        ? [step("x", first, .timesOrMore(2))]
        : [step("x", first), step("y", second)]
      specs.append(
        RuleSpec(
          name: "r\(r)", keyFields: [r % 2 == 0 ? user : card], steps: steps, within: .seconds(Int64(2 + r % 5)),
          skip: r % 3 == 0 ? .skipPastLastEvent : .noSkip))
    }
    var rng = SplitMix64(seed: 11)
    var events: [EventRecord] = []
    var time: Int64 = 0
    for i in 0..<2_000 {
      time += Int64(rng.next(upTo: 399))
      let jitter = Int64(rng.next(upTo: 1_499))
      let cardValue: Value = rng.next(upTo: 3) == 0 ? .null : .string("c\(rng.next(upTo: 5))")
      events.append(
        EventRecord(
          time: .milliseconds(max(0, time - jitter)), sequence: UInt64(i), line: i + 1, identity: "e\(i)",
          slots: [
            .string(letters[Int(rng.next(upTo: 2))]), .string("u\(rng.next(upTo: 4))"), cardValue, .int(0),
          ]))
    }
    func run(_ rules: [RuleSpec]) -> (alerts: [[String]], missing: [Int]) {
      let engine = Engine(
        programs: NFACompiler.compile(rules, extraFields: fields), options: EngineOptions(outOfOrderness: .seconds(2)))
      var actions: [EngineAction] = []
      for event in events { engine.eventArrived(event, into: &actions) }
      engine.finish(into: &actions)
      var alerts = Array(repeating: [String](), count: rules.count)
      for case .alert(let alert) in actions {
        alerts[alert.ruleIndex].append(alert.events.flatMap(\.identities).joined(separator: " "))
      }
      return (alerts, engine.counters.missingKeyByRule)
    }
    let together = run(specs)
    XCTAssertGreaterThan(together.alerts.joined().count, 700, "the stream exercises the rules")
    // Alone, a rule keyed by `card` never sees an event without one (no rule could: it is a
    // missing-key dead letter); among the others it does, and counts it.
    let withoutCard = events.filter { $0.slots[2] == .null }.count
    XCTAssertGreaterThan(withoutCard, 0)
    for (r, spec) in specs.enumerated() {
      XCTAssertEqual(together.alerts[r], run([spec]).alerts[0], "rule \(r)")
      XCTAssertEqual(together.missing[r], r % 2 == 0 ? 0 : withoutCard, "rule \(r): events without its key")
    }
  }

  /// The events a rule did not see for lack of its key are counted per key space and added to
  /// each rule of the space when the counters are read: a snapshot taken midway carries them,
  /// and the restored engine goes on counting from there, rule by rule.
  func testMissingKeyCounts_SurviveASnapshotAndRestore() throws {
    let card = FieldPath(["card"])
    let fields = [type, user, card, FieldPath(["v"])]
    let specs = [
      RuleSpec(name: "byUser", keyFields: [user], steps: [step("x", "a")], within: .seconds(5)),
      RuleSpec(name: "byCard", keyFields: [card], steps: [step("x", "a")], within: .seconds(5)),
      RuleSpec(name: "byCardToo", keyFields: [card], steps: [step("x", "b")], within: .seconds(5)),
    ]
    let programs = NFACompiler.compile(specs, extraFields: fields)
    let options = EngineOptions(outOfOrderness: .zero)
    // (user, card) per event; nil is missing.
    let keys: [(String?, String?)] = [
      ("u1", nil), ("u1", "c1"), (nil, "c1"), ("u2", nil), ("u2", nil), (nil, "c2"), ("u3", nil), ("u3", "c3"),
    ]
    func record(_ i: Int) -> EventRecord {
      EventRecord(
        time: .milliseconds(Int64(i) * 100), sequence: UInt64(i), line: i + 1, identity: "e\(i)",
        slots: [.string("a"), keys[i].0.map(Value.string) ?? .null, keys[i].1.map(Value.string) ?? .null, .int(0)])
    }
    let reference = Engine(programs: programs, options: options)
    var first = Engine(programs: programs, options: options)
    var actions: [EngineAction] = []
    for i in keys.indices {
      reference.eventArrived(record(i), into: &actions)
      first.eventArrived(record(i), into: &actions)
      if i == 4 {
        // Counted as events are released: the newest (event 4) still waits in the buffer.
        XCTAssertEqual(first.counters.missingKeyByRule, [1, 2, 2], "before the snapshot")
        first = try Engine(restoring: first.snapshot(), programs: programs, options: options, ruleMapping: [0, 1, 2])
        XCTAssertEqual(first.counters.missingKeyByRule, [1, 2, 2], "restored")
      }
    }
    reference.finish(into: &actions)
    first.finish(into: &actions)
    XCTAssertEqual(reference.counters.missingKeyByRule, [2, 4, 4])
    XCTAssertEqual(first.counters.missingKeyByRule, reference.counters.missingKeyByRule)
  }

  func testMissingKey_IsReportedOnlyWhenNoRuleCanSeeTheEvent() {
    let e = engine([step("x", "a")], within: nil, outOfOrderness: .zero)
    var actions: [EngineAction] = []
    e.eventArrived(event("a1", at: 0, user: nil), into: &actions)
    XCTAssertEqual(describe(actions), ["missingKey a1"])
    XCTAssertEqual(e.counters.missingKey, 1)
  }
}

/// The time-poisoning guard: one event stamped far ahead must not make the rest of the stream late.
final class TimeSkewTests: XCTestCase {
  private func run(_ times: [Int64], skew: EventDuration? = .hours(1), contradictions: Int = 3)
    -> (actions: [String], counters: EngineCounters)
  {
    let isA = Expr.binary(.equal, .field(FieldPath(["type"])), .constant(.string("a")))
    let spec = RuleSpec(name: "r", steps: [StepSpec(name: "x", condition: isA)])
    let programs = NFACompiler.compile([spec], extraFields: [FieldPath(["type"])])
    let engine = Engine(
      programs: programs,
      options: EngineOptions(
        outOfOrderness: .seconds(5), maxTimeSkew: skew, skewConfirmations: 2,
        skewContradictions: contradictions))
    var actions: [EngineAction] = []
    for (i, t) in times.enumerated() {
      engine.eventArrived(
        EventRecord(
          time: .milliseconds(t), sequence: UInt64(i), line: i + 1, identity: "e\(i)",
          slots: [.string("a")]),
        into: &actions)
    }
    engine.finish(into: &actions)
    let described = actions.map { action -> String in
      switch action {
      case .alert(let a): return a.events[0].identities[0]
      case .late(let e, _): return "late \(e.identity)"
      case .missingKey(let e, _): return "missingKey \(e.identity)"
      case .timeSkew(let e, _): return "skew \(e.identity)"
      case .stateLimit(let drop): return "stateLimit \(drop.key) \(drop.dropped)"
      }
    }
    return (described, engine.counters)
  }

  private let year2099: Int64 = 4_070_908_800_000

  func testOutlierIsDeadLetteredAndDoesNotMakeLaterEventsLate() {
    let (actions, counters) = run([1_000, 2_000, year2099, 3_000, 4_000, 5_000, 6_000])
    XCTAssertEqual(actions, ["skew e2", "e0", "e1", "e3", "e4", "e5", "e6"])
    XCTAssertEqual(counters.late, 0)
    XCTAssertEqual(counters.timeSkewed, 1)
  }

  func testConfirmedJumpIsAccepted() {
    let day: Int64 = 86_400_000
    let (actions, counters) = run([1_000, 2_000, day, day + 1_000, day + 2_000, day + 3_000])
    XCTAssertEqual(actions, ["e0", "e1", "e2", "e3", "e4", "e5"])
    XCTAssertEqual(counters.timeJumpsAccepted, 1)
    XCTAssertEqual(counters.timeSkewed, 0)
  }

  func testWithoutTheGuardOneOutlierMakesEverythingLate() {
    let (actions, _) = run([1_000, 2_000, year2099, 3_000, 4_000], skew: nil)
    XCTAssertEqual(actions.filter { $0.hasPrefix("late") }, ["late e3", "late e4"])
  }

  /// The first events calibrate the time base, so a poisoned *first* event is an ordinary
  /// suspect: (times in ms, contradictions needed, expected actions, late count).
  func testPoisonedFirstEvents() {
    let h: Int64 = 3_600_000
    let rows: [(times: [Int64], contradictions: Int, expected: [String], late: Int, line: UInt)] = [
      // A lone 2099 first event: rejected after 3 ordinary events, the rest on time.
      ([year2099, 1_000, 2_000, 3_000, 4_000], 3, ["skew e0", "e1", "e2", "e3", "e4"], 0, #line),
      // Not contradicted often enough: accepted at the end, still nothing late.
      ([year2099, 1_000, 2_000, 3_000, 4_000], 100, ["e1", "e2", "e3", "e4", "e0"], 0, #line),
      // Two agreeing outliers first: still outvoted by the three events after them.
      ([year2099, year2099 + 1_000, 1_000, 2_000, 3_000, 4_000], 100,
       ["e2", "e3", "e4", "e5", "e0", "e1"], 0, #line),
      // Lateness among the calibration events is decided as without calibration.
      ([10_000, 2_000, 11_000, 12_000], 100, ["late e1", "e0", "e2", "e3"], 1, #line),
      // A pre-1970 first event is a time like any other.
      ([-1_000, 1_000, 2_000, 3_000], 100, ["e0", "e1", "e2", "e3"], 0, #line),
      // A sparse stream (events 2 h apart) never agrees: the median is the base, nothing lost.
      ([0, 2 * h, 4 * h, 6 * h], 100, ["e0", "e1", "e2", "e3"], 0, #line),
      // Calibration ends at the end of input too: fewer events than needed to agree.
      ([year2099, 1_000], 100, ["e1", "e0"], 0, #line),
    ]
    for row in rows {
      let (actions, counters) = run(row.times, contradictions: row.contradictions)
      XCTAssertEqual(actions, row.expected, line: row.line)
      XCTAssertEqual(counters.late, row.late, line: row.line)
    }
    // Three agreeing events are the stream, even when they come first: the documented limit.
    let (actions, _) = run([year2099, year2099 + 1, year2099 + 2, 1_000], contradictions: 100)
    XCTAssertEqual(actions, ["late e3", "e0", "e1", "e2"])
    // Without the guard there is no calibration: the first event makes the rest late.
    let (unguarded, _) = run([year2099, 1_000, 2_000], skew: nil)
    XCTAssertEqual(unguarded, ["late e1", "late e2", "e0"])
  }

  /// A stream of nothing but jumps (events 2 h apart) holds at most `skewContradictions`
  /// suspects; the earliest is accepted when the bound is passed, so time moves on and
  /// memory and per-event work stay bounded.
  func testOnlyJumps_SuspectsStayBounded() {
    let h: Int64 = 3_600_000
    let times = (0..<1_000).map { Int64($0) * 2 * h }
    let (actions, counters) = run(times, contradictions: 10)
    XCTAssertEqual(actions, (0..<1_000).map { "e\($0)" }, "every event, in time order")
    XCTAssertEqual(counters.late, 0)
    XCTAssertEqual(counters.timeSkewed, 0)
    XCTAssertGreaterThanOrEqual(counters.timeJumpsAccepted, 980)
  }

  func testUncontradictedSuspectIsAcceptedAtTheEnd() {
    let (actions, counters) = run([1_000, 2_000, year2099, 3_000], contradictions: 3)
    XCTAssertEqual(actions, ["e0", "e1", "e3", "e2"])
    XCTAssertEqual(counters.timeSkewed, 0)
  }
}
