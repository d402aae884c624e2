import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// The comparison `RunQueueTests` and `PairQueueTests` share: one random stream replayed through
/// an engine that keeps rules in queues and one that keeps them in the general state, compared
/// after every event (everything an action carries, and the open partial matches), cut once for
/// checkpoints that must agree and restore into each other's form, and compared again at the
/// end (partial matches, per-rule counters, the end of input's actions, type errors).
enum QueueEquivalence {
  static let type = FieldPath(["type"])
  static let amount = FieldPath(["amount"])
  static let user = FieldPath(["user"])
  static let score = FieldPath(["score"])
  /// A field of mixed kinds (null, a bool, ints, a float, strings): filled only when a rule
  /// reads it, so streams of rules that do not are drawn as before.
  static let mixed = FieldPath(["mixed"])
  /// The fields the streams fill (compile rules with them as extra fields).
  static var fields: [FieldPath] { [type, amount, user, score] }

  static func isType(_ t: String) -> Expr { .binary(.equal, .field(type), .constant(.string(t))) }

  /// A velocity-shaped rule: `times N+` of `a` events per user, within a window, one of the five
  /// skip strategies, and alerts that read the matched events' fields.
  static func randomVelocitySpec(_ rng: inout SplitMix64, name: String = "r") -> RuleSpec {
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

  /// What the replays of a test saw, for its "the comparison means something" checks.
  struct Tally {
    var alerts = 0
    var capDrops = 0
    var ttlDrops = 0
    var typeErrors = 0
    var arithmeticErrors = 0
    /// Walks pair filters left out (``Engine/pairWalksFiltered``).
    var filteredWalks = 0
  }

  /// Options for a round: 0–3 s of out-of-orderness; exact timers (so the open partial matches
  /// agree after every event); sometimes a per-key cap, an idle-key TTL (shorter than some
  /// windows, so it acts), and keys reclaimed after every watermark step (so ids come back while
  /// dead entries of their old keys are still queued).
  static func randomOptions(_ rng: inout SplitMix64) -> EngineOptions {
    var options = EngineOptions(outOfOrderness: .seconds(Int64.random(in: 0...3, using: &rng)), maxTimeSkew: nil)
    options.roundsQuietTimers = false
    if Int.random(in: 0..<3, using: &rng) == 0 { options.limits.maxPartialsPerKey = Int.random(in: 2...6, using: &rng) }
    if Int.random(in: 0..<3, using: &rng) == 0 { options.limits.keyTTL = .seconds(Int64.random(in: 1...8, using: &rng)) }
    if Bool.random(using: &rng) { options.keySweepFloor = 0 }
    return options
  }

  /// Replays one random stream (1–120 events of `kinds`, 1–4 users, times in half seconds with
  /// up to 4 s of arrival jitter) through an engine under `options` and one under
  /// `plainOptions`; `restored` checks the engines restored from each other's checkpoint
  /// (queue counts). Returns whether every comparison held; failures are reported with
  /// `label` and the stream so far.
  static func replay(
    _ programs: ProgramSet, rules: Int, options: EngineOptions, plainOptions: EngineOptions, kinds: [String],
    label: String, rng: inout SplitMix64, tally: inout Tally,
    restored: (_ fromQueued: Engine, _ fromPlain: Engine) -> Void
  ) throws -> Bool {
    var queued = Engine(programs: programs, options: options)
    var plain = Engine(programs: programs, options: plainOptions)
    // swift-format-ignore: NeverForceUnwrap
    // Every round compiles with `fields`.
    let slot = { (path: FieldPath) in programs.projection.existingSlot(for: path)!.index }
    let users = Int.random(in: 1...4, using: &rng)
    let count = Int.random(in: 1...120, using: &rng)
    let cut = Int.random(in: 0..<count, using: &rng)
    let mapping = Array(0..<rules)
    var time: Int64 = 0
    var trail: [String] = []
    let mixedSlot = programs.projection.existingSlot(for: mixed)
    let numbersOnly = mixedSlot != nil && Bool.random(using: &rng)
    for sequence in 0..<count {
      // Times in half seconds, so events fall exactly on window ends, and ties are common.
      time += 500 * Int64.random(in: 0...3, using: &rng)
      // Arrival jitter of up to 4 s: within the bound or late.
      let at = max(0, time - 500 * Int64.random(in: 0...8, using: &rng))
      var values = Array(repeating: Value.null, count: programs.projection.count)
      // swift-format-ignore: NeverForceUnwrap
      // `kinds` is never empty.
      let kind = kinds.randomElement(using: &rng)!
      // Now and then a type that is no string (a type error for the conditions, which the guard
      // lookup must leave to them) or none at all (no rule can use the event).
      switch Int.random(in: 0..<40, using: &rng) {
      case 0: values[slot(type)] = .int(7)
      case 1: values[slot(type)] = .null
      default: values[slot(type)] = .string(kind)
      }
      values[slot(amount)] = .int(Int64.random(in: 0...10, using: &rng))
      values[slot(user)] = .string("u\(Int.random(in: 0..<users, using: &rng))")
      values[slot(score)] = .int(Int64(sequence))
      if let m = mixedSlot {
        let kinds: [Value] = [.null, .int(1), .int(2), .float(2), .bool(true), .string("x"), .string("y")]
        // Numbers or null in some streams (as fields usually are of one kind), anything in others.
        values[m.index] = kinds[Int.random(in: 0..<(numbersOnly ? 4 : kinds.count), using: &rng)]
      }
      let id = "\(kind)\(sequence)"
      trail.append("\(id)@\(at)/\(values[slot(user)])/\(values[slot(amount)])/t=\(values[slot(type)])/m=\(mixedSlot.map { values[$0.index] } ?? .null)")
      let event = EventRecord(
        time: .milliseconds(at), sequence: UInt64(sequence), line: sequence + 1, identity: id, slots: EventSlots(values))
      var a: [EngineAction] = []
      var b: [EngineAction] = []
      queued.eventArrived(event, into: &a)
      plain.eventArrived(event, into: &b)
      let (da, db) = (describe(a), describe(b))
      add(da, to: &tally)
      guard da == db, queued.openPartialMatches == plain.openPartialMatches, typeErrors(queued) == typeErrors(plain) else {
        XCTFail(
          """
          \(label) after \(id)
          trail: \(trail.joined(separator: " "))
          queued (\(queued.openPartialMatches) open, type errors \(typeErrors(queued))): \(da)
          plain  (\(plain.openPartialMatches) open, type errors \(typeErrors(plain))): \(db)
          """)
        return false
      }
      if sequence == cut {
        // Both write the same partial matches (states, starts, events) and counters, and each
        // side's checkpoint restores into the other's form.
        let (queuedSnapshot, plainSnapshot) = (queued.snapshot(), plain.snapshot())
        XCTAssertEqual(partials(queuedSnapshot), partials(plainSnapshot), "\(label): checkpoints; trail: \(trail)")
        XCTAssertEqual(counters(queuedSnapshot), counters(plainSnapshot), "\(label): counters at the cut")
        let fromQueued = try Engine(restoring: queuedSnapshot, programs: programs, options: plainOptions, ruleMapping: mapping)
        let fromPlain = try Engine(restoring: plainSnapshot, programs: programs, options: options, ruleMapping: mapping)
        restored(fromQueued, fromPlain)
        tally.filteredWalks += queued.pairWalksFiltered
        XCTAssertEqual(fromQueued.openPartialMatches, queued.openPartialMatches, "\(label): restored from queues")
        XCTAssertEqual(fromPlain.openPartialMatches, plain.openPartialMatches, "\(label): restored into queues")
        queued = fromPlain
        plain = fromQueued
        trail.append("cut")
      }
    }
    // The same evaluation errors per rule (conditions are tested against the same partial
    // matches on both sides), and the same partial matches left for the end of input.
    let (queuedSnapshot, plainSnapshot) = (queued.snapshot(), plain.snapshot())
    XCTAssertEqual(partials(queuedSnapshot), partials(plainSnapshot), "\(label): last checkpoints; trail: \(trail)")
    XCTAssertEqual(counters(queuedSnapshot), counters(plainSnapshot), "\(label): counters; trail: \(trail)")
    tally.arithmeticErrors += queuedSnapshot.rules.reduce(0) { $0 + $1.arithmeticErrors }
    var a: [EngineAction] = []
    var b: [EngineAction] = []
    queued.finish(into: &a)
    plain.finish(into: &b)
    XCTAssertEqual(describe(a), describe(b), "\(label): the end of input; trail: \(trail)")
    add(describe(a), to: &tally)
    // The events the end of input released were tested too.
    XCTAssertEqual(typeErrors(queued), typeErrors(plain), "\(label): type errors at the end")
    tally.typeErrors += queued.typeErrors.reduce(0) { $0 + $1.count }
    tally.filteredWalks += queued.pairWalksFiltered
    return true
  }

  /// Adds described actions to the tally.
  private static func add(_ described: [String], to tally: inout Tally) {
    tally.alerts += described.count { $0.hasPrefix("alert") }
    tally.capDrops += described.count { $0.hasPrefix("drop max_partials_per_key") }
    tally.ttlDrops += described.count { $0.hasPrefix("drop key_ttl") }
  }

  /// What a test compares of an action: everything an alert or a drop report carries.
  static func describe(_ actions: [EngineAction]) -> [String] {
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
  static func partials(_ snapshot: EngineSnapshot) -> [String] {
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
  static func counters(_ snapshot: EngineSnapshot) -> [String] {
    snapshot.rules.map { rule in
      """
      \(rule.name): alerts \(rule.alerts), type errors \(rule.typeErrors) (first: \(rule.firstTypeError ?? "-")), \
      arithmetic errors \(rule.arithmeticErrors)
      """
    }
  }

  /// Each rule's type errors and the first one's text, as the run summary prints them.
  static func typeErrors(_ engine: Engine) -> [String] {
    engine.typeErrors.map { "\($0.rule) \($0.count) \($0.first ?? "-")" }
  }
}
