import Foundation
import TocsinAutomaton
import TocsinCore
import TocsinExpressions
import TocsinIO
import TocsinRuntime

/// `tocsin explain --trace EVENTS`: for each event of a key, what it did to each rule's partial
/// matches — started, extended, waiting, discarded (timed out, stopped by a negation, pruned by
/// the skip strategy, or dropped by strict contiguity) or completed — with the value of every
/// conjunct of every condition it was tested against.
///
/// A separate, traced path: it drives the public ``RuleMatcher`` API itself (one
/// ``PartialMatches`` per rule and key) and reads what changed by comparing the partial matches
/// before and after each call, so the engine's hot path carries no tracing code at all. Events
/// are ordered as the engine would order them: an event at or before the watermark
/// (`newest time − out-of-orderness − 1 ns`, by arrival) is reported late and never reaches the
/// rules; the rest are fed in `(time, arrival)` order. `within` expiry is shown when the key's
/// next event (or the end of input) passes the deadline.
public struct Tracer {
  /// What to trace.
  public struct Options {
    /// Only this key (the key text: values joined with `|`); `nil` traces every key.
    public var key: String?
    /// Reading and ordering settings (time field, out-of-orderness).
    public var configuration: ReplayConfiguration

    /// Creates options.
    public init(key: String? = nil, configuration: ReplayConfiguration = ReplayConfiguration()) {
      self.key = key
      self.configuration = configuration
    }
  }

  let programs: ProgramSet
  let options: Options
  var conditions: TracedConditions
  var rules: [TracedRule]
  var out = ""

  /// A tracer for `programs`.
  public init(programs: ProgramSet, options: Options) {
    self.programs = programs
    self.options = options
    conditions = TracedConditions(programs: programs)
    rules = programs.rules.map { TracedRule(program: $0) }
  }

  /// Traces the NDJSON `text`; returns the report.
  public static func trace(programs: ProgramSet, options: Options, text: String) -> String {
    var tracer = Tracer(programs: programs, options: options)
    tracer.run(text)
    return tracer.out
  }

  // MARK: - Ordering

  private mutating func run(_ text: String) {
    var decoder = EventDecoder(ruleProjection: programs.projection, options: options.configuration.ingest)
    var events: [EventRecord] = []
    var newest = EventTime.negativeInfinity
    let outOfOrderness = options.configuration.engine.outOfOrderness
    let oneNanosecond = EventDuration(nanoseconds: 1)
    for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
    where !line.isEmpty {
      let event: EventRecord
      do {
        event = try decoder.decode(String(line), lineNumber: i + 1, sequence: UInt64(events.count))
      } catch {
        out += "line \(i + 1): dead-lettered (\(error.reason.rawValue)): \(error.message)\n"
        continue
      }
      let watermark = newest - outOfOrderness - oneNanosecond
      if newest != .negativeInfinity, event.time <= watermark {
        if isTraced(event) {
          out += "\n\(event.identity)  \(event.time.rfc3339)  line \(i + 1): late (watermark "
          out += "\(watermark.rfc3339)): dead-lettered, never reaches the rules\n"
        }
        continue
      }
      newest = max(newest, event.time)
      events.append(event)
    }
    for event in events.sorted(by: { EventPosition($0) < EventPosition($1) }) { eventReleased(event) }
    endOfInput()
  }

  /// Whether any rule would trace `event` (for messages about events that reach no rule).
  private mutating func isTraced(_ event: EventRecord) -> Bool {
    guard let key = options.key else { return true }
    for r in rules.indices where rules[r].keyText(of: event) == key { return true }
    return false
  }

  // MARK: - Steps

  private mutating func eventReleased(_ event: EventRecord) {
    var header = false
    for r in rules.indices {
      guard let keyText = rules[r].keyText(of: event) else {
        // Only worth saying when every key is traced: the event reaches no partition.
        guard options.key == nil else { continue }
        if !header {
          out += "\n\(event.identity)  \(event.time.rfc3339)  line \(event.line)\n"
          header = true
        }
        let fields = rules[r].program.spec.keyFields.map { "'\($0)'" }.joined(separator: ", ")
        out += "  \(rules[r].program.name): not seen (the event lacks the key field \(fields))\n"
        continue
      }
      if let only = options.key, only != keyText { continue }
      if !header {
        out += "\n\(event.identity)  \(event.time.rfc3339)  line \(event.line)\n"
        header = true
      }
      let key = rules[r].program.spec.keyFields.isEmpty ? "no key" : "key \(keyText)"
      out += "  \(rules[r].program.name) (\(key))\n"
      trace(rule: r, keyText: keyText, event: event)
    }
  }

  private mutating func endOfInput() {
    out += "\nend of input (watermark +∞)\n"
    for r in rules.indices {
      for keyText in rules[r].openKeys() {
        if let only = options.key, only != keyText { continue }
        out += "  \(rules[r].program.name) (key \(keyText))\n"
        let lines = rules[r].finish(keyText: keyText, conditions: &conditions)
        out += lines.map { "    " + $0 + "\n" }.joined()
      }
    }
  }

  private mutating func trace(rule r: Int, keyText: String, event: EventRecord) {
    let lines = rules[r].process(event, keyText: keyText, conditions: &conditions)
    out += lines.map { "    " + $0 + "\n" }.joined()
  }
}
