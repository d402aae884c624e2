import Foundation
import TocsinIO
import TocsinRuntime

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
  /// Checkpoints written by this process.
  public var checkpointsWritten = 0

  init(
    counters: ReplayCounters, engine: Engine, bytesRead: Int64, elapsed: Double, peakRSSBytes: Int?,
    deadLetterDestination: String
  ) {
    self.counters = counters
    self.engineCounters = engine.counters
    self.rules = engine.programs.rules.map(\.name)
    self.openPartialMatches = engine.openPartialMatches
    self.distinctKeys = engine.distinctKeys
    self.typeErrors = engine.typeErrors
    self.regexLimitHits = engine.regexLimitHits
    self.bytesRead = bytesRead
    self.elapsed = elapsed
    self.peakRSSBytes = peakRSSBytes
    self.deadLetterDestination = deadLetterDestination
  }

  /// Events decoded per wall-clock second.
  public var eventsPerSecond: Double { elapsed > 0 ? Double(counters.events) / elapsed : 0 }

  /// The multi-line summary.
  public var text: String {
    var out = "tocsin run: \(counters.lines) lines, \(counters.events) events, "
    out += "\(counters.alerts) alerts in \(String(format: "%.2f", elapsed)) s"
    out += " (\(Int(eventsPerSecond)) events/s"
    if let rss = peakRSSBytes { out += ", peak RSS \(rss / (1 << 20)) MiB" }
    out += ")\n"
    let perRule = zip(rules, engineCounters.alertsByRule).map { "\($0) \($1)" }
    if !perRule.isEmpty { out += "  alerts by rule: " + perRule.joined(separator: ", ") + "\n" }
    let bad = counters.badLines.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
    if bad.isEmpty {
      out += "  dead-lettered: 0\n"
    } else {
      out += "  dead-lettered: \(counters.deadLettered) ("
      out += bad.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")
      out += ") → \(deadLetterDestination)\n"
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
    out += "  keys \(distinctKeys), peak reorder buffer \(engineCounters.peakBuffered) events, "
    out += "open partial matches \(openPartialMatches)\n"
    return out
  }
}

/// Process resource figures.
public enum ProcessStats {
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
