/// A dynamically typed value of an event field or an expression.
///
/// Five cases and no more, so a `Value` is 17 bytes (a `String` payload plus tag) and events are
/// flat arrays of them. Strings up to 15 UTF-8 bytes are stored inline by Swift and do not
/// allocate, which covers most field values (`"purchase"`, city names, ids).
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
    }
  }

  /// Shortest round-trip text for a double; integral values keep a `.0`; non-finite become `null`
  /// (JSON has no spelling for them).
  public static func formatDouble(_ d: Double) -> String {
    guard d.isFinite else { return "null" }
    return d.description
  }
}
