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
    rule: String = "r", id: String = "0123456789abcdef", severity: Severity = .high, description: String? = nil,
    key: [(FieldPath, Value)] = [], timeout: Bool = false, time: EventTime = .milliseconds(1_767_225_600_123),
    start: EventTime = .milliseconds(1_767_225_600_000), events: [(String, [EventIdentity])] = [],
    fields: [(String, Value)] = [], suppressed: Int = 0
  ) -> Alert {
    var alert = Alert(
      ruleIndex: 0, rule: rule, severity: severity, description: description,
      key: key.map { (field: $0.0, value: $0.1) }, id: id, isTimeout: timeout, time: time, start: start,
      events: events.map { (step: $0.0, identities: $0.1) }, fields: fields.map { (name: $0.0, value: $0.1) })
    alert.suppressed = suppressed
    return alert
  }

  /// Encodes `alert`, compares the line with the reference and checks that it parses as one
  /// JSON object followed by a newline.
  private func check(_ alert: Alert, file: StaticString = #filePath, line: UInt = #line) {
    var encoder = AlertEncoder()
    let bytes = encoder.encode(alert)
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
    check(alert(rule: "ünïcödé → 🚨", id: "", severity: .info))
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
    for _ in 0..<500 {
      check(
        alert(
          rule: text(), id: text(), severity: Severity.allCases.randomElement(using: &rng)!,
          description: Bool.random(using: &rng) ? text() : nil,
          key: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            (FieldPath((0..<Int.random(in: 1...3, using: &rng)).map { _ in text() }), value())
          },
          timeout: Bool.random(using: &rng), time: time(), start: time(),
          events: (0..<Int.random(in: 0...3, using: &rng)).map { _ in
            (text(), (0..<Int.random(in: 0...4, using: &rng)).map { _ in text() })
          },
          fields: (0..<Int.random(in: 0...5, using: &rng)).map { _ in (text(), value()) },
          suppressed: Bool.random(using: &rng) ? Int.random(in: 1...100_000, using: &rng) : 0))
    }
  }
}
