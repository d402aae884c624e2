import Foundation
import TocsinRuntime

/// The aligned text table `tocsin bench` prints, optionally with ratios to a baseline.
///
///     workload  events   alerts  events/s  ns/event  parse-only events/s  full/parse  …
///     W1       1000000      800    221337      4518              1402211        0.16  …
///
/// With a baseline, each figure is followed by its ratio new/old, `221337 (1.04×)`: above 1 the
/// figure grew (better for events/s, worse for ns/event, RSS, allocations and latency). A workload
/// missing from the baseline gets no ratios.
public enum BenchTable {
  /// The column titles, in order. The first eight are the table's original columns with their
  /// original meaning; later ones were added at the end.
  public static let titles = [
    "workload", "events", "alerts", "events/s", "ns/event", "parse-only events/s", "full/parse",
    "full run s (min-max)", "peak RSS MiB", "allocs/event", "p50 ns", "p99 ns", "open partial",
    "2 workers events/s", "user ns/event", "user full/parse", "full sys s",
  ]

  /// The table for `results`, each row compared with the same workload of `baseline` if given.
  public static func render(_ results: [BenchResult], baseline: BenchReport? = nil) -> String {
    let rows = results.map { cells($0, old: baseline?.result(named: $0.name)) }
    return aligned([titles] + rows).joined(separator: "\n") + "\n"
  }

  /// `rows` as lines of columns two spaces apart, each as wide as its widest cell: the first
  /// column left-aligned, the others right-aligned.
  static func aligned(_ rows: [[String]]) -> [String] {
    var widths: [Int] = []
    for row in rows {
      for (i, cell) in row.enumerated() {
        if i == widths.count { widths.append(0) }
        widths[i] = max(widths[i], cell.count)
      }
    }
    return rows.map { row in
      row.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        return i == 0 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }
  }

  /// One row's cells.
  static func cells(_ r: BenchResult, old: BenchResult?) -> [String] {
    func cell(_ value: Double?, _ format: String, _ oldValue: Double??) -> String {
      guard let value else { return "n/a" }
      let text = String(format: format, value)
      guard let oldValue, let previous = oldValue else { return text }
      return text + " (" + ratio(new: value, old: previous) + ")"
    }
    let spread = String(
      format: "%.3f-%.3f", r.fullSeconds.min() ?? 0, r.fullSeconds.max() ?? 0)
    var alerts = String(r.alerts)
    if let expected = r.expectedAlerts, expected != r.alerts { alerts += "≠\(expected)" }
    if let differing = r.twoWorkerAlertsDiffering { alerts += "≠\(differing) (2 workers)" }
    let o = old
    return [
      r.name,
      String(r.events),
      alerts + (o.map { " (" + ratio(new: Double(r.alerts), old: Double($0.alerts)) + ")" } ?? ""),
      cell(r.eventsPerSecond, "%.0f", o.map { $0.eventsPerSecond }),
      cell(r.nanosecondsPerEvent, "%.0f", o.map { $0.nanosecondsPerEvent }),
      cell(r.parseEventsPerSecond, "%.0f", o.map { $0.parseEventsPerSecond }),
      cell(r.fullToParseRatio, "%.2f", o.map { $0.fullToParseRatio }),
      spread,
      cell(r.peakRSSBytes.map(mebibytes), "%.0f", o.map { $0.peakRSSBytes.map(mebibytes) }),
      cell(r.allocationsPerEvent, "%.1f", o.map { $0.allocationsPerEvent }),
      cell(r.latency.map { Double($0.p50) }, "%.0f", o.map { $0.latency.map { Double($0.p50) } }),
      cell(r.latency.map { Double($0.p99) }, "%.0f", o.map { $0.latency.map { Double($0.p99) } }),
      cell(Double(r.openPartialMatches), "%.0f", o.map { Double($0.openPartialMatches) }),
      cell(r.twoWorkerEventsPerSecond, "%.0f", o.map { $0.twoWorkerEventsPerSecond }),
      cell(r.userNanosecondsPerEvent, "%.0f", o.map { $0.userNanosecondsPerEvent }),
      cell(r.userFullToParseRatio, "%.2f", o.map { $0.userFullToParseRatio }),
      cell(r.fullSystemSecondsMedian, "%.3f", o.map { $0.fullSystemSecondsMedian }),
    ]
  }

  private static func mebibytes(_ bytes: Int) -> Double { Double(bytes) / 1_048_576 }

  /// The `--rule-costs` lines: per workload measured, its rules by cost, most costly first, each
  /// with its nanoseconds per event and share of the whole pass's median.
  ///
  ///     W2 rule costs (ns/event saved without the rule, share of the full pass; median of 5 pairs):
  ///       w2_country_velocity   702  15.9%
  static func ruleCosts(_ results: [BenchResult]) -> String {
    var out = ""
    for r in results {
      guard let costs = r.ruleCosts, !costs.isEmpty else { continue }
      let pairs = r.fullSeconds.count
      let whole = Int(r.nanosecondsPerEvent.rounded())
      out += "\(r.name) rule costs (ns/event saved without the rule, share of the full pass's \(whole) ns/event; "
      out += "median of \(pairs) pair\(pairs == 1 ? "" : "s"); "
      out += "shared cache pressure can make them add up past the whole):\n"
      let width = costs.map(\.rule.count).max() ?? 0
      for cost in costs.sorted(by: { $0.nanosecondsPerEvent > $1.nanosecondsPerEvent }) {
        let share = r.nanosecondsPerEvent > 0 ? 100 * cost.nanosecondsPerEvent / r.nanosecondsPerEvent : 0
        out += "  " + cost.rule.padding(toLength: width, withPad: " ", startingAt: 0)
        out += String(format: "  %6.0f  %5.1f%%\n", cost.nanosecondsPerEvent, share)
      }
    }
    return out
  }

  /// `new / old` as `1.04×`; `1.00×` when both are zero, `n/a` when only `old` is.
  public static func ratio(new: Double, old: Double) -> String {
    if old == 0 { return new == 0 ? "1.00×" : "n/a" }
    return String(format: "%.2f×", new / old)
  }

  /// Which build made `report`: the tree's commit at `--root`, and the executable's fingerprint
  /// when recorded (the commit alone does not tell a saved old binary from a new one).
  static func identity(_ report: BenchReport) -> String {
    let commit = "commit \(report.commit ?? "unknown") (the tree at --root)"
    return report.binary.map { "\(commit), binary \($0)" } ?? commit
  }

  /// The lines printed under the table: the machine, the commit, and what the latency and RSS
  /// columns mean.
  public static func footer(_ report: BenchReport, baseline: BenchReport?) -> String {
    var out = machineLine(report.machine, build: report.settings.build, then: identity(report))
    for result in report.results {
      guard let c = result.conditions else { continue }
      out += "\(result.name) conditions: \(c.evaluations) evaluations (every step condition of every rule on "
      out += "\(min(result.events, 200_000)) events), \(c.allocations) allocations ("
      out += String(format: "%.4f", c.perEvaluation) + " per evaluation)\n"
    }
    let busy = report.results.compactMap { r -> String? in
      guard let engine = r.twoWorkerEngineBusy, let decoding = r.twoWorkerDecodingBusy else { return nil }
      var text = "\(r.name) engine \(Int((100 * engine).rounded()))%"
      if let shares = r.twoWorkerEngineDecodedShares, !shares.isEmpty {
        text += " (decoded \(Int((100 * BenchResult.median(shares)).rounded()))% of the batches)"
      }
      text += ", decoding \(Int((100 * decoding).rounded()))%"
      if let rss = r.twoWorkerPeakRSSBytes { text += " (peak RSS \(rss >> 20) MiB)" }
      if let differing = r.twoWorkerAlertsDiffering { text += " (\(differing) alerts, not \(r.alerts))" }
      return text
    }
    if !busy.isEmpty {
      out += "2 workers (`tocsin run --workers 2`'s pipeline, after the other passes; median CPU over median wall time per thread): "
      out += busy.joined(separator: ", ") + "\n"
    }
    let teardowns = report.results.compactMap { r in
      r.teardownSeconds.map { "\(r.name) " + String(format: "%.3f s", BenchResult.median($0)) }
    }
    if !teardowns.isEmpty {
      out += "teardown (freeing a full run's state after its clock stopped; `tocsin run` leaves it to the exit), "
      out += "median: \(teardowns.joined(separator: ", "))\n"
    }
    out += ruleCosts(report.results)
    out += "p50/p99: per-line consume latency in a separate pass (clock read around each line; "
    out += "not the throughput pass). open partial: before the end-of-input flush.\n"
    out += report.settings.isolated
      ? "peak RSS: each workload in its own process, from after generating its input (input held in memory included)\n"
      : "peak RSS: one process for all workloads (--in-process); memory the allocator kept from earlier workloads may count\n"
    out += report.settings.disorderLine ?? ""
    if let baseline {
      out += "ratios new/old against \(identity(baseline)) of \(baseline.date)"
      out += " (\(baseline.machine.cores) cores, \(baseline.machine.cpu ?? "unknown CPU"))\n"
      if baseline.settings.disorder != report.settings.disorder {
        out += "note: the baseline's streams had at most \(baseline.settings.disorder) of arrival disorder, "
        out += "this run's \(report.settings.disorder): the ratios compare different streams\n"
      }
      if let old = baseline.machine.transparentHugePages, let new = report.machine.transparentHugePages, old != new {
        out += "note: the baseline ran with transparent huge pages \(old), this run with \(new): "
        out += "the ratios include the difference (docs/operations.md, \"Transparent huge pages\")\n"
      }
    }
    return out
  }
}

extension BenchTable {
  /// The figures ``renderComparison(_:)`` compares: title, format, and how to read it from a
  /// result (`nil`: not measured).
  static let comparedFigures: [(title: String, format: String, value: (BenchResult) -> Double?)] = [
    ("events/s", "%.0f", { $0.eventsPerSecond }),
    ("ns/event", "%.0f", { $0.nanosecondsPerEvent }),
    ("parse-only events/s", "%.0f", { $0.parseEventsPerSecond }),
    ("full/parse", "%.3f", { $0.fullToParseRatio }),
    ("peak RSS MiB", "%.0f", { $0.peakRSSBytes.map { Double($0) / 1_048_576 } }),
    ("allocs/event", "%.2f", { $0.allocationsPerEvent }),
    ("p50 ns", "%.0f", { $0.latency.map { Double($0.p50) } }),
    ("p99 ns", "%.0f", { $0.latency.map { Double($0.p99) } }),
    ("open partial", "%.0f", { Double($0.openPartialMatches) }),
    ("2 workers events/s", "%.0f", { $0.twoWorkerEventsPerSecond }),
    ("user ns/event", "%.0f", { $0.userNanosecondsPerEvent }),
    ("user full/parse", "%.3f", { $0.userFullToParseRatio }),
    ("full sys s", "%.3f", { $0.fullSystemSecondsMedian }),
  ]

  /// `tocsin bench --against`'s report: per workload, each figure's median for the older build
  /// and this one, the median of the rounds' ratios new/old, and in how many rounds the new
  /// figure was higher and lower (``BenchComparison``):
  ///
  ///     W1: 5 rounds, both builds in each (alternately first); ratio: median of the rounds' new/old
  ///       figure                 older build   this build   ratio  higher/lower
  ///       events/s                   1259816      1326471   1.05×           5/0
  public static func renderComparison(_ comparison: BenchComparison) -> String {
    var out = ""
    for workload in comparison.workloads {
      let rounds = min(workload.old.count, workload.new.count)
      out += "\(workload.name): \(rounds) round\(rounds == 1 ? "" : "s"), both builds in each (alternately first); "
      out += "ratio: median of the rounds' new/old\n"
      var rows = [["figure", "older build", "this build", "ratio", "higher/lower"]]
      for figure in comparedFigures {
        guard let paired = workload.paired(figure.value) else {
          rows.append([figure.title, "n/a", "n/a", "", ""])
          continue
        }
        rows.append([
          figure.title, String(format: figure.format, paired.old), String(format: figure.format, paired.new),
          String(format: "%.3f×", paired.ratio), "\(paired.higher)/\(paired.lower)",
        ])
      }
      for line in aligned(rows) { out += "  " + line + "\n" }
      out += "  " + alertsLine(workload) + "\n"
    }
    return out
  }

  /// What the rounds' alert counts say: the same everywhere (and whether the generator's count),
  /// or the rounds where the two builds differ.
  public static func alertsLine(_ workload: BenchComparison.Workload) -> String {
    let differing = workload.roundsWithDifferentAlerts
    if !differing.isEmpty {
      let rounds = differing.map { "round \($0 + 1): \(workload.old[$0].alerts) → \(workload.new[$0].alerts)" }
      return "alerts differ between the builds (older → this): " + rounds.joined(separator: ", ")
    }
    let counts = Set((workload.old + workload.new).map(\.alerts))
    guard counts.count == 1, let alerts = counts.first else {
      return "alerts vary between rounds: " + (workload.new.map { String($0.alerts) }).joined(separator: ", ")
    }
    var line = "alerts: \(alerts) in every round of both builds"
    if let expected = workload.new.first?.expectedAlerts {
      line += expected == alerts ? " (the generator's count)" : " (the generator injected \(expected))"
    }
    return line
  }

  /// The footer's first line (the machine, the build, then `detail`), and a warning line for a
  /// build that is not a release build.
  static func machineLine(_ machine: BenchReport.Machine, build: String, then detail: String) -> String {
    var out = "machine: \(machine.cores) cores, \(machine.cpu ?? "unknown CPU"), \(machine.system)"
    if let mode = machine.transparentHugePages { out += ", transparent huge pages \(mode)" }
    var uses: [String] = []
    if let blocks = machine.engineHugePages, blocks != HugePages.Policy.Advice.atOnce.text {
      uses.append("the engine's blocks \(blocks): " + (machine.engineHugePagesReason ?? "unknown reason"))
    }
    if let heap = machine.heapHugePages { uses.append(heap ? "the heap's too" : "not the heap's") }
    if !uses.isEmpty { out += " (" + uses.joined(separator: "; ") + ")" }
    out += "; \(build) build; \(detail)\n"
    if build != "release" {
      out += "note: a \(build) build; the timings say nothing about Tocsin's speed\n"
    }
    return out
  }

  /// The lines under ``renderComparison(_:)``: the machine and both builds.
  public static func comparisonFooter(_ comparison: BenchComparison) -> String {
    let runs = comparison.settings.runs
    var out = machineLine(
      comparison.machine, build: comparison.settings.build,
      then: "\(comparison.settings.events) events, \(runs) timed run\(runs == 1 ? "" : "s") per process")
    out += "this build: commit \(comparison.commit ?? "unknown") (the tree at --root)"
    if let binary = comparison.binary { out += ", binary \(binary)" }
    out += "\nolder build: \(comparison.againstPath)"
    if let binary = comparison.againstBinary { out += ", binary \(binary)" }
    out += "\n"
    out += comparison.settings.disorderLine ?? ""
    out += "higher/lower: rounds where this build's figure was above / below the older build's "
    out += "(higher is better for events/s, worse for ns/event, RSS, allocations and latency)\n"
    return out
  }
}
