import TocsinCore
import TocsinRuntime

extension Checkpoint {
  /// The `suppress` state of the replay (``Suppressor``), by the checkpoint's rule indices.
  public struct SuppressionState: Equatable, Sendable {
    /// Per rule of ``Checkpoint/rules``: its alert clock.
    public var clocks: [EventTime]
    /// Per rule of ``Checkpoint/rules``: alerts suppressed so far (the summary's counter).
    public var suppressedByRule: [Int]
    /// The live entries; `key.rule` indexes ``Checkpoint/rules``.
    public var entries: [Suppressor.Entry]
    /// Creates a suppression state.
    public init(clocks: [EventTime], suppressedByRule: [Int], entries: [Suppressor.Entry]) {
      self.clocks = clocks
      self.suppressedByRule = suppressedByRule
      self.entries = entries
    }
  }

  /// A copy of an input line whose event the engine still holds (time calibration), so its
  /// dead letter, if it gets one after the resume, still carries the line.
  public struct HeldLine: Equatable, Sendable {
    /// The 1-based line number.
    public var line: Int
    /// The line's byte offset in the input.
    public var offset: Int64
    /// The line's first bytes (at most `DeadLetterWriter.maxRawBytes`).
    public var bytes: [UInt8]
    /// Creates a held line.
    public init(line: Int, offset: Int64, bytes: [UInt8]) {
      self.line = line
      self.offset = offset
      self.bytes = bytes
    }
  }
}

/// The checkpoint sections holding the replay session's own state beyond its counters: alert
/// suppression (id 10), the input lines of events held by time calibration (id 13) and the
/// records webhook sinks had not yet delivered (id 15). All are optional: a file without them
/// reads as no suppression state, no held lines and no undelivered records.
enum SessionSectionsCoding {
  static func encode(_ checkpoint: Checkpoint, section: EngineSnapshotCoding.SectionWriter) {
    if let suppression = checkpoint.suppression {
      section(Checkpoint.Section.suppression.rawValue) { w in
        w.count(suppression.clocks.count)
        for (clock, suppressed) in zip(suppression.clocks, suppression.suppressedByRule) {
          w.time(clock)
          w.count(suppressed)
        }
        w.count(suppression.entries.count)
        for entry in suppression.entries {
          w.count(entry.key.rule)
          w.count(entry.key.isTimeout ? 1 : 0)
          w.value(entry.key.value)
          w.time(entry.written)
          w.time(entry.lastSeen)
          w.count(entry.suppressed)
        }
      }
    }
    if !checkpoint.sinkRecords.isEmpty {
      section(Checkpoint.Section.sinkRecords.rawValue) { w in
        w.count(checkpoint.sinkRecords.count)
        for (sink, records) in checkpoint.sinkRecords {
          w.string(sink)
          w.count(records.count)
          for record in records {
            w.blob(record)
          }
        }
      }
    }
    if !checkpoint.heldLines.isEmpty {
      section(Checkpoint.Section.heldLines.rawValue) { w in
        w.count(checkpoint.heldLines.count)
        for held in checkpoint.heldLines {
          w.count(held.line)
          w.signed(held.offset)
          w.blob(held.bytes)
        }
      }
    }
  }

  static func decodeSinkRecords(_ r: inout BinaryReader) throws -> [(sink: String, records: [[UInt8]])] {
    var out: [(sink: String, records: [[UInt8]])] = []
    for _ in 0..<(try r.count()) {
      let sink = try r.string()
      var records: [[UInt8]] = []
      for _ in 0..<(try r.count()) { records.append(try r.blob()) }
      out.append((sink, records))
    }
    return out
  }

  static func decodeSuppression(_ r: inout BinaryReader) throws -> Checkpoint.SuppressionState {
    var clocks: [EventTime] = []
    var suppressedByRule: [Int] = []
    for _ in 0..<(try r.count()) {
      clocks.append(try r.time())
      suppressedByRule.append(try r.count(limit: Int.max))
    }
    var entries: [Suppressor.Entry] = []
    for _ in 0..<(try r.count()) {
      let rule = try r.count()
      guard rule < clocks.count else { throw CheckpointError.malformed("suppression entry of rule \(rule)") }
      let isTimeout = try r.count(limit: 1) == 1
      let key = Suppressor.Key(rule: rule, isTimeout: isTimeout, value: try r.value())
      entries.append(
        Suppressor.Entry(key: key, written: try r.time(), lastSeen: try r.time(), suppressed: try r.count(limit: Int.max)))
    }
    return Checkpoint.SuppressionState(clocks: clocks, suppressedByRule: suppressedByRule, entries: entries)
  }

  static func decodeHeldLines(_ r: inout BinaryReader) throws -> [Checkpoint.HeldLine] {
    var lines: [Checkpoint.HeldLine] = []
    for _ in 0..<(try r.count()) {
      let line = try r.count(limit: Int.max)
      let offset = try r.signed()
      lines.append(Checkpoint.HeldLine(line: line, offset: offset, bytes: try r.blob()))
    }
    return lines
  }
}
