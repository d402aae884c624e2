import TocsinCore
import TocsinExpressions

/// What every alert of one rule shares, made once per rule: an ``Alert`` refers to it and
/// carries only what differs from match to match.
///
/// Alerts are frequent (W2 writes one per eight events), and each used to carry its own copies:
/// an array of key pairs with the field paths, the step names with an array of identities per
/// step, the emitted names with their values, and its id as text; about seven allocations and
/// 17k instructions an alert, made, encoded and destroyed.
public final class AlertRule: Sendable {
  /// The rule's position in the program set (for ordering and routing).
  public let index: Int
  /// The rule's name.
  public let name: String
  /// The rule's severity.
  public let severity: Severity
  /// The rule's description, if any.
  public let description: String?
  /// The key fields, in the order ``Alert/keyValues`` holds their values.
  public let keyFields: [FieldPath]
  /// The steps' names in pattern order: ``Alert/BoundEvent/step`` indexes it.
  public let steps: [String]
  /// The `emit` names, in the order a match's ``Alert/fieldValues`` holds their values.
  public let emitNames: [String]
  /// The `on timeout emit` names, in the order a timeout's ``Alert/fieldValues`` holds them.
  public let timeoutNames: [String]
  /// The alert id's hash state after the part every alert of the rule shares (its name, and
  /// for a timeout the timeout marker: ``Alert/makeIDHash(rule:isTimeout:keyText:identities:)``),
  /// for a match and for a timeout: hashed once here, not per alert.
  let idPrefixes: (match: StableHash, timeout: StableHash)

  /// The shared part of rule number `index`'s alerts.
  public init(
    index: Int, name: String, severity: Severity, description: String? = nil, keyFields: [FieldPath] = [],
    steps: [String] = [], emitNames: [String] = [], timeoutNames: [String] = []
  ) {
    self.index = index
    self.name = name
    self.severity = severity
    self.description = description
    self.keyFields = keyFields
    self.steps = steps
    self.emitNames = emitNames
    self.timeoutNames = timeoutNames
    idPrefixes = (Alert.idPrefix(rule: name, isTimeout: false), Alert.idPrefix(rule: name, isTimeout: true))
  }

  /// The shared part of the alerts of `spec`, rule number `index`.
  public convenience init(index: Int, spec: RuleSpec) {
    self.init(
      index: index, name: spec.name, severity: spec.severity, description: spec.description,
      keyFields: spec.keyFields, steps: spec.steps.map(\.name), emitNames: spec.emit.map(\.name),
      timeoutNames: spec.onTimeout?.map(\.name) ?? [])
  }
}

/// One complete match, ready to be written by a sink.
///
/// The parts every alert of its rule shares are in ``source`` (one reference); the alert itself
/// holds the key's values, the bound events in match order and the emitted values, and its id
/// as a number. ``key``, ``events`` and ``fields`` pair them up on demand;
/// `AlertEncoder` writes them without doing so.
public struct Alert {
  /// One event of the match: the step it was bound to (an index into
  /// ``AlertRule/steps``) and its identity.
  public struct BoundEvent: Equatable {
    /// Index into ``AlertRule/steps``.
    public var step: Int
    /// The event's identity.
    public var identity: EventIdentity

    /// `identity` bound to step number `step`.
    public init(step: Int, identity: EventIdentity) {
      self.step = step
      self.identity = identity
    }
  }

  /// The rule's shared part.
  public let source: AlertRule
  /// The key fields' values, in the order of ``AlertRule/keyFields`` (empty for an unkeyed
  /// rule).
  public var keyValues: [Value]
  /// The deterministic id as a number: a stable hash of rule name, key and matched event
  /// identities (and, for a timeout, the word `timeout`, so it never collides with a match).
  /// ``id`` is its text.
  public var idHash: UInt64
  /// Whether this reports a partial match that expired (`on timeout emit`) rather than a match.
  public var isTimeout: Bool
  /// Event time of the match: its last event's time; for an absence match or a timeout, the
  /// end of the window.
  public var time: EventTime
  /// Event time of the match's first event.
  public var start: EventTime
  /// The matched events in match order.
  public var boundEvents: [BoundEvent]
  /// The values of ``fieldNames``, in their order.
  public var fieldValues: [Value]
  /// For a rule with `suppress`: the suppression key (the `by` value, or the partition key as
  /// text). `.null` when the rule has no `suppress` or its `by` value was null; such alerts are
  /// never suppressed.
  public var suppressionKey: Value
  /// How many equal alerts ``Suppressor`` held back since the previous written one (written as
  /// `"suppressed"` when positive).
  public var suppressed: Int

  /// An alert of `source`'s rule.
  public init(
    source: AlertRule, keyValues: [Value] = [], idHash: UInt64, isTimeout: Bool = false, time: EventTime,
    start: EventTime, boundEvents: [BoundEvent] = [], fieldValues: [Value] = [], suppressionKey: Value = .null
  ) {
    self.source = source
    self.keyValues = keyValues
    self.idHash = idHash
    self.isTimeout = isTimeout
    self.time = time
    self.start = start
    self.boundEvents = boundEvents
    self.fieldValues = fieldValues
    self.suppressionKey = suppressionKey
    self.suppressed = 0
  }

  /// The rule's position in the program set (for ordering).
  public var ruleIndex: Int { source.index }
  /// The rule's name.
  public var rule: String { source.name }
  /// The rule's severity.
  public var severity: Severity { source.severity }
  /// The rule's description, if any.
  public var description: String? { source.description }
  /// The deterministic id: ``idHash`` as 16 lower-case hex digits.
  public var id: String { StableHash.hex(idHash) }
  /// The names of ``fieldValues``: the rule's `emit` names, or its `on timeout emit` names for
  /// a timeout.
  public var fieldNames: [String] { isTimeout ? source.timeoutNames : source.emitNames }

  /// The key fields and their values for this match (empty for an unkeyed rule).
  public var key: [(field: FieldPath, value: Value)] {
    zip(source.keyFields, keyValues).map { (field: $0, value: $1) }
  }

  /// The matched events grouped by step, in pattern order; steps that bound nothing are omitted.
  public var events: [(step: String, identities: [EventIdentity])] {
    source.steps.indices.compactMap { step in
      let identities = boundEvents.filter { $0.step == step }.map(\.identity)
      return identities.isEmpty ? nil : (step: source.steps[step], identities: identities)
    }
  }

  /// The emitted fields in written order.
  public var fields: [(name: String, value: Value)] {
    zip(fieldNames, fieldValues).map { (name: $0, value: $1) }
  }

  /// Builds the deterministic alert id as text (``makeIDHash(rule:isTimeout:keyText:identities:)``
  /// in ``StableHash/hex(_:)``).
  public static func makeID(rule: String, isTimeout: Bool, keyText: String, identities: [EventIdentity]) -> String {
    StableHash.hex(makeIDHash(rule: rule, isTimeout: isTimeout, keyText: keyText, identities: identities))
  }

  /// Builds the deterministic alert id: a stable hash of the rule's name (for a timeout, with
  /// `\0timeout` appended, so it never collides with a match), the key's text and the events'
  /// identities in match order.
  public static func makeIDHash<S: Sequence>(
    rule: String, isTimeout: Bool, keyText: String, identities: S
  ) -> UInt64 where S.Element == EventIdentity {
    idHash(from: idPrefix(rule: rule, isTimeout: isTimeout), keyText: keyText, identities: identities)
  }

  /// ``makeIDHash(rule:isTimeout:keyText:identities:)`` for an alert of `source`'s rule, from
  /// the state the rule keeps after its name (``AlertRule/idPrefixes``).
  static func makeIDHash<S: Sequence>(
    source: AlertRule, isTimeout: Bool, keyText: String, identities: S
  ) -> UInt64 where S.Element == EventIdentity {
    idHash(from: isTimeout ? source.idPrefixes.timeout : source.idPrefixes.match, keyText: keyText, identities: identities)
  }

  /// The id hash's state after the rule's part: its name, the timeout marker for a timeout,
  /// then the separator.
  static func idPrefix(rule: String, isTimeout: Bool) -> StableHash {
    var hash = StableHash()
    hash.combine(utf8Of: rule)
    if isTimeout { hash.combine(utf8Of: "\u{0}timeout") }
    hash.combine(byte: 0xFF)
    return hash
  }

  /// The id hash from `prefix` (``idPrefix(rule:isTimeout:)``): the key's text, then each
  /// identity, each followed by the separator.
  @inline(__always)
  private static func idHash<S: Sequence>(from prefix: StableHash, keyText: String, identities: S) -> UInt64
  where S.Element == EventIdentity {
    var hash = prefix
    hash.combine(keyText)
    for identity in identities { hash.combine(identity) }
    return hash.value
  }
}
