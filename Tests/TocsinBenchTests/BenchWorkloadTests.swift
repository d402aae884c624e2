import Foundation
@testable import TocsinApp
import TocsinCore
import TocsinIO
import TocsinTestSupport
import XCTest

/// The workloads: generator knobs, unchanged default streams, clean rule folders, and one small
/// measurement through the real passes.
final class BenchWorkloadTests: XCTestCase {
  /// FNV-1a 64 of the NDJSON bytes (lines joined and terminated by `\n`).
  private func fingerprint(_ config: PaymentStreamConfig) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    PaymentStream.generate(config) { line in
      for byte in line.utf8 + [UInt8(ascii: "\n")] {
        hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
      }
    }
    return hash
  }

  /// The knobs draw nothing when off: a stream without them is byte-identical to the one the
  /// generator wrote before they existed (hashes taken from `tocsin generate` of commit c62d51b,
  /// `--events 20000 --users 2000 --geo-pairs 30 --velocity-bursts 30 --brute-force 15
  /// --card-testing 15`).
  func testKnobsOff_StreamUnchanged() {
    let config = PaymentStreamConfig(
      events: 20_000, users: 2_000, geoPairs: 30, velocityBursts: 30, bruteForceCases: 15,
      cardTestingCases: 15)
    XCTAssertEqual(fingerprint(config), 0x0140_1fff_a2da_6f57)
  }

  /// `--max-disorder` replaces every workload's arrival disorder and is passed to the child
  /// processes; zero gives each workload its own events in time order.
  func testMaxDisorder_ReplacesEveryWorkloadsDisorder() throws {
    func options(_ disorder: EventDuration?) -> BenchRunner.Options {
      BenchRunner.Options(
        workloads: BenchWorkload.names, events: 5_000, users: nil, runs: 1, seed: 42, rulesOverride: nil, root: ".",
        maxDisorder: disorder)
    }
    for name in BenchWorkload.names {
      let own = try BenchRunner.workload(name, options: options(nil))
      XCTAssertEqual(own.stream.maxDisorder, .seconds(5), name)
      XCTAssertFalse(options(nil).childArguments(for: name).contains("--max-disorder"), name)
      let ordered = try BenchRunner.workload(name, options: options(.zero))
      XCTAssertEqual(ordered.stream.maxDisorder, .zero, name)
      let arguments = options(.milliseconds(250)).childArguments(for: name)
      let flag = try XCTUnwrap(arguments.firstIndex(of: "--max-disorder"), name)
      XCTAssertEqual(EventDuration(parsing: arguments[flag + 1]), .milliseconds(250), name)
      // The same events, in time order.
      var times: [Int64] = []
      var lines: [String] = []
      PaymentStream.generate(ordered.stream) { line in
        lines.append(line)
        if let ts = line.range(of: "\"ts\":") {
          times.append(Int64(line[ts.upperBound...].prefix { $0.isNumber }) ?? -1)
        }
      }
      XCTAssertEqual(times.count, 5_000, name)
      XCTAssertEqual(times, times.sorted(), "\(name): in time order")
      var shuffled: [String] = []
      PaymentStream.generate(own.stream) { shuffled.append($0) }
      XCTAssertNotEqual(shuffled, lines, "\(name): the workload's own stream is not in time order")
      XCTAssertEqual(shuffled.sorted(), lines.sorted(), "\(name): the same events")
    }
  }

  /// Collected `user`/`card` values per line.
  private func keys(_ config: PaymentStreamConfig) -> (users: [String], cards: [String]) {
    var users: [String] = []
    var cards: [String] = []
    PaymentStream.generate(config) { line in
      if let u = Self.field(line, "user") { users.append(u) }
      if let c = Self.field(line, "card") { cards.append(c) }
    }
    return (users, cards)
  }

  private static func field(_ line: String, _ name: String) -> String? {
    guard let key = line.range(of: "\"\(name)\":\"") else { return nil }
    return String(line[key.upperBound...].prefix { $0 != "\"" })
  }

  func testW3_EveryEventANewUserAndCard() throws {
    let workload = try XCTUnwrap(BenchWorkload.named("W3", events: 20_000, seed: 9))
    XCTAssertEqual(workload.expectedAlerts, 0)
    let (users, cards) = keys(workload.stream)
    XCTAssertEqual(users.count, 20_000)
    XCTAssertEqual(Set(users).count, 20_000, "every event a distinct user")
    XCTAssertGreaterThan(cards.count, 5_000)
    XCTAssertEqual(Set(cards).count, cards.count, "every purchase a distinct card")
  }

  func testW4_HotKeyShareWithinOnePercent() throws {
    for seed: UInt64 in [1, 2] {
      let workload = try XCTUnwrap(BenchWorkload.named("W4", events: 50_000, seed: seed))
      let users = keys(workload.stream).users
      let hot = users.filter { $0 == "u000000" }.count
      let share = Double(hot) / Double(users.count)
      XCTAssertEqual(share, 0.10, accuracy: 0.01, "seed \(seed): \(hot) of \(users.count)")
      // No other user comes near it.
      let counts = Dictionary(grouping: users.filter { $0 != "u000000" }, by: { $0 }).mapValues(\.count)
      XCTAssertLessThan(counts.values.max() ?? 0, 100, "seed \(seed)")
    }
  }

  func testW1_IsTheDefaultPaymentStream() throws {
    let workload = try XCTUnwrap(BenchWorkload.named("W1", events: 1_000_000, seed: 42))
    XCTAssertEqual(workload.stream, PaymentStreamConfig())
    XCTAssertEqual(workload.expectedAlerts, 800)
    XCTAssertNil(BenchWorkload.named("W9", events: 10, seed: 1))
    XCTAssertEqual(BenchWorkload.named("w2", events: 10, seed: 1)?.name, "W2")
  }

  /// The bench rule folders are clean: no errors and no warnings; W2 has twenty rules.
  func testBenchRuleFolders_CheckCleanly() throws {
    for (folder, count) in [("bench/rules/w2", 20), ("bench/rules/w5", 3)] {
      let files = try RuleSources.load([Repository.path(folder)])
      let report = Checker.check(files, colored: false, strict: true)
      XCTAssertEqual(report.errors, 0, "\(folder):\n\(report.text)")
      XCTAssertEqual(report.warnings, 0, "\(folder):\n\(report.text)")
      XCTAssertEqual(report.rules, count, folder)
    }
  }

  /// The parse-only pass decodes every event of the stream, as the full pass does, into one
  /// slot buffer given back after each event (as a session's engine gives buffers back), so
  /// that it measures decoding and not an allocation and a free per event.
  func testParsePass_DecodesEveryEventIntoAReusedBuffer() throws {
    let options = BenchRunner.Options(
      workloads: ["W1"], events: 2_000, users: nil, runs: 1, seed: 5, rulesOverride: nil, root: Repository.root)
    let workload = try BenchRunner.workload("W1", options: options)
    let programs = try XCTUnwrap(RuleSet.load(workload.rulePaths, ingest: IngestOptions()).programs)
    let input = Benchmark.paymentStream(workload.stream)
    let pool = EventSlots.Pool()
    let decoded = try Benchmark.parsePass(
      programs: programs, input: input, configuration: ReplayConfiguration(), pool: pool)
    let full = try Benchmark.fullPass(programs: programs, input: input, configuration: ReplayConfiguration())
    XCTAssertEqual(decoded, 2_000)
    XCTAssertEqual(decoded, full.counts.events)
    // One buffer, taken and given back for each event: none allocated per event and dropped.
    XCTAssertEqual(pool.count, 1)
  }

  /// The real passes on small streams: the known alert counts come out, and every figure is
  /// filled in.
  func testMeasure_SmallWorkloadsGiveTheKnownAlerts() throws {
    let options = BenchRunner.Options(
      workloads: ["W1", "W3", "W4", "W5"], events: 3_000, users: nil, runs: 2, seed: 5, rulesOverride: nil,
      root: Repository.root)
    for name in options.workloads {
      let result = try BenchRunner.measureHere(name, options: options, probe: nil) { _ in }
      XCTAssertEqual(result.events, 3_000, name)
      XCTAssertTrue(result.alertsAsExpected, "\(name): \(result.alerts) vs \(String(describing: result.expectedAlerts))")
      XCTAssertEqual(result.fullSeconds.count, 2, name)
      XCTAssertEqual(result.parseSeconds.count, 2, name)
      XCTAssertEqual(result.teardownSeconds?.count, 2, name)
      // Two workers: a run each, as many alerts as one worker, both threads busy for part of it.
      XCTAssertEqual(result.twoWorkerSeconds?.count, 2, name)
      XCTAssertNil(result.twoWorkerAlertsDiffering, name)
      XCTAssertGreaterThan(result.twoWorkerEventsPerSecond ?? 0, 0, name)
      XCTAssertGreaterThan(result.twoWorkerEngineBusy ?? 0, 0, name)
      XCTAssertGreaterThan(result.twoWorkerDecodingBusy ?? 0, 0, name)
      XCTAssertGreaterThan(result.eventsPerSecond, 0, name)
      XCTAssertGreaterThan(result.latency?.p99 ?? 0, 0, name)
      XCTAssertNil(result.allocations, "no probe in a test binary")
    }
    let w1 = try XCTUnwrap(BenchWorkload.named("W1", events: 3_000, seed: 5))
    XCTAssertGreaterThan(w1.expectedAlerts ?? 0, 0)
  }

  /// `--rule-costs` leaves each rule out in turn: one cost per rule, in rule order, and each
  /// pass without a rule writes every alert but that rule's (counted per rule from a pass of
  /// the whole set). Timings are not checked: they are the machine's.
  func testRuleCosts_LeaveEachRuleOut() throws {
    let workload = try XCTUnwrap(BenchWorkload.named("W1", events: 4_000, seed: 5))
    let ruleSet = try RuleSet.load([Repository.path("rules")], ingest: IngestOptions())
    let programs = try XCTUnwrap(ruleSet.programs)
    let input = Benchmark.paymentStream(workload.stream)
    var byRule: [String: Int] = [:]
    let session = ReplaySession(
      programs: programs, configuration: ReplayConfiguration(),
      routedAlerts: { alert, _ in byRule[alert.rule, default: 0] += 1 }, deadLetters: { _ in })
    try session.consumeAll(from: Replay.memoryReader(input, maxLineBytes: 1 << 20))
    try session.finish()
    let total = byRule.values.reduce(0, +)
    XCTAssertGreaterThan(byRule.count, 2, "several rules fire on the stream: \(byRule)")

    let costs = try Benchmark.ruleCosts(programs: programs, ingest: IngestOptions(), input: input, runs: 1)
    XCTAssertEqual(costs.map(\.rule), ruleSet.checked.rules.map(\.name))
    for cost in costs {
      XCTAssertEqual(cost.alertsWithout, total - byRule[cost.rule, default: 0], cost.rule)
      XCTAssertTrue(cost.nanosecondsPerEvent.isFinite, cost.rule)
    }
  }

  func testMeasure_W5KeepsPartialMatchesOpenUntilTheEnd() throws {
    let options = BenchRunner.Options(
      workloads: ["W5"], events: 3_000, users: nil, runs: 1, seed: 5, rulesOverride: nil,
      root: Repository.root)
    let result = try BenchRunner.measureHere("W5", options: options, probe: nil) { _ in }
    // Every login, purchase and account view opens a 24 h partial match; a 30 s stream closes none.
    XCTAssertGreaterThan(result.openPartialMatches, 1_000)
  }
}
