import TocsinCore

/// Bounds on the engine's matching state (DESIGN §4 "Limits", STYLE §24: limits produce a
/// warning and a counter, never a crash or an out-of-memory kill).
///
/// Each limit drops partial matches, oldest first, and reports every drop as a
/// ``EngineAction/stateLimit(_:)`` action (a `state_limit` dead letter). Held complete matches
/// are never dropped: a drop can only make them releasable sooner.
///
/// - ``maxPartialsPerKey``: after an event, a (rule, key) with more open partial matches than
///   this loses its oldest ones (a hot key cannot grow without bound under `followed_by_any`
///   or a non-greedy loop).
/// - ``keyTTL``: a (rule, key) that has seen no event for this long in event time loses all its
///   open partial matches when the watermark passes `last event + ttl` (state of rules without
///   `within` cannot otherwise expire).
/// - ``maxStateBytes``: a global budget on the *estimated* state size (see
///   ``Engine/estimatedStateBytes``). Past it, the engine drops the oldest partial match of the
///   (rule, key) that has held its current oldest partial match the longest, repeatedly, until
///   the estimate is at 90% of the budget.
public struct StateLimits: Sendable, Equatable {
  /// The default cap on open partial matches per (rule, key).
  public static let defaultMaxPartialsPerKey = 10_000

  /// Open partial matches one (rule, key) may hold; at least 1.
  public var maxPartialsPerKey: Int
  /// Idle time (event time) after which a (rule, key)'s open partial matches are dropped;
  /// `nil` for none.
  public var keyTTL: EventDuration?
  /// Budget for the estimated state size in bytes; `nil` for none.
  public var maxStateBytes: Int?

  /// Creates limits; by default only the per-key cap (10 000) is set.
  public init(
    maxPartialsPerKey: Int = StateLimits.defaultMaxPartialsPerKey, keyTTL: EventDuration? = nil,
    maxStateBytes: Int? = nil
  ) {
    self.maxPartialsPerKey = max(1, maxPartialsPerKey)
    self.keyTTL = keyTTL
    self.maxStateBytes = maxStateBytes
  }
}

/// Which limit dropped state.
public enum StateLimitKind: String, Sendable, CaseIterable {
  /// ``StateLimits/maxPartialsPerKey``.
  case partialsPerKey = "max_partials_per_key"
  /// ``StateLimits/keyTTL``.
  case keyTTL = "key_ttl"
  /// ``StateLimits/maxStateBytes``.
  case stateBudget = "max_state_bytes"
}

/// One drop of partial matches by a state limit: what the `state_limit` dead letter records.
public struct StateLimitDrop: Sendable {
  /// The rule's position in the program set.
  public var ruleIndex: Int
  /// The rule's name.
  public var rule: String
  /// The key as text (values joined with `|`).
  public var key: String
  /// The limit that dropped them.
  public var limit: StateLimitKind
  /// Partial matches dropped.
  public var dropped: Int
  /// The start (first event time) of the oldest dropped partial match.
  public var oldestStart: EventTime
  /// The watermark when they were dropped.
  public var watermark: EventTime
}

/// Counters of the state limits, part of ``EngineCounters``.
public struct StateLimitCounters: Sendable, Equatable {
  /// Partial matches dropped by ``StateLimits/maxPartialsPerKey``.
  public var droppedByKeyCap = 0
  /// Partial matches dropped by ``StateLimits/keyTTL``.
  public var droppedByKeyTTL = 0
  /// Partial matches dropped by ``StateLimits/maxStateBytes``.
  public var droppedByBudget = 0
  /// Times the budget was exceeded with no partial match left to drop (keys and buffered events
  /// alone exceed it; key ids are never reclaimed).
  public var budgetUnreclaimable = 0
  /// The largest state estimate seen, in bytes (tracked only with a budget).
  public var peakStateBytes = 0

  /// Total partial matches dropped by any limit.
  public var dropped: Int { droppedByKeyCap + droppedByKeyTTL + droppedByBudget }
}
