import TocsinCore
import TocsinRuntime

/// Writes alerts as one NDJSON line each, byte-for-byte deterministic.
///
/// Field order is fixed: `rule`, `id`, `severity`, `timeout` (only on timeout alerts, `true`),
/// `description` (when the rule has one),
/// `time`, `start`, `key`, `events`, `fields`, `suppressed` (only when a `suppress` clause held
/// back equal alerts since the previous written one: their number). Times are RFC 3339 UTC strings. No
/// processing-time field is written, so replays reproduce the same bytes.
///
///     {"rule":"card_velocity","id":"3f1c…","severity":"medium","time":"2026-01-01T00:19:00.000Z",
///      "start":"2026-01-01T00:00:00.000Z","key":{"card":"c1"},"events":{"burst":["p1",…]},
///      "fields":{"purchases":10}}
///
/// What every alert of a rule writes the same (its name, severity and description, the key
/// fields', steps' and emitted fields' names, quoted and escaped) is encoded once per rule, in a
/// ``Template``, and copied; an alert writes only its own values. Spelled out per alert, those
/// strings were ~250 instructions each, and their worst-case sizes (six bytes for every byte)
/// made a fifth of W2's alerts too big for the stack.
public struct AlertEncoder {
  /// The last line written (returned by ``encode(_:)``).
  private var line: [UInt8] = []
  /// Where a line is written before it is copied into ``line``: memory for its worst case,
  /// kept from alert to alert (grown when an alert needs more).
  private var scratch: [UInt8] = Array(repeating: 0, count: 4096)
  /// Per rule index, the encoded constant parts of its alerts (made at its first alert).
  private var templates: [Template?] = []
  /// The last date written, for the next time on the same day.
  private var days = RFC3339Days()

  /// A fresh encoder.
  public init() {
    line.reserveCapacity(1024)
  }

  /// The alert as one JSON line including the trailing newline.
  ///
  /// Written in one pass through a ``JSONWriter/Cursor`` into memory sized for the alert
  /// (``bound(of:)``), then copied into the line returned.
  public mutating func encode(_ alert: Alert) -> [UInt8] {
    let template = self.template(for: alert.source)
    let bound = template.bound(of: alert)
    if scratch.count < bound { scratch = Array(repeating: 0, count: max(bound, 2 * scratch.count)) }
    line.removeAll(keepingCapacity: true)
    scratch.withUnsafeMutableBufferPointer { buffer in
      var c = JSONWriter.Cursor(buffer)
      template.write(alert, to: &c, days: &days)
      line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<c.count]))
    }
    return line
  }

  /// At least the bytes ``encode(_:)`` writes for `alert`.
  static func bound(of alert: Alert) -> Int { Template(alert.source).bound(of: alert) }

  /// `source`'s template: the one kept for its index when it was made for `source`, else a new
  /// one kept in its place.
  private mutating func template(for source: AlertRule) -> Template {
    let index = source.index
    if index >= 0, index < templates.count, let kept = templates[index], kept.source === source { return kept }
    let made = Template(source)
    if index >= 0 {
      if index >= templates.count { templates.append(contentsOf: repeatElement(nil, count: index + 1 - templates.count)) }
      templates[index] = made
    }
    return made
  }

  /// The constant parts of one rule's alert lines, each encoded once, one after another in
  /// memory of its own.
  ///
  /// The pieces, in order: the head (`{"rule":NAME,"id":"`); after the id, for a match and for a
  /// timeout (`","severity":SEVERITY`, `,"timeout":true` for the timeout,
  /// `,"description":TEXT`, `,"time":`); per key field its name and colon; per step its name,
  /// colon and bracket; per emitted field, then per timeout field, its name and colon. The key's
  /// and fields' names from the second on carry the comma before them (every one is written);
  /// a step's does not (steps that bound nothing are left out).
  final class Template {
    /// The rule the pieces were made for.
    let source: AlertRule
    /// The pieces' bytes.
    private let bytes: UnsafeMutablePointer<UInt8>
    /// Piece `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private let starts: UnsafeMutablePointer<Int>
    private let keyBase: Int
    private let stepBase: Int
    private let emitBase: Int
    private let timeoutBase: Int
    /// The pieces' total size, and the fixed punctuation and keys around them.
    private let fixedBytes: Int

    private static let head = 0
    private static let afterID = 1
    private static let afterTimeoutID = 2

    init(_ source: AlertRule) {
      self.source = source
      typealias Cursor = JSONWriter.Cursor
      // Each piece as a closure writing it, and its worst-case size.
      var writers: [(bound: Int, write: (inout Cursor) -> Void)] = []
      writers.append((16 + Cursor.bound(quoted: source.name), { c in
        c.put("{\"rule\":")
        c.put(quoted: source.name)
        c.put(",\"id\":\"")
      }))
      let descriptionBound = source.description.map { 20 + Cursor.bound(quoted: $0) } ?? 0
      for isTimeout in [false, true] {
        writers.append((40 + Cursor.bound(quoted: source.severity.rawValue) + descriptionBound, { c in
          c.put("\",\"severity\":")
          c.put(quoted: source.severity.rawValue)
          if isTimeout { c.put(",\"timeout\":true") }
          if let description = source.description {
            c.put(",\"description\":")
            c.put(quoted: description)
          }
          c.put(",\"time\":")
        }))
      }
      keyBase = writers.count
      for (i, field) in source.keyFields.enumerated() {
        let bound = field.components.reduce(3) { $0 + 1 + Cursor.bound(quoted: $1) }
        writers.append((bound, { c in
          if i > 0 { c.put(",") }
          c.put(quotedPath: field)
          c.put(":")
        }))
      }
      stepBase = writers.count
      for step in source.steps {
        writers.append((2 + Cursor.bound(quoted: step), { c in
          c.put(quoted: step)
          c.put(":[")
        }))
      }
      emitBase = writers.count
      for (i, name) in source.emitNames.enumerated() { writers.append(Self.member(i, name)) }
      timeoutBase = writers.count
      for (i, name) in source.timeoutNames.enumerated() { writers.append(Self.member(i, name)) }

      let pieceCount = writers.count
      let capacity = writers.reduce(0) { $0 + $1.bound }
      bytes = .allocate(capacity: max(1, capacity))
      starts = .allocate(capacity: pieceCount + 1)
      var c = Cursor(UnsafeMutableBufferPointer(start: bytes, count: capacity))
      for (i, piece) in writers.enumerated() {
        starts[i] = c.count
        piece.write(&c)
      }
      starts[pieceCount] = c.count
      // Keys, brackets and commas `write` spells out, and `"suppressed":` with its count.
      fixedBytes = c.count + 96
    }

    deinit {
      bytes.deallocate()
      starts.deallocate()
    }

    private static func member(_ i: Int, _ name: String) -> (Int, (inout JSONWriter.Cursor) -> Void) {
      (2 + JSONWriter.Cursor.bound(quoted: name), { c in
        if i > 0 { c.put(",") }
        c.put(quoted: name)
        c.put(":")
      })
    }

    @inline(__always)
    private func put(_ piece: Int, to c: inout JSONWriter.Cursor) {
      c.put(bytes: UnsafeBufferPointer(start: bytes + starts[piece], count: starts[piece + 1] - starts[piece]))
    }

    /// At least the bytes ``write(_:to:days:)`` writes for `alert`: the pieces, each value at its
    /// widest (``JSONWriter/Cursor/bound(of:)``), each identity at its worst (every byte a
    /// six-byte escape).
    func bound(of alert: Alert) -> Int {
      typealias Cursor = JSONWriter.Cursor
      var n = fixedBytes + 16 + 2 * (EventTime.rfc3339MaxBytes + 2)
      for value in alert.keyValues { n &+= Cursor.bound(of: value) }
      // Per identity its comma, per step a comma and a bracket.
      for event in alert.boundEvents { n &+= 3 &+ Cursor.bound(quoted: event.identity) }
      for value in alert.fieldValues { n &+= Cursor.bound(of: value) }
      return n
    }

    /// Writes `alert`'s line (`alert.source` is this template's rule); needs room for
    /// ``bound(of:)`` bytes.
    func write(_ alert: Alert, to c: inout JSONWriter.Cursor, days: inout RFC3339Days) {
      put(Self.head, to: &c)
      c.put(hex: alert.idHash)
      put(alert.isTimeout ? Self.afterTimeoutID : Self.afterID, to: &c)
      c.put(time: alert.time, days: &days)
      c.put(",\"start\":")
      c.put(time: alert.start, days: &days)
      c.put(",\"key\":{")
      for i in 0..<min(source.keyFields.count, alert.keyValues.count) {
        put(keyBase + i, to: &c)
        c.put(value: alert.keyValues[i])
      }
      c.put("},\"events\":{")
      writeEvents(alert.boundEvents, to: &c)
      c.put("},\"fields\":{")
      let (names, base) = alert.isTimeout ? (source.timeoutNames, timeoutBase) : (source.emitNames, emitBase)
      for i in 0..<min(names.count, alert.fieldValues.count) {
        put(base + i, to: &c)
        c.put(value: alert.fieldValues[i])
      }
      c.put("}")
      if alert.suppressed > 0 {
        c.put(",\"suppressed\":")
        c.put(int: Int64(alert.suppressed))
      }
      c.put("}\n")
    }

    /// The `events` object's members: per step in pattern order that bound events, its name
    /// and their identities in match order (``Alert/events``). A step's name is written at its
    /// first event, so steps that bound nothing (or indices no step has) leave no trace.
    private func writeEvents(_ events: [Alert.BoundEvent], to c: inout JSONWriter.Cursor) {
      var wrote = false
      for step in source.steps.indices {
        var first = true
        for event in events where event.step == step {
          if first {
            if wrote { c.put(",") }
            wrote = true
            first = false
            put(stepBase + step, to: &c)
          } else {
            c.put(",")
          }
          c.put(quoted: event.identity)
        }
        if !first { c.put("]") }
      }
    }
  }
}
