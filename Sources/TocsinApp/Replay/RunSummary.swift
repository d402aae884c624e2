import Foundation
import TocsinCore
import TocsinIO
import TocsinRuntime
import TocsinSinks

/// What a run did, for the summary printed on standard error at exit.
public struct RunSummary {
  /// Line-level counters.
  public var counters: ReplayCounters
  /// Engine counters.
  public var engineCounters: EngineCounters
  /// Rule names in order.
  public var rules: [String]
  /// Open partial matches at the end (zero after a normal end of input).
  public var openPartialMatches: Int
  /// Distinct keys seen.
  public var distinctKeys: Int
  /// Keys reclaimed (no state, nothing buffered) so their ids could be reused.
  public var keysReclaimed: Int
  /// Run-time type errors per rule.
  public var typeErrors: [(rule: String, count: Int, first: String?)]
  /// Regex matches per rule that hit PCRE2's match limit.
  public var regexLimitHits: [(rule: String, count: Int, pattern: String?)]
  /// Input bytes consumed.
  public var bytesRead: Int64
  /// Wall-clock seconds.
  public var elapsed: Double
  /// Peak resident set size in bytes, if the platform reports it.
  public var peakRSSBytes: Int?
  /// Where dead letters went.
  public var deadLetterDestination: String
  /// Each configured sink's counters (empty without `--sinks`).
  public var sinks: [(name: String, statistics: SinkStatistics)]

  /// Sampled processing latency per input line (one line in ``RunMetrics/sampleEvery``).
  public var latency: Histogram
  /// The last finite watermark (before the end of input).
  public var watermark: EventTime?
  /// Checkpoints written by this process.
  public var checkpointsWritten = 0
  /// With `--workers 2`: each thread's CPU time over the input loop.
  public var workerTimes: WorkerTimes?

  init(
    counters: ReplayCounters, engine: Engine, bytesRead: Int64, elapsed: Double, peakRSSBytes: Int?,
    deadLetterDestination: String, sinks: [(name: String, statistics: SinkStatistics)] = [],
    latency: Histogram = Histogram(bounds: RunMetrics.latencyBounds), watermark: EventTime? = nil
  ) {
    self.counters = counters
    self.engineCounters = engine.counters
    self.rules = engine.programs.rules.map(\.name)
    self.openPartialMatches = engine.openPartialMatches
    self.distinctKeys = engine.distinctKeys
    self.keysReclaimed = engine.keysReclaimed
    self.typeErrors = engine.typeErrors
    self.regexLimitHits = engine.regexLimitHits
    self.bytesRead = bytesRead
    self.elapsed = elapsed
    self.peakRSSBytes = peakRSSBytes
    self.deadLetterDestination = deadLetterDestination
    self.sinks = sinks
    self.latency = latency
    self.watermark = watermark
  }

  /// Per rule: alerts written (matches minus those a `suppress` clause held back).
  public var alertsWrittenByRule: [Int] {
    engineCounters.alertsByRule.enumerated().map { r, n in
      n - (r < counters.suppressedByRule.count ? counters.suppressedByRule[r] : 0)
    }
  }

  /// `850 ns`, `12.5 µs`, `3.2 ms`, `4.1 s`, `3.5 h`, `12.0 d`.
  static func seconds(_ value: Double) -> String {
    let magnitude = abs(value)
    if magnitude < 1e-6 { return String(format: "%.0f ns", value * 1e9) }
    if magnitude < 1e-3 { return String(format: "%.1f µs", value * 1e6) }
    if magnitude < 1 { return String(format: "%.1f ms", value * 1e3) }
    if magnitude < 3600 { return String(format: "%.1f s", value) }
    if magnitude < 86400 * 2 { return String(format: "%.1f h", value / 3600) }
    return String(format: "%.1f d", value / 86400)
  }

  /// Events decoded per wall-clock second.
  public var eventsPerSecond: Double { elapsed > 0 ? Double(counters.events) / elapsed : 0 }

  /// The multi-line summary.
  public var text: String {
    var out = "tocsin run: \(counters.lines) lines, \(counters.events) events, "
    out += "\(counters.alerts) alerts in \(String(format: "%.2f", elapsed)) s"
    out += " (\(Int(eventsPerSecond)) events/s"
    if let rss = peakRSSBytes { out += ", peak RSS \(rss / (1 << 20)) MiB" }
    if HeapHugePages.isOn { out += ", heap on huge pages" }
    out += ")\n"
    if let workerTimes { out += "  threads: \(workerTimes.text)\n" }
    let perRule = zip(rules, alertsWrittenByRule).map { "\($0) \($1)" }
    if !perRule.isEmpty { out += "  alerts by rule: " + perRule.joined(separator: ", ") + "\n" }
    let suppressed = zip(rules, counters.suppressedByRule).filter { $0.1 > 0 }
    if !suppressed.isEmpty {
      out += "  alerts suppressed (not written): "
      out += suppressed.map { "\($0) \($1)" }.joined(separator: ", ") + "\n"
    }
    let bad = counters.badLines.nonZero.sorted { $0.reason.rawValue < $1.reason.rawValue }
    if bad.isEmpty {
      out += "  dead-lettered: 0\n"
    } else {
      out += "  dead-lettered: \(counters.deadLettered) ("
      out += bad.map { "\($0.reason.rawValue) \($0.count)" }.joined(separator: ", ")
      out += ") → \(deadLetterDestination)\n"
    }
    for sink in sinks {
      out += "  sink \(sink.name) (\(sink.statistics.kind)): \(sink.statistics.summary)\n"
    }
    if counters.emptyLines > 0 { out += "  empty lines skipped: \(counters.emptyLines)\n" }
    if engineCounters.timeJumpsAccepted > 0 {
      out += "  time jumps beyond --max-time-skew confirmed and accepted: \(engineCounters.timeJumpsAccepted)\n"
    }
    let noKey = zip(rules, engineCounters.missingKeyByRule).filter { $0.1 > 0 }
    if !noKey.isEmpty {
      out += "  events without a rule's key (not seen by that rule): "
      out += noKey.map { "\($0) \($1)" }.joined(separator: ", ") + "\n"
    }
    for entry in typeErrors where entry.count > 0 {
      out += "  warning: rule '\(entry.rule)': \(entry.count) conditions hit a type error"
      if let first = entry.first { out += " (first: \(first))" }
      out += "\n"
    }
    for entry in regexLimitHits where entry.count > 0 {
      out += "  warning: rule '\(entry.rule)': \(entry.count) regex matches hit the match limit"
      if let pattern = entry.pattern { out += " (first pattern: '\(pattern)')" }
      out += "; those conditions were false\n"
    }
    let limits = engineCounters.limits
    if limits.dropped > 0 || limits.budgetUnreclaimable > 0 {
      out += "  warning: state limits dropped \(limits.dropped) partial matches (per-key cap "
      out += "\(limits.droppedByKeyCap), key TTL \(limits.droppedByKeyTTL), state budget \(limits.droppedByBudget))"
      if limits.budgetUnreclaimable > 0 {
        out += "; over budget with nothing left to drop \(limits.budgetUnreclaimable) times"
      }
      out += "\n"
    }
    if limits.peakStateBytes > 0 { out += "  peak estimated state \(limits.peakStateBytes / (1 << 20)) MiB\n" }
    if checkpointsWritten > 0 { out += "  checkpoints written: \(checkpointsWritten)\n" }
    out += "  keys \(distinctKeys)\(keysReclaimed > 0 ? " (\(keysReclaimed) reclaimed)" : ""), peak reorder buffer \(engineCounters.peakBuffered) events, "
    out += "open partial matches \(openPartialMatches)\n"
    if engineCounters.late > 0 { out += "  late events: \(engineCounters.late)\n" }
    if let watermark {
      let lag = Date().timeIntervalSince1970 - RunMetrics.seconds(watermark)
      out += "  watermark before end of input: \(watermark.rfc3339) (\(Self.seconds(lag)) behind the wall clock)\n"
    }
    if let p50 = latency.quantile(0.5), let p99 = latency.quantile(0.99) {
      out += "  processing latency per line (1 in \(RunMetrics.sampleEvery) timed, \(latency.count) samples): "
      out += "p50 \(Self.seconds(p50)), p99 \(Self.seconds(p99))\n"
    }
    return out
  }
}

/// Process resource figures.
public enum ProcessStats {
  /// The process's CPU seconds so far, in user mode and in the kernel (`getrusage`): the
  /// benchmark's passes are single-threaded, so their differences are the pass's own. The kernel
  /// part is mostly first touches of memory (page faults and page clearing), which on the
  /// development VMs varied threefold from one process to the next.
  public static func cpuSeconds() -> (user: Double, system: Double) {
    var usage = rusage()
    guard getrusage(RUSAGE_SELF.rawValue, &usage) == 0 else { return (0, 0) }
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return (seconds(usage.ru_utime), seconds(usage.ru_stime))
  }

  /// Peak resident set size (`VmHWM` in `/proc/self/status`), or `nil` where unavailable.
  public static func peakResidentBytes() -> Int? {
    guard let data = FileManager.default.contents(atPath: "/proc/self/status") else { return nil }
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n")
    where line.hasPrefix("VmHWM:") {
      let digits = line.filter(\.isNumber)
      return Int(digits).map { $0 * 1024 }
    }
    return nil
  }
}
