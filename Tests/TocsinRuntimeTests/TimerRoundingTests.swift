import TocsinCompiler
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinRuntime

/// Which rules get rounded timers (``Engine/timerQuantum(for:options:)``), and the rounding.
/// That rounding never changes output is shown on every fixture and a generated stream
/// (`CheckpointReplayTests.testRoundingQuietTimersChangesNothing`), and at the engine's API
/// (`EngineTests.testQuietTimers_FireAtTheRoundedDeadline_AndChangeNoMatch`).
final class TimerRoundingTests: XCTestCase {
  private static let typeField = FieldPath(["type"])

  private static func step(_ t: String, _ kind: StepKind = .take, _ quantifier: Quantifier = .once) -> StepSpec {
    StepSpec(
      name: t, kind: kind, contiguity: .relaxed, quantifier: quantifier,
      condition: .binary(.equal, .field(typeField), .constant(.string(t))))
  }

  private static func quantum(_ spec: RuleSpec, _ options: EngineOptions = EngineOptions()) -> Int64 {
    let program = NFACompiler.compile([spec], extraFields: [typeField]).rules[0]
    return Engine.timerQuantum(for: RuleMatcher(program: program), options: options)
  }

  /// The rule shapes and options both tables below use.
  private static let pair = [step("a"), step("b")]
  private static let burst = [step("a", .take, .timesOrMore(3))]
  private static let timeoutEmit = [EmitField(name: "n", value: .constant(.int(1)))]
  private static var budget: EngineOptions {
    var options = EngineOptions()
    options.limits.maxStateBytes = 1 << 30
    return options
  }
  private static var exact: EngineOptions {
    var options = EngineOptions()
    options.roundsQuietTimers = false
    return options
  }

  func testQuantum_ByRuleShape() {
    let (pair, burst, budget, exact, timeoutEmit) = (Self.pair, Self.burst, Self.budget, Self.exact, Self.timeoutEmit)
    var ttl = EngineOptions()
    ttl.limits.keyTTL = .minutes(30)
    let cases: [(String, RuleSpec, EngineOptions, Int64)] = [
      // 1 h / 256 is ~14 s: capped at 2^30 ns.
      ("quiet pair, 1 h", RuleSpec(name: "r", steps: pair, within: .hours(1)), EngineOptions(), 1 << 30),
      // 5 s / 256 = 19,531,250 ns: the power of two below is 2^24.
      ("quiet pair, 5 s", RuleSpec(name: "r", steps: pair, within: .seconds(5)), EngineOptions(), 1 << 24),
      (
        "between steps only, 10 s",
        RuleSpec(name: "r", steps: pair, withinBetweenSteps: .seconds(10)), EngineOptions(), 1 << 25
      ),
      (
        "the shorter window decides",
        RuleSpec(name: "r", steps: pair, within: .hours(1), withinBetweenSteps: .seconds(5)), EngineOptions(), 1 << 24
      ),
      ("512 ns window", RuleSpec(name: "r", steps: pair, within: EventDuration(nanoseconds: 512)), EngineOptions(), 2),
      ("511 ns window", RuleSpec(name: "r", steps: pair, within: EventDuration(nanoseconds: 511)), EngineOptions(), 1),
      ("no window", RuleSpec(name: "r", steps: pair), EngineOptions(), 1),
      (
        "on timeout emit",
        RuleSpec(name: "r", steps: pair, within: .hours(1), onTimeout: timeoutEmit), EngineOptions(), 1
      ),
      (
        "trailing absence",
        RuleSpec(name: "r", steps: [Self.step("a"), Self.step("b", .notFollowedBy)], within: .hours(1)),
        EngineOptions(), 1
      ),
      // A time-out can release a match held back by the skip strategy.
      (
        "held matches",
        RuleSpec(name: "r", steps: pair, within: .hours(1), skip: .skipPastLastEvent), EngineOptions(), 1
      ),
      // A shared run emits its oldest match at once, and these strategies prune the rest.
      (
        "shared run, past_last_event",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipPastLastEvent), EngineOptions(), 1 << 30
      ),
      (
        "shared run, to_next",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipToNext), EngineOptions(), 1 << 30
      ),
      (
        "shared run, to_last",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipToLast(step: 0, name: "a")), EngineOptions(),
        1 << 30
      ),
      // `to_first` keeps the run's oldest partial match after a match, so later ones are held.
      (
        "shared run, to_first",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipToFirst(step: 0, name: "a")), EngineOptions(), 1
      ),
      ("shared run, no skip", RuleSpec(name: "r", steps: burst, within: .hours(1)), EngineOptions(), 1 << 30),
      ("state budget", RuleSpec(name: "r", steps: pair, within: .hours(1)), budget, 1),
      ("idle-key TTL", RuleSpec(name: "r", steps: pair, within: .hours(1)), ttl, 1),
      ("rounding off", RuleSpec(name: "r", steps: pair, within: .hours(1)), exact, 1),
    ]
    for (name, spec, options, expected) in cases {
      XCTAssertEqual(Self.quantum(spec, options), expected, name)
    }
  }

  /// Rules whose time-outs are quiet only while their key holds no match back round their
  /// timers then (``Engine/heldTimerQuantum(for:options:)``); every other rule gets 1 there.
  func testHeldQuantum_ByRuleShape() {
    let (pair, burst, budget, exact, timeoutEmit) = (Self.pair, Self.burst, Self.budget, Self.exact, Self.timeoutEmit)
    let held = RuleSpec(name: "r", steps: pair, within: .hours(1), skip: .skipPastLastEvent)
    let cases: [(String, RuleSpec, EngineOptions, Int64)] = [
      ("held matches, past_last_event", held, EngineOptions(), 1 << 30),
      (
        "held matches, to_next", RuleSpec(name: "r", steps: pair, within: .seconds(5), skip: .skipToNext),
        EngineOptions(), 1 << 24
      ),
      (
        "shared run, to_first",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipToFirst(step: 0, name: "a")), EngineOptions(),
        1 << 30
      ),
      // Always quiet: rounded by `timerQuantum` instead.
      ("quiet pair", RuleSpec(name: "r", steps: pair, within: .hours(1)), EngineOptions(), 1),
      (
        "shared run, past_last_event",
        RuleSpec(name: "r", steps: burst, within: .hours(1), skip: .skipPastLastEvent), EngineOptions(), 1
      ),
      // A time-out can emit.
      (
        "on timeout emit",
        RuleSpec(name: "r", steps: pair, within: .hours(1), skip: .skipPastLastEvent, onTimeout: timeoutEmit),
        EngineOptions(), 1
      ),
      ("no window", RuleSpec(name: "r", steps: pair, skip: .skipPastLastEvent), EngineOptions(), 1),
      ("state budget", held, budget, 1),
      ("rounding off", held, exact, 1),
    ]
    for (name, spec, options, expected) in cases {
      let program = NFACompiler.compile([spec], extraFields: [Self.typeField]).rules[0]
      let matcher = RuleMatcher(program: program)
      XCTAssertEqual(Engine.heldTimerQuantum(for: matcher, options: options), expected, name)
      // Never both: a rule rounds always, only while nothing is held, or not at all.
      XCTAssertFalse(Engine.timerQuantum(for: matcher, options: options) > 1 && expected > 1, name)
    }
  }

  func testRoundedUp() {
    let q: Int64 = 1 << 20
    let cases: [(Int64, Int64, EventTime)] = [
      (0, q, EventTime(nanosecondsSinceEpoch: 0)),
      (1, q, EventTime(nanosecondsSinceEpoch: q)),
      (q, q, EventTime(nanosecondsSinceEpoch: q)),
      (q + 1, q, EventTime(nanosecondsSinceEpoch: 2 * q)),
      (-1, q, EventTime(nanosecondsSinceEpoch: 0)),
      (-q - 1, q, EventTime(nanosecondsSinceEpoch: -q)),
      (12_345, 1, EventTime(nanosecondsSinceEpoch: 12_345)),
      (.max - 1, q, .infinity),
      (.max, q, .infinity),
      (.min, q, .negativeInfinity),
    ]
    for (ns, quantum, expected) in cases {
      XCTAssertEqual(
        Engine.roundedUp(EventTime(nanosecondsSinceEpoch: ns), to: quantum), expected, "\(ns) up to \(quantum)")
    }
  }
}
