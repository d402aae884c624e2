import TocsinCore
import TocsinExpressions

/// One complete match, ready to be written by a sink.
public struct Alert {
  /// The rule's position in the program set (for ordering).
  public var ruleIndex: Int
  /// The rule's name.
  public var rule: String
  /// The rule's severity.
  public var severity: Severity
  /// The rule's description, if any.
  public var description: String?
  /// The key fields and their values for this match (empty for an unkeyed rule).
  public var key: [(field: FieldPath, value: Value)]
  /// Deterministic id: a stable hash of rule name, key and matched event identities
  /// (and, for a timeout, the word `timeout`, so it never collides with a match).
  public var id: String
  /// Whether this reports a partial match that expired (`on timeout emit`) rather than a match.
  public var isTimeout: Bool
  /// Event time of the match: its last event's time; for an absence match or a timeout, the
  /// end of the window.
  public var time: EventTime
  /// Event time of the match's first event.
  public var start: EventTime
  /// The matched events grouped by step, in pattern order; steps that bound nothing are omitted.
  public var events: [(step: String, identities: [EventIdentity])]
  /// The `emit` fields in written order.
  public var fields: [(name: String, value: Value)]
  /// For a rule with `suppress`: the suppression key (the `by` value, or the partition key as
  /// text). `.null` when the rule has no `suppress` or its `by` value was null; such alerts are
  /// never suppressed.
  public var suppressionKey: Value = .null
  /// How many equal alerts ``Suppressor`` held back since the previous written one (written as
  /// `"suppressed"` when positive).
  public var suppressed = 0

  /// Builds the deterministic alert id.
  public static func makeID(rule: String, keyText: String, identities: [EventIdentity]) -> String {
    var hash = StableHash()
    hash.combine(rule)
    hash.combine(keyText)
    for identity in identities { hash.combine(identity) }
    return hash.hex
  }
}
