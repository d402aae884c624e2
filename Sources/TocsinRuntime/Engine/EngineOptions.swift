import TocsinCore

/// What happens to an event that arrives at or before the watermark.
public enum LatePolicy: String, Sendable, CaseIterable {
  /// Write it to the dead-letter destination with its reason (default).
  case deadLetter = "dead-letter"
  /// Count it and drop it.
  case drop
}

/// Engine settings.
public struct EngineOptions: Sendable {
  /// How far behind the newest event time an event may arrive and still be ordered.
  /// The watermark is `max event time seen − outOfOrderness − 1ns` (Flink's bounded
  /// out-of-orderness convention), so an event stamped exactly `max − outOfOrderness` is on time.
  public var outOfOrderness: EventDuration
  /// What to do with late events.
  public var latePolicy: LatePolicy
  /// Time-poisoning guard: an event stamped more than this ahead of the newest accepted event
  /// time is held as a *suspect* instead of moving the watermark (one event stamped in 2099
  /// would otherwise make every later event late). `nil` disables the guard.
  public var maxTimeSkew: EventDuration?
  /// A suspect is accepted (with the events near it) once this many other events arrive within
  /// `maxTimeSkew` of it: the stream really moved on, e.g. after a quiet weekend.
  public var skewConfirmations: Int
  /// A suspect is dead-lettered as `time_skew` once this many events arrive that neither jump
  /// nor confirm it.
  public var skewContradictions: Int
  /// Bounds on matching state (per-key cap, idle-key TTL, state budget).
  public var limits = StateLimits()
  /// Live keys a key space may reach before it is first swept for keys with no state to
  /// reclaim; later sweeps run when the live keys double. 0 sweeps after every watermark step
  /// (tests use it to show reclaiming never changes output). See Engine+Keys.swift.
  public var keySweepFloor = 1 << 20
  /// Whether the timers of rules whose time-outs emit nothing are rounded up to a quantum of
  /// their window, so they fire in batches the time-out loop can prefetch for (see
  /// `Engine.timerQuantum(for:options:)`). `false` fires every timer at its exact deadline
  /// (tests use it to show rounding never changes output).
  public var roundsQuietTimers = true
  /// Whether the partial matches of rules that share a run and end silently are kept in one
  /// queue per rule (`RunQueue`, Engine+RunQueues.swift) rather than as lists, match nodes and
  /// timers per key. `false` keeps every rule in the general state (tests use it to show the
  /// queues never change output).
  public var queuesSharedRuns = true
  /// Whether the partial matches of rules of the pair shape (`begin a followed_by_any b within
  /// W`, `PairShape`) are kept in one queue per rule (a pair queue: `RunQueue`), the second
  /// step tested against each entry's kept values. `false` keeps them in the general state
  /// (tests use it to show the queues never change output).
  public var queuesPairs = true
  /// Whether a key's lone partial match that has bound only its first event is kept in one
  /// queue per rule (a start queue, Engine+StartQueues.swift) rather than as a list, a match node
  /// and a timer, for rules on the general walk that end silently. `false` keeps them in the
  /// general state (tests use it to show the queues never change output).
  public var queuesStarts = true
  /// Whether a pair queue asks the event alone, before walking a key's entries, whether the
  /// second step's (or the negation's) condition can hold for any of them (``PairFilter``).
  /// `false` always walks (tests use it to show the filter never changes output or counts).
  public var filtersPairs = true
  /// Whether a key space whose rules all have a quick start check defers its keys: it looks an
  /// event's key up only as the event is released, and interns it only when one of its rules
  /// starts a match (``Engine`` "Deferred keys"; a space whose keys are mostly needed pauses
  /// deferral on its own). `false` interns every key on arrival (tests use it to show deferring
  /// never changes output).
  public var defersKeys = true

  /// Creates options; defaults are 10 s out-of-orderness, dead-lettering late events, and a
  /// 1 h time-skew guard (2 confirmations accept a jump, 100 contradictions reject it).
  public init(
    outOfOrderness: EventDuration = .seconds(10), latePolicy: LatePolicy = .deadLetter,
    maxTimeSkew: EventDuration? = .hours(1), skewConfirmations: Int = 2,
    skewContradictions: Int = 100
  ) {
    self.outOfOrderness = outOfOrderness
    self.latePolicy = latePolicy
    self.maxTimeSkew = maxTimeSkew
    self.skewConfirmations = skewConfirmations
    self.skewContradictions = skewContradictions
  }
}

/// Something the engine asks its caller to do.
public enum EngineAction {
  /// Write an alert to the sinks.
  case alert(Alert)
  /// Dead-letter a late event; `watermark` is the watermark it missed.
  case late(EventRecord, watermark: EventTime)
  /// Dead-letter an event that has none of the key fields any rule partitions by.
  case missingKey(EventRecord, fields: [FieldPath])
  /// Dead-letter an event whose time jumped more than the time-skew bound ahead of `newest`
  /// (the newest accepted event time) and that later events contradicted.
  case timeSkew(EventRecord, newest: EventTime)
  /// Dead-letter a record of partial matches a state limit dropped.
  case stateLimit(StateLimitDrop)
}

/// Counts kept by the engine; printed in the run summary.
public struct EngineCounters: Sendable {
  /// Events handed to ``Engine/eventArrived(_:into:)``.
  public var eventsIn = 0
  /// Events released from the reorder buffer to the rules.
  public var eventsProcessed = 0
  /// Late events (dead-lettered or dropped).
  public var late = 0
  /// Events dead-lettered for lacking every rule's key.
  public var missingKey = 0
  /// Events dead-lettered by the time-skew guard.
  public var timeSkewed = 0
  /// Suspected jumps that later events confirmed (accepted).
  public var timeJumpsAccepted = 0
  /// Per rule: events that reached the engine but lacked that rule's key fields.
  public var missingKeyByRule: [Int] = []
  /// Per rule: alerts emitted.
  public var alertsByRule: [Int] = []
  /// Largest number of events waiting in the reorder buffer at once.
  public var peakBuffered = 0
  /// Partial matches dropped by state limits, and the state estimate's peak.
  public var limits = StateLimitCounters()

  /// Total alerts.
  public var alerts: Int { alertsByRule.reduce(0, +) }
}
