import Foundation
import TocsinCore
import TocsinExpressions
import XCTest

@testable import TocsinIO
@testable import TocsinRuntime

/// `AlertEncoder` writes each alert in one pass through a cursor; these tests hold it to the
/// writer's own per-piece encoding (``reference(_:)``, the format's definition: field order,
/// escapes, number and time spellings), on a table of awkward alerts and on random ones.
final class AlertEncoderTests: XCTestCase {
  /// The alert line as the writer's per-piece methods spell it.
  private func reference(_ alert: Alert) -> String {
    var writer = JSONWriter()
    writer.beginObject()
    writer.field("rule", .string(alert.rule))
    writer.field("id", .string(alert.id))
    writer.field("severity", .string(alert.severity.rawValue))
    if alert.isTimeout { writer.field("timeout", .bool(true)) }
    if let description = alert.description { writer.field("description", .string(description)) }
    writer.field("time", .time(alert.time))
    writer.field("start", .time(alert.start))
    writer.key("key")
    writer.beginObject()
    for (field, value) in alert.key { writer.field(field.description, value) }
    writer.endObject()
    writer.key("events")
    writer.beginObject()
    for (step, identities) in alert.events {
      writer.key(step)
      writer.beginArray()
      for identity in identities { writer.string(identity) }
      writer.endArray()
    }
    writer.endObject()
    writer.key("fields")
    writer.beginObject()
    for (name, value) in alert.fields { writer.field(name, value) }
    writer.endObject()
    if alert.suppressed > 0 { writer.field("suppressed", .int(Int64(alert.suppressed))) }
    writer.endObject()
    writer.newline()
    return String(decoding: writer.bytes, as: UTF8.self)
  }

  private func alert(
    rule: String = "r", id: UInt64 = 0x0123_4567_89ab_cdef, severity: Severity = .high, description: String? = nil,
    key: [(FieldPath, Value)] = [], timeout: Bool = false, time: EventTime = .milliseconds(1_767_225_600_123),
    start: EventTime = .milliseconds(1_767_225_600_000), events: [(String, [EventIdentity])] = [],
    fields: [(String, Value)] = [], suppressed: Int = 0
  ) -> Alert {
    // The fields' names serve as both lists, so a timeout writes them too.
    let source = AlertRule(
      index: 0, name: rule, severity: severity, description: description, keyFields: key.map(\.0),
      steps: events.map(\.0), emitNames: fields.map(\.0), timeoutNames: fields.map(\.0))
    var alert = Alert(
      source: source, keyValues: key.map(\.1), idHash: id, isTimeout: timeout, time: time, start: start,
      boundEvents: events.enumerated().flatMap { step, event in
        event.1.map { Alert.BoundEvent(step: step, identity: $0) }
      },
      fieldValues: fields.map(\.1))
    alert.suppressed = suppressed
    return alert
  }

  /// Encodes `alert`, compares the line with the reference and checks that it parses as one
  /// JSON object followed by a newline.
  private func check(
    _ alert: Alert, with shared: UnsafeMutablePointer<AlertEncoder>? = nil, file: StaticString = #filePath,
    line: UInt = #line
  ) {
    var own = AlertEncoder()
    let bytes = shared.map { $0.pointee.encode(alert) } ?? own.encode(alert)
    XCTAssertEqual(String(decoding: bytes, as: UTF8.self), reference(alert), file: file, line: line)
    XCTAssertEqual(bytes.last, 0x0A, file: file, line: line)
    XCTAssertNoThrow(
      try JSONSerialization.jsonObject(with: Data(bytes.dropLast()), options: [.fragmentsAllowed]), file: file,
      line: line)
    XCTAssertLessThanOrEqual(bytes.count, AlertEncoder.bound(of: alert), file: file, line: line)
  }

  func testAwkwardAlerts() {
    check(alert())
    check(alert(description: "a \"quoted\" description\\ with a tab\t and a bell \u{07}", timeout: true))
    check(alert(rule: "ünïcödé → 🚨", id: 0, severity: .info))
    check(alert(id: .max, severity: .info))
    check(alert(key: [(FieldPath(["user"]), .string("u1")), (FieldPath(["geo", "country"]), .string("D\"E"))]))
    check(alert(key: [(FieldPath(["we\"ird", "pa\\th", "\u{01}"]), .int(.min))]))
    check(alert(events: [("first", ["e1"]), ("more", ["e2", "e\"3", "e\\4"]), ("", [])]))
    check(
      alert(fields: [
        ("null", .null), ("yes", .bool(true)), ("no", .bool(false)), ("max", .int(.max)), ("min", .int(.min)),
        ("pi", .float(3.141592653589793)), ("tiny", .float(-2.2250738585072014e-308)), ("huge", .float(1e308)),
        ("nan", .float(.nan)), ("inf", .float(-.infinity)), ("negzero", .float(-0.0)),
        ("t", .time(.milliseconds(-62_135_596_800_000))), ("forever", .time(.infinity)),
        ("never", .time(.negativeInfinity)), ("gap", .duration(.seconds(5430))),
        ("list", .list([.int(1), .list([]), .list([.string("x\n"), .null, .float(0.5)]), .time(.milliseconds(0))])),
        ("empty", .string("")), ("controls", .string("\u{00}\u{1f}\r\n")),
      ]))
    check(alert(suppressed: 1))
    check(alert(suppressed: Int(Int32.max)))
    check(alert(start: .negativeInfinity))
  }

  /// Random alerts of every shape: strings drawn from an alphabet heavy in characters that need
  /// escaping, values of every kind (lists nested), any number of key fields, steps and fields.
  func testRandomAlertsMatchTheReference() {
    var rng = SplitMix64(seed: 24)
    let alphabet: [Character] = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{00}", "\u{1f}", "é", "😀", "."]
    func text() -> String { String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }) }
    func time() -> EventTime {
      switch Int.random(in: 0..<8, using: &rng) {
      case 0: return .infinity
      case 1: return .negativeInfinity
      default: return EventTime(nanosecondsSinceEpoch: Int64.random(in: -4_000_000_000_000_000_000...4_000_000_000_000_000_000, using: &rng))
      }
    }
    func value(depth: Int = 0) -> Value {
      switch Int.random(in: 0..<(depth < 2 ? 9 : 8), using: &rng) {
      case 0: return .null
      case 1: return .bool(Bool.random(using: &rng))
      case 2: return .int(Int64.random(in: .min ... .max, using: &rng))
      case 3: return .float(Double(bitPattern: UInt64.random(in: 0 ... .max, using: &rng)))
      case 4: return .float(Double(Int.random(in: -1000...1000, using: &rng)) / 8)
      case 5: return .string(text())
      case 6: return .time(time())
      case 7: return .duration(EventDuration(nanoseconds: Int64.random(in: -1_000_000_000_000_000...1_000_000_000_000_000, using: &rng)))
      default: return .list((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth + 1) })
      }
    }
    for _ in 0..<2000 {
      // Each value's own bound holds (the alert's bound has slack that would hide a short one).
      let v = value()
      var writer = JSONWriter()
      writer.value(v)
      XCTAssertLessThanOrEqual(writer.bytes.count, JSONWriter.Cursor.bound(of: v), "\(v)")
    }
    // One encoder for them all: each alert's rule is new, at index 0, so a kept template must
    // never be used for it.
    var shared = AlertEncoder()
    for _ in 0..<500 {
      check(
        alert(
          rule: text(), id: UInt64.random(in: 0 ... .max, using: &rng), severity: Severity.allCases.randomElement(using: &rng)!,
          description: Bool.random(using: &rng) ? text() : nil,
          key: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            (FieldPath((0..<Int.random(in: 1...3, using: &rng)).map { _ in text() }), value())
          },
          timeout: Bool.random(using: &rng), time: time(), start: time(),
          events: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            (text(), (0..<Int.random(in: 0...4, using: &rng)).map { _ in text() })
          },
          fields: (0..<Int.random(in: 0...5, using: &rng)).map { _ in (text(), value()) },
          suppressed: Bool.random(using: &rng) ? Int.random(in: 1...100_000, using: &rng) : 0),
        with: &shared)
    }
  }

  /// The shapes an engine never makes are written as ``Alert/events``, ``Alert/key`` and
  /// ``Alert/fields`` read them: events out of step order grouped by step, steps out of range
  /// left out, more values than names (or names than values) cut to the shorter.
  func testOddShapesMatchTheComputedViews() {
    let source = AlertRule(
      index: 3, name: "odd", severity: .low, keyFields: [FieldPath(["a"])], steps: ["s0", "s1", "s2"],
      emitNames: ["x", "y"], timeoutNames: ["t"])
    func make(_ bound: [(Int, String)], keys: [Value] = [], values: [Value] = [], timeout: Bool = false) -> Alert {
      Alert(
        source: source, keyValues: keys, idHash: 42, isTimeout: timeout, time: .milliseconds(5), start: .milliseconds(1),
        boundEvents: bound.map { Alert.BoundEvent(step: $0.0, identity: $0.1) }, fieldValues: values)
    }
    var encoder = AlertEncoder()
    let cases: [Alert] = [
      make([(2, "c"), (0, "a"), (2, "d"), (1, "b")]),
      make([(0, "a"), (7, "x"), (1, "b"), (-1, "y")]),
      make([(0, "a"), (0, "b"), (2, "c")], keys: [.string("k"), .string("extra")], values: [.int(1)]),
      make([], values: [.int(1), .int(2), .int(3)]),
      make([(1, "b")], values: [.int(1), .int(2)], timeout: true),
    ]
    for alert in cases { check(alert, with: &encoder) }
    XCTAssertEqual(
      String(decoding: encoder.encode(cases[0]), as: UTF8.self),
      #"{"rule":"odd","id":"000000000000002a","severity":"low","time":"1970-01-01T00:00:00.005Z","#
        + #""start":"1970-01-01T00:00:00.001Z","key":{},"events":{"s0":["a"],"s1":["b"],"s2":["c","d"]},"#
        + #""fields":{}}"# + "\n")
  }
}
