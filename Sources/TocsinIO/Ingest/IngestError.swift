import TocsinCore

/// Why a line could not become an ``EventRecord``.
public enum IngestError: Error, Sendable, Hashable {
  /// The line is not a valid JSON object.
  case scan(ScanError)
  /// The time field is absent or `null`.
  case missingTime(field: FieldPath)
  /// The time field holds `text` (the value as written, truncated to 64 bytes), which the time
  /// format cannot read.
  case invalidTime(field: FieldPath, text: String)
  /// The time field holds `text` (as above), a well-formed time outside the representable
  /// range (1677-09-21 to 2262-04-11): often a unit mistake, like nanoseconds read as millis.
  case timeOutOfRange(field: FieldPath, text: String)

  /// The dead-letter reason.
  public var reason: DeadLetterReason {
    switch self {
    case .scan(let error): return error.reason
    case .missingTime: return .missingTime
    case .invalidTime: return .invalidTime
    case .timeOutOfRange: return .timeOutOfRange
    }
  }

  /// A one-line, lower-case description.
  public var message: String {
    switch self {
    case .scan(let error): return error.message
    case .missingTime(let field): return "missing time field '\(field)'"
    case .invalidTime(let field, let text): return "invalid time in field '\(field)': '\(text)'"
    case .timeOutOfRange(let field, let text):
      return "time in field '\(field)' is outside 1677-09-21…2262-04-11: '\(text)'"
    }
  }
}
