import TocsinCore

/// Why a line could not become an ``EventRecord``.
public enum IngestError: Error, Sendable, Hashable {
  /// The line is not a valid JSON object.
  case scan(ScanError)
  /// The time field is absent or `null`.
  case missingTime(field: FieldPath)
  /// The time field holds `text` (the value as written, truncated to 64 bytes), which the time
  /// format cannot read or which lies outside the representable range (years 1678–2261).
  case invalidTime(field: FieldPath, text: String)

  /// The dead-letter reason.
  public var reason: DeadLetterReason {
    switch self {
    case .scan(let error): return error.reason
    case .missingTime: return .missingTime
    case .invalidTime: return .invalidTime
    }
  }

  /// A one-line, lower-case description.
  public var message: String {
    switch self {
    case .scan(let error): return error.message
    case .missingTime(let field): return "missing time field '\(field)'"
    case .invalidTime(let field, let text): return "invalid time in field '\(field)': '\(text)'"
    }
  }
}
