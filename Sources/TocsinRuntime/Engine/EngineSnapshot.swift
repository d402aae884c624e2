import TocsinCore

/// The engine's whole state in a *logical* form, independent of its in-memory layout: what a
/// checkpoint stores and what ``Engine/init(restoring:programs:options:ruleMapping:)`` rebuilds
/// the structures from through their ordinary insertion APIs.
///
/// Every event still referenced (by a partial or held match, the reorder buffer or the
/// time-skew guard) is stored once in ``events``; the shared match buffer is stored as a node
/// table (``nodes``), so partial matches that share a prefix still share it after a restore.
/// Timers are not stored: the live ones are exactly the keys' ``KeyState/scheduledDeadline``s
/// (stale heap entries are ignored by the engine), and the restore schedules those.
///
/// Invariants (checked by ``validate()``): node `i`'s `previous` is below `i`; every index
/// refers into its table; key ids are below their key space's count.
public struct EngineSnapshot {
  /// One node of the shared match buffer: an event bound to a step after `previous`.
  public struct Node: Equatable {
    /// The step index the event was bound to.
    public var step: Int
    /// Index into ``EngineSnapshot/events``.
    public var event: Int
    /// Index into ``EngineSnapshot/nodes`` of the node before, or −1 for a match's first event.
    public var previous: Int
    /// Creates a node.
    public init(step: Int, event: Int, previous: Int) {
      self.step = step
      self.event = event
      self.previous = previous
    }
  }

  /// One partial or held match.
  public struct StoredComputation: Equatable {
    /// The automaton state id.
    public var state: UInt32
    /// Index into ``EngineSnapshot/nodes`` of its most recent node.
    public var node: Int
    /// Its first event's position.
    public var start: EventPosition
    /// For an absence match, the window end.
    public var absenceDeadline: EventTime?
    /// Creates a stored computation.
    public init(state: UInt32, node: Int, start: EventPosition, absenceDeadline: EventTime?) {
      self.state = state
      self.node = node
      self.start = start
      self.absenceDeadline = absenceDeadline
    }
  }

  /// One (rule, key)'s non-empty state.
  public struct KeyState {
    /// The key id in the rule's key space.
    public var key: UInt32
    /// Open partial matches, earliest start first.
    public var partials: [StoredComputation]
    /// Held complete matches.
    public var completed: [StoredComputation]
    /// The deadline of the key's live `within` timer.
    public var scheduledDeadline: EventTime?
    /// With a key TTL: the last event time this key was processed, and the TTL timer in flight.
    public var lastActivity: EventTime?
    /// The deadline of the key's TTL timer in flight, if any.
    public var ttlDeadline: EventTime?
    /// Creates a key state.
    public init(
      key: UInt32, partials: [StoredComputation], completed: [StoredComputation],
      scheduledDeadline: EventTime?, lastActivity: EventTime? = nil, ttlDeadline: EventTime? = nil
    ) {
      self.key = key
      self.partials = partials
      self.completed = completed
      self.scheduledDeadline = scheduledDeadline
      self.lastActivity = lastActivity
      self.ttlDeadline = ttlDeadline
    }
  }

  /// One rule's state and counters.
  public struct RuleState {
    /// The rule's name (rules are matched by name and fingerprint on restore).
    public var name: String
    /// Index into ``EngineSnapshot/keySpaces``.
    public var keySpace: Int
    /// Alerts emitted so far.
    public var alerts: Int
    /// Events that lacked this rule's key.
    public var missingKey: Int
    /// Run-time evaluation counters of the rule's context.
    public var typeErrors: Int
    /// Arithmetic errors.
    public var arithmeticErrors: Int
    /// Regex match-limit hits.
    public var regexLimitHits: Int
    /// The first type error's text.
    public var firstTypeError: String?
    /// The first regex that hit its match limit.
    public var firstRegexLimitPattern: String?
    /// Keys with a non-empty state, ascending.
    public var keys: [KeyState]
    /// Creates a rule state.
    public init(
      name: String, keySpace: Int, alerts: Int, missingKey: Int, typeErrors: Int,
      arithmeticErrors: Int, regexLimitHits: Int, firstTypeError: String?,
      firstRegexLimitPattern: String?, keys: [KeyState]
    ) {
      self.name = name
      self.keySpace = keySpace
      self.alerts = alerts
      self.missingKey = missingKey
      self.typeErrors = typeErrors
      self.arithmeticErrors = arithmeticErrors
      self.regexLimitHits = regexLimitHits
      self.firstTypeError = firstTypeError
      self.firstRegexLimitPattern = firstRegexLimitPattern
      self.keys = keys
    }
  }

  /// One key space: its fields and every interned key's values, in id order.
  public struct KeySpaceState {
    /// The key fields.
    public var fields: [FieldPath]
    /// `fields.count` values per key, keys in id order.
    public var values: [Value]
    /// Number of key ids, free ones included (an unkeyed space has at most one, with no values).
    public var count: Int
    /// Ids reclaimed and not reused, in reuse order (last first); their values are null.
    public var free: [UInt32] = []
    /// Keys reclaimed over the run.
    public var reclaimed = 0
    /// Creates a key space state.
    public init(fields: [FieldPath], values: [Value], count: Int) {
      self.fields = fields
      self.values = values
      self.count = count
    }
  }

  /// An event held by the time-skew guard.
  public struct Suspect: Equatable {
    /// Index into ``EngineSnapshot/events``.
    public var event: Int
    /// Votes for and against it so far.
    public var confirmations: Int
    /// Votes against it so far.
    public var contradictions: Int
    /// Creates a suspect.
    public init(event: Int, confirmations: Int, contradictions: Int) {
      self.event = event
      self.confirmations = confirmations
      self.contradictions = contradictions
    }
  }

  /// A budget-eviction candidate, in FIFO order.
  public struct EvictionEntry: Equatable {
    /// The rule index.
    public var rule: Int
    /// The key id.
    public var key: UInt32
    /// The key's oldest partial start when queued.
    public var start: EventPosition
    /// Creates an entry.
    public init(rule: Int, key: UInt32, start: EventPosition) {
      self.rule = rule
      self.key = key
      self.start = start
    }
  }

  /// Referenced events, ascending by sequence.
  public var events: [EventRecord] = []
  /// The shared match buffer.
  public var nodes: [Node] = []
  /// Key spaces in engine order.
  public var keySpaces: [KeySpaceState] = []
  /// Rules in program order.
  public var rules: [RuleState] = []
  /// Events in the reorder buffer (indices into ``events``), in release order.
  public var buffered: [Int] = []
  /// Events held by the time-skew guard, in arrival order.
  public var suspects: [Suspect] = []
  /// Budget-eviction FIFO (live entries only).
  public var evictionQueue: [EvictionEntry] = []
  /// Whether the engine was still calibrating its time base (``TimeCalibration``): it then
  /// holds ``calibrationHeld`` and has accepted no event yet.
  public var calibrating = false
  /// The events held by time calibration (indices into ``events``), in arrival order.
  public var calibrationHeld: [Int] = []
  /// The time base calibration found (`-∞` before calibration ended, or without the guard).
  public var calibratedBase = EventTime.negativeInfinity
  /// The watermark.
  public var watermark = EventTime.negativeInfinity
  /// The newest accepted event time.
  public var maxEventTime = EventTime.negativeInfinity
  /// Global counters (the per-rule arrays are in ``rules``).
  public var counters = EngineCounters()

  /// An empty snapshot.
  public init() {}

  /// Why a snapshot cannot be restored.
  public struct Invalid: Error, CustomStringConvertible {
    /// What is wrong.
    public var description: String
  }

  /// Checks the cross-references, so a restore never traps on a damaged snapshot.
  public func validate() throws(Invalid) {
    func fail(_ what: String) -> Invalid { Invalid(description: "inconsistent snapshot: " + what) }
    for (i, node) in nodes.enumerated() {
      guard node.event >= 0, node.event < events.count else { throw fail("node \(i) event") }
      guard node.previous >= -1, node.previous < i else { throw fail("node \(i) previous") }
      guard node.step >= 0 else { throw fail("node \(i) step") }
    }
    for index in buffered + suspects.map(\.event) + calibrationHeld where index < 0 || index >= events.count {
      throw fail("buffered event \(index)")
    }
    for rule in rules {
      guard rule.keySpace >= 0, rule.keySpace < keySpaces.count else { throw fail("rule '\(rule.name)' key space") }
      let keyCount = keySpaces[rule.keySpace].count
      for key in rule.keys {
        guard Int(key.key) < keyCount else { throw fail("rule '\(rule.name)' key \(key.key)") }
        for c in key.partials + key.completed where c.node < 0 || c.node >= nodes.count {
          throw fail("rule '\(rule.name)' computation node")
        }
      }
    }
    for space in keySpaces where space.values.count != space.count * space.fields.count || space.count < 0 {
      throw fail("key space values")
    }
  }

  /// Moves every event's slots from the projection `old` to `new` by field path (for a rule set
  /// whose projection changed between runs); fields `new` has and `old` lacked read as null.
  public mutating func reproject(from old: [FieldPath], to new: [FieldPath]) {
    guard old != new else { return }
    var oldSlot: [FieldPath: Int] = [:]
    for (i, path) in old.enumerated() where oldSlot[path] == nil { oldSlot[path] = i }
    let mapping = new.map { oldSlot[$0] }
    for i in events.indices {
      let slots = events[i].slots
      events[i].slots = EventSlots(mapping.map { index in index.map { $0 < slots.count ? slots[$0] : .null } ?? .null })
    }
  }
}
