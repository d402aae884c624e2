import TocsinAutomaton
import TocsinCompiler
import TocsinCore
import TocsinExpressions
import TocsinRuntime
import XCTest

/// The state limits: the per-key cap, the idle-key TTL and the state budget drop the oldest
/// partial matches, report each drop, and survive a snapshot and restore.
final class StateLimitTests: XCTestCase {
  private let type = FieldPath(["type"])
  private let user = FieldPath(["user"])

  /// `a` followed by `b`, keyed by user, with no window (unbounded without limits).
  private func engine(_ limits: StateLimits, within: EventDuration? = nil) -> Engine {
    let step = { (name: String, t: String) in
      StepSpec(name: name, condition: .binary(.equal, .field(self.type), .constant(.string(t))))
    }
    let spec = RuleSpec(name: "r", keyFields: [user], steps: [step("a", "a"), step("b", "b")], within: within)
    let programs = NFACompiler.compile([spec], extraFields: [type, user])
    var options = EngineOptions(outOfOrderness: .zero)
    options.limits = limits
    return Engine(programs: programs, options: options)
  }

  private var sequence: UInt64 = 0
  private func feed(_ engine: Engine, _ id: String, _ t: String, user u: String, at ms: Int64) -> [EngineAction] {
    defer { sequence += 1 }
    var actions: [EngineAction] = []
    engine.eventArrived(
      EventRecord(
        time: .milliseconds(ms), sequence: sequence, line: Int(sequence) + 1, identity: id,
        slots: [.string(t), .string(u)]),
      into: &actions)
    return actions
  }

  private func describe(_ actions: [EngineAction]) -> [String] {
    actions.compactMap { action in
      switch action {
      case .alert(let alert): return "alert " + alert.events.flatMap(\.identities).joined(separator: " ")
      case .stateLimit(let drop): return "drop \(drop.limit.rawValue) \(drop.key) \(drop.dropped)"
      case .late, .missingKey, .timeSkew: return nil
      }
    }
  }

  func testPerKeyCap_DropsTheOldestPartialMatches() {
    let e = engine(StateLimits(maxPartialsPerKey: 3))
    var out: [String] = []
    for i in 1...5 { out += describe(feed(e, "a\(i)", "a", user: "u", at: Int64(i) * 1000)) }
    out += describe(feed(e, "b1", "b", user: "u", at: 6000))
    var end: [EngineAction] = []
    e.finish(into: &end)
    out += describe(end)
    // Zero out-of-orderness: each event is released by the next one.
    XCTAssertEqual(out, ["drop max_partials_per_key u 1", "drop max_partials_per_key u 1", "alert a3 b1", "alert a4 b1", "alert a5 b1"])
    XCTAssertEqual(e.counters.limits.droppedByKeyCap, 2)
  }

  func testKeyTTL_DropsIdleKeysOnly() {
    let e = engine(StateLimits(keyTTL: .seconds(10)))
    var out: [String] = []
    out += describe(feed(e, "a1", "a", user: "idle", at: 1000))
    for i in 1...30 { out += describe(feed(e, "x\(i)", "a", user: "busy", at: Int64(i) * 1000 + 500)) }
    out += describe(feed(e, "b1", "b", user: "idle", at: 40_000))
    out += describe(feed(e, "b2", "b", user: "busy", at: 40_001))
    var end: [EngineAction] = []
    e.finish(into: &end)
    out += describe(end)
    XCTAssertEqual(out.filter { $0.hasPrefix("drop") }, ["drop key_ttl idle 1"])
    XCTAssertFalse(out.contains { $0.hasSuffix(" b1") }, "the idle key's partial match was dropped")
    XCTAssertEqual(out.filter { $0.hasSuffix(" b2") }.count, 30, "the busy key kept all of its")
  }

  func testBudget_DropsOldestKeysStateAndStaysNearTheBudget() {
    // 5 000 keys cost ~600 kB of never-reclaimed key tables; their partial matches ~1.4 MB more.
    let budget = 1_000_000
    let e = engine(StateLimits(maxStateBytes: budget))
    var drops = 0
    for i in 0..<5_000 {
      drops += describe(feed(e, "a\(i)", "a", user: "u\(i)", at: Int64(i) * 10)).filter { $0.hasPrefix("drop max_state_bytes") }.count
      if e.estimatedStateBytes > budget + 1_000 {
        XCTFail("estimate \(e.estimatedStateBytes) past the budget after event \(i)")
        break
      }
    }
    XCTAssertGreaterThan(drops, 0)
    XCTAssertEqual(e.counters.limits.droppedByBudget, drops)
    // The oldest keys went first: u0's state is gone, the newest key's is not.
    var actions: [EngineAction] = []
    e.eventArrived(EventRecord(time: .milliseconds(60_000), sequence: 99_998, line: 0, identity: "b0", slots: [.string("b"), .string("u0")]), into: &actions)
    e.eventArrived(EventRecord(time: .milliseconds(60_001), sequence: 99_999, line: 0, identity: "bN", slots: [.string("b"), .string("u4998")]), into: &actions)
    e.finish(into: &actions)
    let alerts = describe(actions).filter { $0.hasPrefix("alert") }
    XCTAssertEqual(alerts, ["alert a4998 bN"])
  }

  func testLimits_SurviveASnapshotAndRestore() throws {
    let limits = StateLimits(maxPartialsPerKey: 3, keyTTL: .seconds(10), maxStateBytes: 1 << 20)
    let reference = engine(limits)
    let first = engine(limits)
    var expected: [String] = []
    var got: [String] = []
    let events: [(String, String, String, Int64)] = (0..<40).map { i in
      ("e\(i)", i % 7 == 6 ? "b" : "a", "u\(i % 3)", Int64(i) * 700)
    }
    var restored: Engine?
    for (i, event) in events.enumerated() {
      sequence = UInt64(i)
      expected += describe(feed(reference, event.0, event.1, user: event.2, at: event.3))
      sequence = UInt64(i)
      let target = restored ?? first
      got += describe(feed(target, event.0, event.1, user: event.2, at: event.3))
      if i == 19 {
        restored = try Engine(
          restoring: first.snapshot(), programs: first.programs, options: first.options, ruleMapping: [0])
      }
    }
    var endA: [EngineAction] = []
    var endB: [EngineAction] = []
    reference.finish(into: &endA)
    (restored ?? first).finish(into: &endB)
    XCTAssertEqual(got + describe(endB), expected + describe(endA))
    XCTAssertEqual((restored ?? first).counters.limits, reference.counters.limits)
  }
}
