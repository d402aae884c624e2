import TocsinApp
import TocsinAutomaton
import TocsinCore
import TocsinIO
import TocsinRuntime
import TocsinTestSupport
import XCTest

/// A replay interrupted by checkpoints — state encoded to bytes, decoded, restored into a fresh
/// session — writes exactly the bytes of an uninterrupted replay, wherever it is cut.
final class CheckpointReplayTests: XCTestCase {
  /// Replays `text`, restarting from a checkpoint after every `cutEvery` lines (0: never).
  private func replay(
    _ programs: ProgramSet, _ configuration: ReplayConfiguration, _ text: String, cutEvery: Int,
    alternating: ReplayConfiguration? = nil, file: StaticString = #filePath, line: UInt = #line
  ) throws -> (alerts: [UInt8], deadLetters: [UInt8], counters: ReplayCounters, restarts: Int, reclaimed: Int) {
    try replay(programs, configuration, Array(text.utf8), cutEvery: cutEvery, alternating: alternating, file: file, line: line)
  }

  /// Replays `bytes` (not necessarily UTF-8: the hostile fixtures), cutting as above; `inspect`
  /// sees every checkpoint taken. With `alternating`, every other session after a cut runs
  /// with it instead of `configuration` (a checkpoint restored by a differently configured run).
  private func replay(
    _ programs: ProgramSet, _ configuration: ReplayConfiguration, _ bytes: [UInt8], cutEvery: Int,
    alternating: ReplayConfiguration? = nil, file: StaticString = #filePath, line: UInt = #line,
    inspect: (Checkpoint) -> Void = { _ in }
  ) throws -> (alerts: [UInt8], deadLetters: [UInt8], counters: ReplayCounters, restarts: Int, reclaimed: Int) {
    var alerts: [UInt8] = []
    var deadLetters: [UInt8] = []
    var sessions = 0
    func session() -> ReplaySession {
      defer { sessions += 1 }
      return ReplaySession(
        programs: programs, configuration: sessions % 2 == 1 ? alternating ?? configuration : configuration,
        alerts: { alerts += $0 }, deadLetters: { deadLetters += $0 })
    }
    var position = 0
    let reader = LineReader(maxLineBytes: configuration.maxLineBytes) { target in
      let n = min(target.count, bytes.count - position)
      bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + n])) }
      position += n
      return n
    }
    var current = session()
    var restarts = 0
    var sinceCut = 0
    while let next = try reader.nextLine() {
      try current.consume(next)
      sinceCut += 1
      guard cutEvery > 0, sinceCut == cutEvery else { continue }
      sinceCut = 0
      let checkpoint = current.checkpoint(
        input: Checkpoint.InputPosition(path: nil, byteOffset: reader.bytesConsumed, line: reader.lineNumber),
        sinks: [])
      let decoded = try Checkpoint(decoding: checkpoint.encoded())
      inspect(decoded)
      current = session()
      let changes = try current.restore(from: decoded)
      XCTAssertEqual(changes.changed + changes.removed + changes.added, [], file: file, line: line)
      restarts += 1
    }
    try current.finish()
    return (alerts, deadLetters, current.counters, restarts, current.engineState.keysReclaimed)
  }

  /// Asserts that two replays wrote the same alerts and dead letters (compared as text, so a
  /// failure shows the lines).
  private func assertSameOutput(
    _ run: (alerts: [UInt8], deadLetters: [UInt8], counters: ReplayCounters, restarts: Int, reclaimed: Int),
    _ reference: (alerts: [UInt8], deadLetters: [UInt8], counters: ReplayCounters, restarts: Int, reclaimed: Int),
    _ message: String, file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertEqual(
      String(decoding: run.alerts, as: UTF8.self), String(decoding: reference.alerts, as: UTF8.self), message,
      file: file, line: line)
    XCTAssertEqual(
      String(decoding: run.deadLetters, as: UTF8.self), String(decoding: reference.deadLetters, as: UTF8.self), message,
      file: file, line: line)
  }

  /// Where to cut a fixture's replay: every few lines (`small`) for a small case, at a few
  /// points (`big`) for a big one (the demo).
  private static func cuts(_ text: [UInt8], small: [Int], big: [Int] = [0, 1999]) -> [Int] {
    text.lazy.filter { $0 == 0x0A }.count > 200 ? big : small
  }

  /// Calls `body` with every fixture's name, compiled rules, configuration and events.
  private func forEachFixture(_ body: (String, ProgramSet, ReplayConfiguration, [UInt8]) throws -> Void) throws {
    for found in try FixtureRunner.discover(root: Repository.path("fixtures")) {
      let fixture = try FixtureCase.load(directory: found.directory, name: found.name)
      let ruleSet = try RuleSet.load(fixture.rulePaths, ingest: fixture.configuration.ingest)
      let programs = try XCTUnwrap(ruleSet.programs, found.name)
      let text = Array(try XCTUnwrap(FileManager.default.contents(atPath: fixture.eventsPath), found.name))
      try body(found.name, programs, fixture.configuration, text)
    }
  }

  func testEveryFixtureGivesTheSameBytesWhenCut() throws {
    var checked = 0
    try forEachFixture { name, programs, configuration, text in
      let reference = try replay(programs, configuration, text, cutEvery: 0)
      for cut in Self.cuts(text, small: [1, 2, 3], big: [1999]) {
        let cutRun = try replay(programs, configuration, text, cutEvery: cut)
        XCTAssertEqual(cutRun.alerts, reference.alerts, "\(name), cut every \(cut)")
        XCTAssertEqual(cutRun.deadLetters, reference.deadLetters, "\(name), cut every \(cut)")
        XCTAssertEqual(cutRun.counters.events, reference.counters.events, name)
        XCTAssertEqual(cutRun.counters.badLines, reference.counters.badLines, name)
      }
      checked += 1
    }
    XCTAssertGreaterThan(checked, 20)
  }

  /// Reclaiming keys (Engine+Keys.swift) never changes output: every fixture, with a sweep after
  /// every watermark step, uncut and cut at every line (so free ids go through checkpoints),
  /// writes the bytes of a replay that never reclaims; with keys interned on arrival, and
  /// deferred (interned only when a match starts, so far fewer come and go).
  func testReclaimingKeysAtEveryStepChangesNothing() throws {
    var reclaimed = [false: 0, true: 0]
    try forEachFixture { name, programs, configuration, text in
      for defers in [false, true] {
        var never = configuration
        never.engine.keySweepFloor = Int.max
        never.engine.defersKeys = defers
        var always = never
        always.engine.keySweepFloor = 0
        let reference = try replay(programs, never, text, cutEvery: 0)
        XCTAssertEqual(reference.reclaimed, 0, name)
        for cut in Self.cuts(text, small: [0, 1, 2]) {
          let run = try replay(programs, always, text, cutEvery: cut)
          assertSameOutput(run, reference, "\(name), cut every \(cut), deferring keys: \(defers)")
          if cut == 0 { reclaimed[defers, default: 0] += run.reclaimed }
        }
      }
    }
    // The test means something only if keys were in fact reclaimed and came back.
    XCTAssertGreaterThan(reclaimed[false, default: 0], 1000)
    XCTAssertGreaterThan(reclaimed[true, default: 0], 50)
  }

  /// A generated stream of 10,000 events 700 ms apart (5 s of disorder, or `disorder`): it spans
  /// ~2 h, so the example rules' hour-long windows time out (10 ms apart, it spanned 100 s).
  private static func twoHourStream(seed: UInt64, arrivalSeed: UInt64, disorder: EventDuration = .seconds(5)) -> String {
    let config = PaymentStreamConfig(
      seed: seed, events: 10_000, users: 1_000, maxDisorder: disorder, geoPairs: 20,
      velocityBursts: 20, bruteForceCases: 10, cardTestingCases: 10, spacing: .milliseconds(700))
    var text = ""
    _ = PaymentStream.generate(config, arrivalSeed: arrivalSeed) { text += $0 + "\n" }
    return text
  }

  /// Whether `program`'s timers are rounded under the default options: its time-outs are quiet
  /// and it has a window.
  private static func roundsTimers(_ program: RuleProgram) -> Bool {
    let matcher = RuleMatcher(program: program)
    return matcher.timeOutsAreQuiet && matcher.shortestWindow != nil
  }

  /// Rounding the timers of rules whose time-outs emit nothing (`Engine.timerQuantum`) never
  /// changes output: every fixture, uncut and cut, and a generated stream of the example rules
  /// write the bytes of replays whose timers all fire at their exact deadlines.
  func testRoundingQuietTimersChangesNothing() throws {
    var quietRules = 0
    try forEachFixture { name, programs, configuration, text in
      var exact = configuration
      exact.engine.roundsQuietTimers = false
      let reference = try replay(programs, exact, text, cutEvery: 0)
      for cut in Self.cuts(text, small: [0, 2]) {
        let run = try replay(programs, configuration, text, cutEvery: cut)
        assertSameOutput(run, reference, "\(name), cut every \(cut)")
      }
      quietRules += programs.rules.count(where: Self.roundsTimers)
    }
    // The test means something only if many fixtures' rules have rounded timers.
    XCTAssertGreaterThanOrEqual(quietRules, 10)

    let text = Self.twoHourStream(seed: 29, arrivalSeed: 5)
    // The example rules (3 of 8 with rounded timers: card_velocity, geo_impossible_purchase,
    // scripted_admin_access), and the benchmark's W2 set (11 of 20).
    for rules in ["rules", "bench/rules/w2"] {
      let programs = try XCTUnwrap(RuleSet.load([Repository.path(rules)], ingest: IngestOptions()).programs)
      var exact = ReplayConfiguration()
      exact.engine.roundsQuietTimers = false
      let reference = try replay(programs, exact, text, cutEvery: 0)
      XCTAssertGreaterThan(reference.alerts.count, 0, rules)
      let rounded = programs.rules.count(where: Self.roundsTimers)
      XCTAssertEqual(rounded, rules == "rules" ? 3 : 11, "\(rules): rules with rounded timers")
      for cut in [0, 997] {
        let run = try replay(programs, ReplayConfiguration(), text, cutEvery: cut)
        XCTAssertEqual(run.alerts, reference.alerts, "\(rules), cut every \(cut)")
        XCTAssertEqual(run.deadLetters, reference.deadLetters, "\(rules), cut every \(cut)")
      }
    }
  }

  /// Rules that can hold a match back behind an older partial match (`skip past_last_event`,
  /// `to_next` with a second step that reads the first) round their timers only while their key
  /// holds nothing back (`Engine.heldTimerQuantum`); a key that holds a match gets an exact
  /// timer, so the time-out that releases the match is taken where an exact timer takes it. A
  /// stream of events a few milliseconds apart (finer than the 16 ms quantum of a 5 s window),
  /// in which matches are held and released by time-outs, gives the bytes of a replay whose
  /// timers are all exact: uncut, and cut every few lines, which restores each timer into the
  /// queue its key's state picks.
  func testRoundingWhileNothingIsHeldChangesNothing() throws {
    // The same pair under two skip strategies that hold a later match behind an older one.
    func heldRule(_ skip: String, within: String) -> String {
      """
      rule held_\(skip)
        key user
        begin a where type == "a"
        followed_by b where type == "b" and x == a.x
        within \(within)
        skip \(skip)
        emit { user: key, x: b.x }

      """
    }
    let source = heldRule("past_last_event", within: "5s") + heldRule("to_next", within: "3s")
    let programs = try XCTUnwrap(
      RuleSet.build([SourceFile(path: "held.tcs", text: source)], ingest: IngestOptions()).programs)
    for program in programs.rules {
      let matcher = RuleMatcher(program: program)
      // Quiet only while nothing is held: not rounded by `timerQuantum`, rounded by the new rule.
      XCTAssertTrue(matcher.endsSilently && !matcher.timeOutsAreQuiet && !matcher.sharesRuns, program.name)
    }
    // 200 users, `a` and `b` with x in 1...3, 1–9 ms apart with up to 40 ms of disorder (each
    // user's about a second apart): an `a` that no `b` with its x follows within the window holds
    // back the matches of its user's later `a`s until it times out.
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next(_ bound: UInt64) -> UInt64 {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return (state >> 33) % bound
    }
    var text = ""
    var time: Int64 = 1_767_225_600_000
    for i in 0..<12_000 {
      time += Int64(1 + next(9))
      let jitter = Int64(next(40))
      let type = next(5) < 2 ? "a" : "b"
      let user = next(200)
      let x = 1 + next(3)
      text += "{\"ts\":\(time - jitter),\"id\":\"e\(i)\",\"user\":\"u\(user)\",\"type\":\"\(type)\",\"x\":\(x)}\n"
    }
    var exact = ReplayConfiguration()
    exact.engine.roundsQuietTimers = false
    let reference = try replay(programs, exact, text, cutEvery: 0)
    XCTAssertGreaterThan(reference.alerts.count, 0)
    for cut in [0, 97, 997] {
      let run = try replay(programs, ReplayConfiguration(), text, cutEvery: cut)
      assertSameOutput(run, reference, "cut every \(cut)")
    }
  }

  /// Keeping shared runs in run queues (`RunQueue`) never changes output: every fixture, and
  /// generated streams of the example rules and of W2's, uncut and cut, write the bytes of
  /// replays that keep every rule in the general state; and checkpoints written with queues
  /// restore into runs without them, and the other way round.
  func testQueuingSharedRunsChangesNothing() throws {
    // The test means something only if fixtures' rules are queued.
    try assertQueuesChangeNothing(
      turnedOff: { $0.queuesSharedRuns = false }, queues: \.runQueues, inFixtures: 4,
      ruleSets: [("rules", 1), ("bench/rules/w2", 1)])
  }

  /// Keeping pair-shaped rules in pair queues never changes output, as for run queues above:
  /// every fixture (the pair fixture's three rules among them), and generated streams of the
  /// example rules (two `followed_by` pairs), W5's (three `followed_by_any` pairs) and W2's
  /// (all three kinds, one with a negation between, one `next`, one under `skip to_next`:
  /// eight), uncut and cut, with checkpoints restored
  /// across the two forms.
  func testQueuingPairsChangesNothing() throws {
    try assertQueuesChangeNothing(
      turnedOff: { $0.queuesPairs = false }, queues: \.pairQueues, inFixtures: 10,
      ruleSets: [("rules", 2), ("bench/rules/w5", 3), ("bench/rules/w2", 8)])
  }

  /// Taking the starts of keys with nothing open into start queues never changes output, as
  /// for run and pair queues above: every fixture, and generated streams of the example rules
  /// (three rules with a start queue) and W2's (eight: loops after a first step, a loop as the
  /// first step, `within … between steps`, `until`, groups, an optional step), uncut and cut,
  /// with checkpoints restored across the two forms.
  func testQueuingStartsChangesNothing() throws {
    try assertQueuesChangeNothing(
      turnedOff: { $0.queuesStarts = false }, queues: \.startQueueCount, inFixtures: 12,
      ruleSets: [("rules", 3), ("bench/rules/w2", 8)])
  }

  /// Deferring keys (Engine.swift, "Deferred keys": a key space interns a key only when a match
  /// starts, other events find it at release) never changes output, as for the queues above:
  /// every fixture, and generated streams of the example rules (three spaces that defer: user,
  /// card, session) and W2's, uncut and cut, with checkpoints restored across the two forms.
  func testDeferringKeysChangesNothing() throws {
    try assertQueuesChangeNothing(
      turnedOff: { $0.defersKeys = false }, queues: \.deferrableKeySpaces, inFixtures: 20,
      ruleSets: [("rules", 3), ("bench/rules/w2", 3)])
  }

  /// Replays every fixture, and a generated two-hour stream through each of `ruleSets` (with
  /// the number of queues `queues` counts there), with the queues `turnedOff` switches off and
  /// without, uncut and cut (alternating the two forms at every cut), and checks the bytes agree;
  /// the fixtures' rules must have at least `inFixtures` such queues in all.
  private func assertQueuesChangeNothing(
    turnedOff: (inout EngineOptions) -> Void, queues: KeyPath<Engine, Int>, inFixtures: Int,
    ruleSets: [(path: String, queues: Int)]
  ) throws {
    var plain = ReplayConfiguration()
    turnedOff(&plain.engine)
    var queued = 0
    try forEachFixture { name, programs, configuration, text in
      var general = configuration
      turnedOff(&general.engine)
      let reference = try replay(programs, general, text, cutEvery: 0)
      for cut in Self.cuts(text, small: [0, 1, 3]) {
        let run = try replay(programs, configuration, text, cutEvery: cut, alternating: cut > 0 ? general : nil)
        assertSameOutput(run, reference, "\(name), cut every \(cut)")
      }
      queued += Engine(programs: programs, options: configuration.engine)[keyPath: queues]
    }
    XCTAssertGreaterThanOrEqual(queued, inFixtures)

    let text = Self.twoHourStream(seed: 31, arrivalSeed: 7)
    // And in time order, where the watermark moves with nearly every event: the steps that
    // leave the queues alone until their earliest time-out (`TimeOutFloor`) are most of them.
    let ordered = Self.twoHourStream(seed: 31, arrivalSeed: 7, disorder: .zero)
    for (rules, count) in ruleSets {
      let programs = try XCTUnwrap(RuleSet.load([Repository.path(rules)], ingest: IngestOptions()).programs)
      XCTAssertEqual(Engine(programs: programs, options: ReplayConfiguration().engine)[keyPath: queues], count, rules)
      let reference = try replay(programs, plain, text, cutEvery: 0)
      XCTAssertGreaterThan(reference.alerts.count, 0, rules)
      for cut in [0, 997] {
        let run = try replay(programs, ReplayConfiguration(), text, cutEvery: cut, alternating: cut > 0 ? plain : nil)
        assertSameOutput(run, reference, "\(rules), cut every \(cut)")
      }
      let orderedReference = try replay(programs, plain, ordered, cutEvery: 0)
      XCTAssertGreaterThan(orderedReference.alerts.count, 0, rules)
      assertSameOutput(try replay(programs, ReplayConfiguration(), ordered, cutEvery: 0), orderedReference, "\(rules) in time order")
    }
  }

  func testGeneratedStreamGivesTheSameBytesWhenCut() throws {
    let config = PaymentStreamConfig(
      seed: 11, events: 20_000, users: 2_000, maxDisorder: .seconds(5), geoPairs: 20,
      velocityBursts: 20, bruteForceCases: 10, cardTestingCases: 10)
    var text = ""
    _ = PaymentStream.generate(config, arrivalSeed: 3) { text += $0 + "\n" }
    let programs = try XCTUnwrap(RuleSet.load([Repository.path("rules")], ingest: IngestOptions()).programs)
    let reference = try replay(programs, ReplayConfiguration(), text, cutEvery: 0)
    XCTAssertGreaterThan(reference.alerts.count, 0)
    let cut = try replay(programs, ReplayConfiguration(), text, cutEvery: 997)
    XCTAssertEqual(cut.restarts, 20)
    XCTAssertEqual(cut.alerts, reference.alerts)
    XCTAssertEqual(cut.deadLetters, reference.deadLetters)
  }

  func testAChangedRuleStartsFreshAndTheOthersKeepTheirState() throws {
    let before = """
      rule pair
        key user
        begin a where type == "a"
        followed_by b where type == "b"
        within 1h
      rule triple
        key user
        begin a where type == "a"
        followed_by b where type == "b"
        followed_by c where type == "c"
        within 1h
      """
    let after = before.replacingOccurrences(of: "followed_by c where type == \"c\"", with: "followed_by c where type == \"x\"")
    func programs(_ text: String) throws -> ProgramSet {
      try XCTUnwrap(RuleSet.build([SourceFile(path: "r.tcs", text: text)], ingest: IngestOptions()).programs)
    }
    // Three events, so time calibration (which holds the first events until their times agree)
    // has ended and a1 reached the rules before the checkpoint.
    let first = """
      {"ts":1000,"id":"a1","user":"u","type":"a"}
      {"ts":12000,"id":"x0","user":"u","type":"x"}
      {"ts":12500,"id":"x00","user":"u","type":"x"}
      """
    let second = """
      {"ts":13000,"id":"b1","user":"u","type":"b"}
      {"ts":14000,"id":"x1","user":"u","type":"x"}
      """
    var alerts: [UInt8] = []
    let old = ReplaySession(
      programs: try programs(before), configuration: ReplayConfiguration(), alerts: { alerts += $0 },
      deadLetters: { _ in })
    try feed(old, first, firstLine: 1)
    let checkpoint = try Checkpoint(
      decoding: old.checkpoint(input: .init(path: nil, byteOffset: 0, line: 3), sinks: []).encoded())
    let resumed = ReplaySession(
      programs: try programs(after), configuration: ReplayConfiguration(), alerts: { alerts += $0 },
      deadLetters: { _ in })
    let changes = try resumed.restore(from: checkpoint)
    XCTAssertEqual(changes.changed, ["triple"])
    XCTAssertEqual(changes.kept, ["pair"])
    try feed(resumed, second, firstLine: 4)
    try resumed.finish()
    let text = String(decoding: alerts, as: UTF8.self)
    // `pair` kept a1 across the restart; the changed `triple` lost it, so x1 completes nothing.
    XCTAssertTrue(text.contains("\"rule\":\"pair\""), text)
    XCTAssertFalse(text.contains("\"rule\":\"triple\""), text)
  }

  /// `fixtures/suppression`, cut and restored at every line: the written alerts, their
  /// `suppressed` counts and the summary's counter are those of an uninterrupted replay, and the
  /// checkpoints did carry suppression entries (else the cut would prove nothing).
  func testSuppressionSurvivesACutAtEveryLine() throws {
    let fixture = try FixtureCase.load(directory: Repository.path("fixtures/suppression"), name: "suppression")
    let ruleSet = try RuleSet.load(fixture.rulePaths, ingest: fixture.configuration.ingest)
    let programs = try XCTUnwrap(ruleSet.programs)
    let text = Array(try XCTUnwrap(FileManager.default.contents(atPath: fixture.eventsPath)))
    let reference = try replay(programs, fixture.configuration, text, cutEvery: 0)
    XCTAssertGreaterThan(reference.counters.suppressed, 0, "the fixture suppresses alerts")
    XCTAssertTrue(String(decoding: reference.alerts, as: UTF8.self).contains("\"suppressed\":"))
    var withEntries = 0
    let cut = try replay(programs, fixture.configuration, text, cutEvery: 1) { checkpoint in
      if let state = checkpoint.suppression, !state.entries.isEmpty { withEntries += 1 }
    }
    XCTAssertEqual(cut.restarts, text.lazy.filter { $0 == 0x0A }.count)
    XCTAssertGreaterThan(withEntries, 0)
    XCTAssertEqual(String(decoding: cut.alerts, as: UTF8.self), String(decoding: reference.alerts, as: UTF8.self))
    XCTAssertEqual(cut.counters.suppressedByRule, reference.counters.suppressedByRule)
    XCTAssertEqual(cut.deadLetters, reference.deadLetters)
  }

  /// A cut while the engine still holds the first events for time calibration keeps them (and
  /// their lines, for dead letters): `fixtures/time_poisoning_first_event` cut after 1 and 2
  /// lines gives the uninterrupted bytes, and those checkpoints were taken while calibrating.
  func testCalibrationSurvivesACut() throws {
    let fixture = try FixtureCase.load(
      directory: Repository.path("fixtures/time_poisoning_first_event"), name: "time_poisoning_first_event")
    let programs = try XCTUnwrap(RuleSet.load(fixture.rulePaths, ingest: fixture.configuration.ingest).programs)
    let text = Array(try XCTUnwrap(FileManager.default.contents(atPath: fixture.eventsPath)))
    let reference = try replay(programs, fixture.configuration, text, cutEvery: 0)
    XCTAssertGreaterThan(reference.deadLetters.count, 0, "the poisoned first event is dead-lettered")
    for cutEvery in [1, 2] {
      var calibrating = 0
      var heldLines = 0
      let cut = try replay(programs, fixture.configuration, text, cutEvery: cutEvery) { checkpoint in
        if checkpoint.engine.calibrating && !checkpoint.engine.calibrationHeld.isEmpty { calibrating += 1 }
        heldLines += checkpoint.heldLines.count
      }
      XCTAssertGreaterThan(calibrating, 0, "cut every \(cutEvery)")
      XCTAssertGreaterThan(heldLines, 0, "cut every \(cutEvery)")
      XCTAssertEqual(String(decoding: cut.alerts, as: UTF8.self), String(decoding: reference.alerts, as: UTF8.self))
      XCTAssertEqual(
        String(decoding: cut.deadLetters, as: UTF8.self), String(decoding: reference.deadLetters, as: UTF8.self))
    }
  }

  private func feed(_ session: ReplaySession, _ text: String, firstLine: Int) throws {
    let bytes = Array((text + "\n").utf8)
    var position = 0
    let reader = LineReader { target in
      let n = min(target.count, bytes.count - position)
      bytes.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[position..<position + n])) }
      position += n
      return n
    }
    reader.continueNumbering(fromOffset: 0, line: firstLine - 1)
    while let line = try reader.nextLine() { try session.consume(line) }
  }
}
