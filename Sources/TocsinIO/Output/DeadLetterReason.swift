/// Why an input line or event was written to the dead-letter output.
///
/// The raw values are stable snake_case ids: dead-letter files are consumed by scripts, and
/// `docs/operations.md` lists each one. Add cases; never rename them.
public enum DeadLetterReason: String, Sendable, Hashable, CaseIterable {
  /// The line is not valid JSON (including an empty line and text after the object).
  case invalidJSON = "invalid_json"
  /// The line is valid-looking JSON but not an object.
  case notAnObject = "not_an_object"
  /// Objects/arrays nest deeper than the scanner's limit.
  case nestingTooDeep = "nesting_too_deep"
  /// A string in the line is not valid UTF-8.
  case invalidUTF8 = "invalid_utf8"
  /// The line is longer than the reader's `maxLineBytes`; only its first bytes are kept.
  case lineTooLong = "line_too_long"
  /// The time field is absent or `null`.
  case missingTime = "missing_time"
  /// The time field has a value that the configured time format cannot read.
  case invalidTime = "invalid_time"
  /// The time field holds a well-formed time outside 1677-09-21…2262-04-11.
  case timeOutOfRange = "time_out_of_range"
  /// A number the rules read is too large for a 64-bit float (`1e400`).
  case numberOutOfRange = "number_out_of_range"
  /// A rule's key field is absent (written by the runtime).
  case missingKey = "missing_key"
  /// The event arrived at or behind the watermark (written by the runtime).
  case late
  /// The event's time jumped more than the time-skew bound ahead of the stream and later events
  /// did not confirm the jump (written by the runtime).
  case timeSkew = "time_skew"
  /// A state limit (per-key cap, key TTL, state budget) dropped partial matches (written by the
  /// runtime; the record names the rule, key, limit and count).
  case stateLimit = "state_limit"

  /// The stable id written in the `reason` field.
  @inlinable public var id: String { rawValue }
}
