import Foundation
import TocsinApp
import XCTest

/// `tocsin bench --against`: the order of the builds in each round, the paired figures (median
/// of the rounds' ratios, rounds each way), the runner's bookkeeping, the table and the JSON.
final class BenchComparisonTests: XCTestCase {
  private func result(_ name: String = "W1", full: Double, parse: Double = 0.2, alerts: Int = 800) -> BenchResult {
    var r = BenchResult(
      name: name, summary: "test", rules: 8, events: 1_000_000, inputBytes: 170_000_000, alerts: alerts,
      expectedAlerts: 800)
    r.fullSeconds = [full]
    r.parseSeconds = [parse]
    r.peakRSSBytes = 270 << 20
    r.latency = .init(p50: 500, p99: 10_000, p999: 20_000, max: 1_000_000)
    return r
  }

  private func comparison(_ workloads: [BenchComparison.Workload]) -> BenchComparison {
    BenchComparison(
      commit: "1136236", binary: "aaaaaaaaaaaa", againstPath: "/tmp/old/tocsin", againstBinary: "bbbbbbbbbbbb",
      date: "2026-12-06T03:00:00Z",
      machine: .init(cores: 2, cpu: "Intel Xeon", system: "Linux", memoryBytes: 24 << 30, transparentHugePages: "madvise"),
      settings: .init(events: 1_000_000, runs: 3, seed: 42, isolated: true, build: "release"), rounds: workloads.first?.old.count ?? 0,
      workloads: workloads)
  }

  func testOrder_EachBuildGoesFirstInAlternateRounds() {
    XCTAssertEqual(BenchComparison.order(round: 0), [.old, .new])
    XCTAssertEqual(BenchComparison.order(round: 1), [.new, .old])
    XCTAssertEqual(BenchComparison.order(round: 2), [.old, .new])
    let firsts = (0..<6).map { BenchComparison.order(round: $0)[0] }
    XCTAssertEqual(firsts.filter { $0 == .old }.count, 3)
    XCTAssertEqual(firsts.filter { $0 == .new }.count, 3)
  }

  func testPaired_TableOfCases() {
    struct Case {
      var old: [Double?]
      var new: [Double?]
      var expected: BenchComparison.Paired?
      var line: UInt
    }
    let cases = [
      // Odd rounds: the middle ratio, not the ratio of the medians (110/100 here either way).
      Case(
        old: [100, 100, 100], new: [110, 90, 120],
        expected: .init(old: 100, new: 110, ratio: 1.1, higher: 2, lower: 1, rounds: 3), line: #line),
      // The median of the ratios differs from the ratio of the medians when rounds differ in speed.
      Case(
        old: [100, 200, 400], new: [150, 200, 440],
        expected: .init(old: 200, new: 200, ratio: 1.1, higher: 2, lower: 0, rounds: 3), line: #line),
      // Even rounds: the mean of the two middle ratios.
      Case(old: [1, 1], new: [2, 4], expected: .init(old: 1, new: 3, ratio: 3, higher: 2, lower: 0, rounds: 2), line: #line),
      // A round without the figure on one side, or with an old figure of 0, is left out.
      Case(old: [nil, 2, 0], new: [5, 4, 3], expected: .init(old: 2, new: 4, ratio: 2, higher: 1, lower: 0, rounds: 1), line: #line),
      // Equal figures count neither way.
      Case(old: [7, 7], new: [7, 7], expected: .init(old: 7, new: 7, ratio: 1, higher: 0, lower: 0, rounds: 2), line: #line),
      // Nothing on both sides: no comparison.
      Case(old: [nil, 1], new: [1, nil], expected: nil, line: #line),
      Case(old: [], new: [], expected: nil, line: #line),
    ]
    for c in cases {
      XCTAssertEqual(BenchComparison.paired(c.old, c.new), c.expected, line: c.line)
    }
  }

  /// Each round runs both builds in ``BenchComparison/order(round:)``, and each result lands on its
  /// side in round order, workload by workload.
  func testCompare_RunsBothBuildsEveryRoundInOrder() throws {
    var calls: [String] = []
    var clock = 1.0
    let options = BenchRunner.Options(
      workloads: ["W1", "W3"], events: 1000, users: nil, runs: 1, seed: 42, rulesOverride: nil, root: ".")
    var progress: [String] = []
    let workloads = try BenchRunner.compare(options, rounds: 3, progress: { progress.append($0) }) { name, side in
      calls.append("\(name) \(side.rawValue)")
      clock += 1
      return self.result(name, full: clock)
    }
    XCTAssertEqual(
      calls,
      ["W1 old", "W1 new", "W1 new", "W1 old", "W1 old", "W1 new", "W3 old", "W3 new", "W3 new", "W3 old", "W3 old", "W3 new"])
    XCTAssertEqual(workloads.map(\.name), ["W1", "W3"])
    // The clock ticks once per call, so each result's time says when it was measured.
    XCTAssertEqual(workloads[0].old.map { $0.fullSeconds[0] }, [2, 5, 6])
    XCTAssertEqual(workloads[0].new.map { $0.fullSeconds[0] }, [3, 4, 7])
    XCTAssertEqual(workloads[1].old.map { $0.fullSeconds[0] }, [8, 11, 12])
    XCTAssertEqual(progress.first, "W1: round 1 of 3: the older build")
    XCTAssertEqual(progress[1], "W1: round 1 of 3: this build")
  }

  /// A failing measurement stops the comparison with its error.
  func testCompare_PassesOnAMeasurementsError() {
    struct Broken: Error {}
    let options = BenchRunner.Options(
      workloads: ["W1"], events: 1000, users: nil, runs: 1, seed: 42, rulesOverride: nil, root: ".")
    XCTAssertThrowsError(
      try BenchRunner.compare(options, rounds: 2, progress: { _ in }) { _, side in
        if side == .new { throw Broken() }
        return self.result(full: 1)
      }
    ) { XCTAssertTrue($0 is Broken) }
  }

  func testRenderComparison_FiguresRatiosAndRounds() {
    // events/s: old 1M/s in every round; new 1.25M, 0.8M (slower), 1.25M.
    let workload = BenchComparison.Workload(
      name: "W1", old: [result(full: 1.0), result(full: 1.0), result(full: 1.0)],
      new: [result(full: 0.8), result(full: 1.25), result(full: 0.8)])
    let text = BenchTable.renderComparison(comparison([workload]))
    XCTAssertTrue(text.hasPrefix("W1: 3 rounds, both builds in each (alternately first)"), text)
    let events = text.split(separator: "\n").first { $0.hasPrefix("  events/s") }
    XCTAssertEqual(
      events?.split(separator: " ").map(String.init), ["events/s", "1000000", "1250000", "1.250×", "2/1"], text)
    let ns = text.split(separator: "\n").first { $0.contains("ns/event") }
    XCTAssertEqual(ns?.split(separator: " ").map(String.init), ["ns/event", "1000", "800", "0.800×", "1/2"], text)
    // Unchanged figures: ratio 1, neither way.
    let rss = text.split(separator: "\n").first { $0.contains("peak RSS MiB") }
    XCTAssertEqual(rss?.split(separator: " ").map(String.init), ["peak", "RSS", "MiB", "270", "270", "1.000×", "0/0"])
    // Not measured on either side.
    let twoWorkers = text.split(separator: "\n").first { $0.contains("2 workers") }
    XCTAssertEqual(twoWorkers?.split(separator: " ").map(String.init), ["2", "workers", "events/s", "n/a", "n/a"])
    XCTAssertTrue(text.contains("alerts: 800 in every round of both builds (the generator's count)"), text)
  }

  func testAlertsLine_TableOfCases() {
    struct Case {
      var old: [Int]
      var new: [Int]
      var expected: String
      var line: UInt
    }
    let cases = [
      Case(old: [800, 800], new: [800, 800], expected: "alerts: 800 in every round of both builds (the generator's count)", line: #line),
      Case(old: [799, 799], new: [799, 799], expected: "alerts: 799 in every round of both builds (the generator injected 800)", line: #line),
      Case(
        old: [800, 800, 800], new: [800, 799, 798],
        expected: "alerts differ between the builds (older → this): round 2: 800 → 799, round 3: 800 → 798", line: #line),
      Case(old: [800, 801], new: [800, 801], expected: "alerts vary between rounds: 800, 801", line: #line),
    ]
    for c in cases {
      let workload = BenchComparison.Workload(
        name: "W1", old: c.old.map { result(full: 1, alerts: $0) }, new: c.new.map { result(full: 1, alerts: $0) })
      XCTAssertEqual(BenchTable.alertsLine(workload), c.expected, line: c.line)
    }
  }

  func testFooter_NamesBothBuilds() {
    let footer = BenchTable.comparisonFooter(comparison([]))
    XCTAssertTrue(footer.contains("this build: commit 1136236 (the tree at --root), binary aaaaaaaaaaaa"), footer)
    XCTAssertTrue(footer.contains("older build: /tmp/old/tocsin, binary bbbbbbbbbbbb"), footer)
    XCTAssertTrue(footer.contains("1000000 events, 3 timed runs per process"), footer)
    XCTAssertFalse(footer.contains("debug build"), footer)
  }

  func testJSON_RoundTrip() throws {
    let original = comparison([
      .init(name: "W2", old: [result("W2", full: 4.0, alerts: 132_389)], new: [result("W2", full: 3.9, alerts: 132_389)])
    ])
    let decoded = try JSONDecoder().decode(BenchComparison.self, from: original.jsonData())
    XCTAssertEqual(decoded, original)
  }
}
