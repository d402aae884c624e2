/// A dynamically typed value of an event field or an expression.
///
/// No payload is larger than a `String`, so a `Value` is 17 bytes (a `String` payload plus tag)
/// and events are flat arrays of them. Strings up to 15 UTF-8 bytes are stored inline by Swift and
/// do not allocate, which covers most field values (`"purchase"`, city names, ids). Times and
/// durations are one `Int64` of nanoseconds, so arithmetic on them never allocates.
///
/// Ingestion only produces the first five cases (JSON has no time, duration or list); the others
/// come from expressions: `time(step)`, duration literals, `split(s, sep)`.
public enum Value: Hashable, Sendable, CustomStringConvertible {
  /// A missing field, JSON `null`, or the result of an operation that had no answer.
  case null
  /// `true` or `false`.
  case bool(Bool)
  /// A 64-bit signed integer (JSON numbers without fraction or exponent that fit).
  case int(Int64)
  /// A double (every other JSON number).
  case float(Double)
  /// A string.
  case string(String)
  /// A point in event time (`time()`, `time(step)`, `to_time(x)`, time arithmetic).
  case time(EventTime)
  /// An interval of event time (`10m`, `time(b) - time(a)`).
  case duration(EventDuration)
  /// A list of values (`split(s, sep)`); only `in`, `len` and `emit` read it.
  case list([Value])

  /// Whether this is `.null`.
  @inlinable public var isNull: Bool {
    if case .null = self { return true }
    return false
  }

  /// The numeric value as a double for `.int` and `.float`, else `nil`.
  @inlinable public var doubleValue: Double? {
    switch self {
    case .int(let i): return Double(i)
    case .float(let d): return d
    default: return nil
    }
  }

  /// Whether this is exactly `.bool(true)`: the only value that satisfies a condition.
  @inlinable public var isTrue: Bool {
    if case .bool(true) = self { return true }
    return false
  }

  /// The name of the value's type as the rule language spells it.
  public var typeName: String {
    switch self {
    case .null: return "null"
    case .bool: return "bool"
    case .int: return "int"
    case .float: return "float"
    case .string: return "string"
    case .time: return "time"
    case .duration: return "duration"
    case .list: return "list"
    }
  }

  /// The text used when a value is turned into a key or shown in a message (strings unquoted).
  public var description: String {
    switch self {
    case .null: return "null"
    case .bool(let b): return b ? "true" : "false"
    case .int(let i): return String(i)
    case .float(let d): return Value.formatDouble(d)
    case .string(let s): return s
    case .time(let t): return t.rfc3339
    case .duration(let d): return d.description
    case .list(let items): return "[" + items.map(\.description).joined(separator: ", ") + "]"
    }
  }

  /// Shortest round-trip text for a double; integral values keep a `.0`; non-finite become `null`
  /// (JSON has no spelling for them).
  public static func formatDouble(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    return d.description
  }
}
