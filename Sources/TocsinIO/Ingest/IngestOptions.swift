import TocsinCore

/// How the time field's value is read.
public enum TimeFormat: String, Sendable, Hashable, CaseIterable {
  /// Numbers are epoch milliseconds, strings are RFC 3339.
  case auto
  /// Numbers are seconds since the epoch (a fraction gives sub-second precision).
  case epochSeconds = "epoch-seconds"
  /// Numbers are milliseconds since the epoch.
  case epochMillis = "epoch-millis"
  /// Numbers are microseconds since the epoch.
  case epochMicros = "epoch-micros"
  /// Numbers are nanoseconds since the epoch.
  case epochNanos = "epoch-nanos"
  /// Strings in RFC 3339 (see ``RFC3339``).
  case rfc3339

  /// Nanoseconds per unit for the numeric formats; `nil` for ``rfc3339``.
  var nanosecondsPerUnit: Int64? {
    switch self {
    case .auto, .epochMillis: return 1_000_000
    case .epochSeconds: return 1_000_000_000
    case .epochMicros: return 1_000
    case .epochNanos: return 1
    case .rfc3339: return nil
    }
  }

  /// Whether string values are read as RFC 3339.
  var acceptsStrings: Bool { self == .auto || self == .rfc3339 }
}

/// Which fields of an event carry its time and identity, and how time is spelled.
public struct IngestOptions: Sendable, Hashable {
  /// The field holding the event time (`--time-field`, default `ts`).
  public var timeField: FieldPath
  /// How the time field is read (`--time-format`, default ``TimeFormat/auto``).
  public var timeFormat: TimeFormat
  /// The field holding the event's identity (`--id-field`, default `id`).
  public var idField: FieldPath

  /// Creates options; the defaults read `ts` (epoch ms or RFC 3339) and `id`.
  public init(
    timeField: FieldPath = FieldPath(["ts"]), timeFormat: TimeFormat = .auto,
    idField: FieldPath = FieldPath(["id"])
  ) {
    self.timeField = timeField
    self.timeFormat = timeFormat
    self.idField = idField
  }
}
