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
public struct AlertEncoder {
  private var writer = JSONWriter(capacity: 1024)

  /// A fresh encoder.
  public init() {}

  /// The alert as one JSON line including the trailing newline.
  public mutating func encode(_ alert: Alert) -> [UInt8] {
    writer.reset()
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
    return writer.bytes
  }
}
