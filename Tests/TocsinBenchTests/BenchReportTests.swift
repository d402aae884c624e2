import Foundation
import TocsinApp
import XCTest

/// Baseline files and the table: JSON round trip, rejection of bad files, ratio formatting.
final class BenchReportTests: XCTestCase {
  private func result(_ name: String, seconds: [Double], alerts: Int = 800, expected: Int? = 800) -> BenchResult {
    var r = BenchResult(
      name: name, summary: "test", rules: 8, events: 1_000_000, inputBytes: 170_000_000,
      alerts: alerts, expectedAlerts: expected)
    r.fullSeconds = seconds
    r.parseSeconds = seconds.map { $0 / 5 }
    r.allocations = 12_345_678
    r.openPartialMatches = 42
    r.latency = .init(p50: 1_279, p99: 40_959, p999: 98_303, max: 4_000_000)
    r.peakRSSBytes = 200 << 20
    return r
  }

  private func report(_ results: [BenchResult]) -> BenchReport {
    BenchReport(
      commit: "0123abc", date: "2026-11-20T10:00:00Z",
      machine: .init(cores: 2, cpu: "AMD EPYC", system: "Linux", memoryBytes: 24 << 30),
      settings: .init(events: 1_000_000, runs: 5, seed: 42, isolated: true, build: "release"),
      results: results)
  }

  func testJSON_RoundTrip() throws {
    var noAllocations = result("W3", seconds: [2.0], expected: nil)
    noAllocations.allocations = nil
    noAllocations.latency = nil
    noAllocations.peakRSSBytes = nil
    var w1 = result("W1", seconds: [4.5, 4.4, 4.6])
    w1.teardownSeconds = [0.05, 0.06, 0.04]
    w1.twoWorkerSeconds = [0.7, 0.6]
    w1.twoWorkerEngineCPUSeconds = [0.69, 0.59]
    w1.twoWorkerDecodingCPUSeconds = [0.4, 0.41]
    w1.twoWorkerAlertsDiffering = 3
    w1.twoWorkerPeakRSSBytes = 300 << 20
    w1.ruleCosts = [.init(rule: "card_velocity", nanosecondsPerEvent: 90.5, alertsWithout: 700)]
    let original = report([w1, noAllocations])
    let decoded = try BenchReport.decode(original.jsonData(), path: "b.json")
    XCTAssertEqual(decoded, original)
    XCTAssertEqual(decoded.result(named: "W3")?.allocationsPerEvent, nil)
  }

  /// The build's fingerprint travels with the report; a report saved before it was recorded
  /// still reads back (without one), and the footer names whichever it has.
  /// `report` read back from JSON without `key` in its object `section`, as a report saved by a
  /// build from before that key reads.
  private func decode(_ report: BenchReport, without key: String, in section: String) throws -> BenchReport {
    var json = try XCTUnwrap(JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
    var object = try XCTUnwrap(json[section] as? [String: Any])
    object[key] = nil
    json[section] = object
    return try BenchReport.decode(JSONSerialization.data(withJSONObject: json), path: "old.json")
  }

  func testBinaryFingerprint_RecordedAndOptional() throws {
    var withBinary = report([result("W1", seconds: [1.0])])
    withBinary.binary = "0a1b2c3d4e5f"
    let decoded = try BenchReport.decode(withBinary.jsonData(), path: "b.json")
    XCTAssertEqual(decoded.binary, "0a1b2c3d4e5f")
    XCTAssertTrue(BenchTable.footer(decoded, baseline: decoded).contains("binary 0a1b2c3d4e5f"))
    var json = try XCTUnwrap(
      JSONSerialization.jsonObject(with: withBinary.jsonData()) as? [String: Any])
    json["binary"] = nil
    let old = try BenchReport.decode(JSONSerialization.data(withJSONObject: json), path: "old.json")
    XCTAssertNil(old.binary)
    XCTAssertFalse(BenchTable.footer(old, baseline: nil).contains("binary"))
    // Same bytes, same fingerprint; one byte more, another.
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fp-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let (a, b, c) = (dir.appendingPathComponent("a"), dir.appendingPathComponent("b"), dir.appendingPathComponent("c"))
    try Data("tocsin".utf8).write(to: a)
    try Data("tocsin".utf8).write(to: b)
    try Data("tocsin!".utf8).write(to: c)
    let fa = try XCTUnwrap(MachineInfo.fingerprint(ofFile: a.path))
    XCTAssertEqual(fa.count, 12)
    XCTAssertEqual(MachineInfo.fingerprint(ofFile: b.path), fa)
    XCTAssertNotEqual(MachineInfo.fingerprint(ofFile: c.path), fa)
    XCTAssertNil(MachineInfo.fingerprint(ofFile: dir.appendingPathComponent("missing").path))
  }

  /// The kernel's huge-page mode travels with the machine; a report saved before it was
  /// recorded still reads back, and the footer names it, and warns when a baseline's differs.
  func testTransparentHugePages_RecordedComparedAndOptional() throws {
    var current = report([result("W1", seconds: [1.0])])
    current.machine.transparentHugePages = "madvise"
    let decoded = try BenchReport.decode(current.jsonData(), path: "b.json")
    XCTAssertEqual(decoded.machine.transparentHugePages, "madvise")
    XCTAssertTrue(BenchTable.footer(decoded, baseline: nil).contains("transparent huge pages madvise"))
    XCTAssertFalse(BenchTable.footer(decoded, baseline: decoded).contains("note: the baseline"))
    var never = current
    never.machine.transparentHugePages = "never"
    XCTAssertTrue(
      BenchTable.footer(decoded, baseline: never).contains(
        "note: the baseline ran with transparent huge pages never, this run with madvise"))
    let old = try decode(current, without: "transparentHugePages", in: "machine")
    XCTAssertNil(old.machine.transparentHugePages)
    XCTAssertFalse(BenchTable.footer(old, baseline: nil).contains("huge pages"))
    // No warning without both modes known.
    XCTAssertFalse(BenchTable.footer(decoded, baseline: old).contains("note: the baseline"))
  }

  /// `--max-disorder` travels with the settings: the footer names it, warns when a baseline's
  /// streams had another, and a report saved without it (or by a build from before it) reads
  /// back as the workloads' own.
  func testMaxDisorder_RecordedComparedAndOptional() throws {
    var ordered = report([result("W1", seconds: [1.0])])
    ordered.settings = .init(events: 1_000_000, runs: 5, seed: 42, isolated: true, build: "release", maxDisorder: .zero)
    let decoded = try BenchReport.decode(ordered.jsonData(), path: "b.json")
    XCTAssertEqual(decoded.settings.maxDisorder, "0s")
    XCTAssertTrue(BenchTable.footer(decoded, baseline: nil).contains("arrival disorder: at most 0s in every workload's stream"))
    XCTAssertFalse(BenchTable.footer(decoded, baseline: decoded).contains("note: the baseline's streams"))
    let plain = report([result("W1", seconds: [1.0])])
    XCTAssertFalse(BenchTable.footer(plain, baseline: nil).contains("arrival disorder"))
    XCTAssertTrue(
      BenchTable.footer(decoded, baseline: plain).contains(
        "note: the baseline's streams had at most 5s of arrival disorder, this run's 0s"))
    let old = try decode(ordered, without: "maxDisorder", in: "settings")
    XCTAssertNil(old.settings.maxDisorder)
    XCTAssertEqual(old.settings, plain.settings)
  }

  /// The bracketed choice of a kernel setting, as `/sys/kernel/mm/transparent_hugepage/enabled`
  /// prints it.
  func testSelectedMode_FromKernelSettings() {
    let cases: [(String, String?)] = [
      ("always [madvise] never\n", "madvise"),
      ("[always] madvise never", "always"),
      ("always madvise [never]\n", "never"),
      ("always defer defer+madvise [madvise] never\n", "madvise"),
      ("always madvise never", nil),
      ("", nil),
      ("[]", nil),
    ]
    for (setting, mode) in cases { XCTAssertEqual(MachineInfo.selectedMode(setting), mode, setting) }
  }

  func testJSON_RejectsOtherFilesAndFormats() throws {
    XCTAssertThrowsError(try BenchReport.decode(Data("{}".utf8), path: "x.json"))
    XCTAssertThrowsError(try BenchReport.decode(Data("not json".utf8), path: "x.json"))
    var future = report([])
    future.format = 2
    XCTAssertThrowsError(try BenchReport.decode(future.jsonData(), path: "x.json")) { error in
      XCTAssertTrue("\(error)".contains("format 2"), "\(error)")
    }
    XCTAssertThrowsError(try BenchReport.load(path: "/nonexistent/baseline.json"))
  }

  func testFigures_FromRawRuns() {
    let r = result("W1", seconds: [5.0, 4.0, 4.5, 10.0])  // median 4.75 s
    XCTAssertEqual(r.eventsPerSecond, 1_000_000 / 4.75, accuracy: 1e-6)
    XCTAssertEqual(r.nanosecondsPerEvent, 4_750, accuracy: 1e-6)
    XCTAssertEqual(r.parseEventsPerSecond, 1_000_000 / 0.95, accuracy: 1e-6)
    XCTAssertEqual(r.fullToParseRatio, 0.2, accuracy: 1e-12)
    XCTAssertEqual(r.allocationsPerEvent ?? 0, 12.345678, accuracy: 1e-9)
    XCTAssertTrue(r.alertsAsExpected)
    XCTAssertFalse(result("W1", seconds: [1], alerts: 799).alertsAsExpected)
    XCTAssertTrue(result("W2", seconds: [1], alerts: 5, expected: nil).alertsAsExpected)
  }

  /// The two-worker figures: medians of the raw runs, each thread's CPU over the wall time,
  /// and a differing alert count that fails the workload and shows in the table and footer.
  func testTwoWorkerFigures() {
    var r = result("W1", seconds: [1.0])
    XCTAssertNil(r.twoWorkerEventsPerSecond)
    XCTAssertNil(r.twoWorkerEngineBusy)
    XCTAssertFalse(BenchTable.footer(report([r]), baseline: nil).contains("2 workers"))
    r.twoWorkerSeconds = [0.5, 0.8, 0.6]  // median 0.6 s
    r.twoWorkerEngineCPUSeconds = [0.5, 0.57, 0.59]  // median 0.57 s
    r.twoWorkerDecodingCPUSeconds = [0.3, 0.36, 0.4]  // median 0.36 s
    XCTAssertEqual(r.twoWorkerEventsPerSecond ?? 0, 1_000_000 / 0.6, accuracy: 1e-6)
    XCTAssertEqual(r.twoWorkerEngineBusy ?? 0, 0.95, accuracy: 1e-12)
    XCTAssertEqual(r.twoWorkerDecodingBusy ?? 0, 0.6, accuracy: 1e-12)
    XCTAssertTrue(r.alertsAsExpected)
    XCTAssertTrue(BenchTable.render([r]).contains("1666667"), BenchTable.render([r]))
    XCTAssertTrue(
      BenchTable.footer(report([r]), baseline: nil).contains("W1 engine 95%, decoding 60%\n"),
      BenchTable.footer(report([r]), baseline: nil))
    r.twoWorkerPeakRSSBytes = 250 << 20
    XCTAssertTrue(
      BenchTable.footer(report([r]), baseline: nil).contains("W1 engine 95%, decoding 60% (peak RSS 250 MiB)\n"),
      BenchTable.footer(report([r]), baseline: nil))
    // The share of the batches the engine's thread decoded itself: the median of the runs'.
    r.twoWorkerEngineDecodedShares = [0.1, 0.3, 0.16]
    XCTAssertTrue(
      BenchTable.footer(report([r]), baseline: nil).contains(
        "W1 engine 95% (decoded 16% of the batches), decoding 60% (peak RSS 250 MiB)\n"),
      BenchTable.footer(report([r]), baseline: nil))
    r.twoWorkerAlertsDiffering = 799
    XCTAssertFalse(r.alertsAsExpected)
    XCTAssertTrue(BenchTable.render([r]).contains("800≠799 (2 workers)"), BenchTable.render([r]))
    XCTAssertTrue(BenchTable.footer(report([r]), baseline: nil).contains("(799 alerts, not 800)"))
    // A baseline from before the two-worker pass: the column has no ratio.
    let old = report([result("W1", seconds: [1.0])])
    let table = BenchTable.render([r], baseline: old)
    XCTAssertTrue(table.contains("1666667") && !table.contains("1666667 ("), table)
  }

  /// The passes' CPU figures: user-mode nanoseconds per event and full/parse from the medians
  /// of the runs' user seconds, and the full runs' median kernel seconds; "n/a" (and no ratio)
  /// for a report written before they were measured.
  func testCPUFigures() throws {
    /// The last three cells of the table's (one) row.
    func lastCells(_ table: String) -> [String] {
      Array((table.split(separator: "\n").last ?? "").split(separator: " ").suffix(3).map(String.init))
    }
    var r = result("W1", seconds: [1.0, 1.2, 1.1])
    XCTAssertNil(r.userNanosecondsPerEvent)
    XCTAssertNil(r.userFullToParseRatio)
    XCTAssertNil(r.fullSystemSecondsMedian)
    XCTAssertEqual(lastCells(BenchTable.render([r])), ["n/a", "n/a", "n/a"], BenchTable.render([r]))
    r.fullUserSeconds = [0.7, 0.5, 0.6]  // median 0.6 s: 600 ns per event of 1M
    r.parseUserSeconds = [0.3, 0.31, 0.29]  // median 0.3 s
    r.fullSystemSeconds = [0.1, 0.9, 0.2]  // median 0.2 s
    XCTAssertEqual(r.userNanosecondsPerEvent ?? 0, 600, accuracy: 1e-9)
    XCTAssertEqual(r.userFullToParseRatio ?? 0, 0.5, accuracy: 1e-12)
    XCTAssertEqual(r.fullSystemSecondsMedian ?? 0, 0.2, accuracy: 1e-12)
    XCTAssertEqual(lastCells(BenchTable.render([r])), ["600", "0.50", "0.200"], BenchTable.render([r]))
    // Against a report without them: the figures, no ratios.
    let old = report([result("W1", seconds: [1.0])])
    XCTAssertEqual(lastCells(BenchTable.render([r], baseline: old)), ["600", "0.50", "0.200"])
    // Against one with them: ratios.
    let table = BenchTable.render([r], baseline: report([r]))
    XCTAssertTrue(table.contains("600 (1.00×)") && table.contains("0.200 (1.00×)"), table)
    // Round-trips through JSON.
    let data = try JSONEncoder().encode(r)
    XCTAssertEqual(try JSONDecoder().decode(BenchResult.self, from: data), r)
  }

  func testRatio_Formatting() {
    let cases: [(new: Double, old: Double, text: String, line: UInt)] = [
      (110, 100, "1.10×", #line),
      (100, 100, "1.00×", #line),
      (95, 100, "0.95×", #line),
      (1, 3, "0.33×", #line),
      (2, 3, "0.67×", #line),  // rounds half-up at the second decimal
      (0, 0, "1.00×", #line),
      (5, 0, "n/a", #line),
      (0, 5, "0.00×", #line),
    ]
    for c in cases {
      XCTAssertEqual(BenchTable.ratio(new: c.new, old: c.old), c.text, line: c.line)
    }
  }

  func testTable_AlignedWithRatiosForWorkloadsInTheBaseline() {
    let old = report([result("W1", seconds: [5.0])])
    let text = BenchTable.render(
      [result("W1", seconds: [4.0]), result("W2", seconds: [8.0], alerts: 3, expected: nil)], baseline: old)
    let lines = text.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.count, 3)
    XCTAssertEqual(Set(lines.map(\.count)).count, 1, "every line as wide as the header:\n\(text)")
    XCTAssertEqual(lines[0].split(separator: " ").prefix(4), ["workload", "events", "alerts", "events/s"])
    // W1: 250000 events/s against 200000, 4000 ns/event against 5000.
    XCTAssertTrue(lines[1].contains("250000 (1.25×)"), lines[1])
    XCTAssertTrue(lines[1].contains("4000 (0.80×)"), lines[1])
    XCTAssertTrue(lines[1].contains("800 (1.00×)"), lines[1])
    // W2 is not in the baseline: no ratios.
    XCTAssertFalse(lines[2].contains("×"), lines[2])
    XCTAssertTrue(lines[2].contains("125000"), lines[2])
  }

  func testFooter_NamesTheTeardownWhereMeasured() {
    var w1 = result("W1", seconds: [4.0])
    w1.teardownSeconds = [0.25, 0.5, 0.125]
    let footer = BenchTable.footer(report([w1, result("W2", seconds: [8.0])]), baseline: nil)
    XCTAssertTrue(footer.contains("median: W1 0.250 s\n"), footer)
    XCTAssertFalse(BenchTable.footer(report([result("W2", seconds: [8.0])]), baseline: nil).contains("teardown"))
  }

  /// `--rule-costs`: under the table, most costly first, each with its share of the full pass's
  /// ns/event (W2 here: 8 s over 1M events, 8,000 ns); nothing for a workload without them.
  func testFooter_ListsRuleCostsMostCostlyFirst() {
    var w2 = result("W2", seconds: [8.0])
    w2.ruleCosts = [
      .init(rule: "cheap", nanosecondsPerEvent: -12, alertsWithout: 10),
      .init(rule: "dear_rule", nanosecondsPerEvent: 1_200, alertsWithout: 9),
      .init(rule: "middle", nanosecondsPerEvent: 400, alertsWithout: 8),
    ]
    let footer = BenchTable.footer(report([result("W1", seconds: [4.0]), w2]), baseline: nil)
    let lines = footer.split(separator: "\n").map(String.init)
    let first = try? XCTUnwrap(lines.firstIndex { $0.hasPrefix("W2 rule costs") }, footer)
    guard let first else { return }
    XCTAssertEqual(
      Array(lines[(first + 1)...(first + 3)]),
      ["  dear_rule    1200   15.0%", "  middle        400    5.0%", "  cheap         -12   -0.1%"], footer)
    XCTAssertFalse(footer.contains("W1 rule costs"), footer)
  }

  func testTable_MarksUnexpectedAlertCounts() {
    let text = BenchTable.render([result("W1", seconds: [1], alerts: 799)])
    XCTAssertTrue(text.contains("799≠800"), text)
  }
}
