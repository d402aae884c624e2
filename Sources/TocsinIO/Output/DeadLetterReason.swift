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

extension DeadLetterReason {
  /// The reason's position in ``allCases``: a switch, not a search.
  @inlinable public var ordinal: Int {
    switch self {
    case .invalidJSON: 0
    case .notAnObject: 1
    case .nestingTooDeep: 2
    case .invalidUTF8: 3
    case .lineTooLong: 4
    case .missingTime: 5
    case .invalidTime: 6
    case .timeOutOfRange: 7
    case .numberOutOfRange: 8
    case .missingKey: 9
    case .late: 10
    case .timeSkew: 11
    case .stateLimit: 12
    }
  }
}

/// A count per ``DeadLetterReason``, in a table indexed by ``DeadLetterReason/ordinal``. (A
/// dictionary keyed by the reason hashed its name for every count: ~360 instructions per dead
/// letter, on a stream where a state limit writes one per event.)
public struct DeadLetterCounts: Equatable, Sendable {
  private var counts = Array(repeating: 0, count: DeadLetterReason.allCases.count)

  /// All zero.
  public init() {}

  /// The count of `reason`.
  public subscript(reason: DeadLetterReason) -> Int {
    get { counts[reason.ordinal] }
    set { counts[reason.ordinal] = newValue }
  }

  /// The sum over every reason.
  public var total: Int { counts.reduce(0, +) }

  /// The reasons counted at least once with their counts, in ``DeadLetterReason/allCases``
  /// order.
  public var nonZero: [(reason: DeadLetterReason, count: Int)] {
    DeadLetterReason.allCases.compactMap { counts[$0.ordinal] > 0 ? ($0, counts[$0.ordinal]) : nil }
  }
}
