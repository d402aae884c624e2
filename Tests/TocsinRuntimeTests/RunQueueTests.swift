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
  private typealias Q = QueueEquivalence

  func testQueues_MatchTheGeneralState_OnRandomStreams() throws {
    var rng = SplitMix64(seed: 0x0_0EE5_2026)
    var queuedRounds = 0
    var tally = QueueEquivalence.Tally()
    for round in 0..<300 {
      let spec = Q.randomVelocitySpec(&rng)
      // Sometimes a second rule of the same key space (two queues, or a queue and the general
      // state, sharing the keys' open masks).
      let specs = Int.random(in: 0..<3, using: &rng) == 0 ? [spec, Q.randomVelocitySpec(&rng, name: "s")] : [spec]
      let programs = NFACompiler.compile(specs, extraFields: QueueEquivalence.fields)
      let options = QueueEquivalence.randomOptions(&rng)
      var plainOptions = options
      plainOptions.queuesSharedRuns = false
      XCTAssertEqual(Engine(programs: programs, options: plainOptions).runQueues, 0)
      let queues = specs.count { spec in
        switch spec.skip {
        case .noSkip, .skipToNext, .skipPastLastEvent: return true
        default: return false
        }
      }
      XCTAssertEqual(Engine(programs: programs, options: options).runQueues, queues, "round \(round): \(specs.map(\.skip))")
      if queues > 0 { queuedRounds += 1 }
      let label = """
        round \(round) (\(spec.steps[0].quantifier), within \(spec.within!), \(spec.skip), cap \
        \(options.limits.maxPartialsPerKey))
        """
      let ok = try QueueEquivalence.replay(
        programs, rules: specs.count, options: options, plainOptions: plainOptions, kinds: ["a", "a", "b"], label: label,
        rng: &rng, tally: &tally
      ) { fromQueued, fromPlain in
        XCTAssertEqual(fromQueued.runQueues, 0, "round \(round): restored into the general state")
        XCTAssertEqual(fromPlain.runQueues, queues, "round \(round): restored into queues")
      }
      guard ok else { return }
    }
    // The comparison means something only if queues were used, matched and were capped.
    // (Seen at this seed: 200 rounds, 13,193 alerts, 353 cap drops, 421 TTL drops.)
    XCTAssertGreaterThan(queuedRounds, 150)
    XCTAssertGreaterThan(tally.alerts, 5000)
    XCTAssertGreaterThan(tally.capDrops, 100)
    XCTAssertGreaterThan(tally.ttlDrops, 100)
  }

  /// Which rules get a queue: shared runs that end silently, with a window, without a state
  /// budget (whose bookkeeping reads the general state).
  func testWhichRulesAreQueued() {
    let loop = StepSpec(name: "burst", contiguity: .relaxed, quantifier: .timesOrMore(3), condition: Q.isType("a"))
    let cases: [(String, RuleSpec, StateLimits, Bool)] = [
      ("velocity", RuleSpec(name: "r", keyFields: [Q.user], steps: [loop], within: .seconds(60)), StateLimits(), true),
      ("no window", RuleSpec(name: "r", keyFields: [Q.user], steps: [loop]), StateLimits(), false),
      (
        "on timeout emit",
        RuleSpec(name: "r", keyFields: [Q.user], steps: [loop], within: .seconds(60), onTimeout: []), StateLimits(), false
      ),
      (
        "skip to_last",
        RuleSpec(name: "r", keyFields: [Q.user], steps: [loop], within: .seconds(60), skip: .skipToLast(step: 0, name: "burst")),
        StateLimits(), false
      ),
      ("state budget", RuleSpec(name: "r", keyFields: [Q.user], steps: [loop], within: .seconds(60)), StateLimits(maxStateBytes: 1 << 30), false),
      ("key TTL", RuleSpec(name: "r", keyFields: [Q.user], steps: [loop], within: .seconds(60)), StateLimits(keyTTL: .hours(1)), true),
      (
        "not a shared run",
        RuleSpec(name: "r", keyFields: [Q.user], steps: [loop, StepSpec(name: "b", condition: Q.isType("b"))], within: .seconds(60)),
        StateLimits(), false
      ),
    ]
    for (name, spec, limits, expected) in cases {
      var options = EngineOptions()
      options.limits = limits
      let programs = NFACompiler.compile([spec], extraFields: [Q.type])
      XCTAssertEqual(Engine(programs: programs, options: options).runQueues, expected ? 1 : 0, name)
      options.queuesSharedRuns = false
      XCTAssertEqual(Engine(programs: programs, options: options).runQueues, 0, name)
    }
  }
}
