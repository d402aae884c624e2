import TocsinCore

/// The knobs of the synthetic payment stream produced by
/// ``PaymentStream/generate(_:arrivalSeed:line:)``.
///
/// Everything the generator writes is a pure function of this value (and the arrival seed), so
/// a configuration *is* a workload: the benchmark, the end-to-end tests and `tocsin` users who
/// want a demo stream all name the same events by naming the same configuration.
///
///     var config = PaymentStreamConfig()
///     config.events = 20_000
///     config.users = 2_000
public struct PaymentStreamConfig: Hashable, Sendable {
  /// Seeds the event content: users, amounts, cities, injected cases and timestamps.
  public var seed: UInt64
  /// How many events (lines) to write.
  public var events: Int
  /// How many distinct users (`u000000` …) the background draws from.
  public var users: Int
  /// The largest delay between an event's time and its arrival; arrival order is a shuffle
  /// bounded by this, so a reorder buffer with at least this out-of-orderness restores event order.
  public var maxDisorder: EventDuration
  /// ``maxDisorder`` unless given: the bench's workloads' and `tocsin generate`'s.
  public static let defaultMaxDisorder = EventDuration.seconds(5)
  /// How many `geo_impossible_purchase` cases to inject.
  public var geoPairs: Int
  /// How many `card_velocity` bursts to inject.
  public var velocityBursts: Int
  /// How many `brute_force_login` cases to inject.
  public var bruteForceCases: Int
  /// How many `card_testing` cases to inject.
  public var cardTestingCases: Int
  /// The time slot of the first event.
  public var start: EventTime
  /// The distance between consecutive event time slots; each event is stamped at its slot plus a
  /// jitter below `spacing`, so timestamps stay distinct and strictly increasing. At least 1 ms.
  public var spacing: EventDuration
  /// Distinct-key mode: the background event in slot `i` belongs to user `i` (card `c` + `i`),
  /// so every background event brings a new user and a new card. Needs `users >= events`.
  /// Off by default; off, the stream is exactly what it was before the knob existed.
  public var distinctKeys: Bool = false
  /// The share of background events (0…1) that belong to one hot user, ``hotUser``. A hot event
  /// is a login, logout or page view, or a purchase of the hot user's card while that card is
  /// under ``PaymentStream/regularCardLimit``; it never moves to another user, so the share holds.
  /// Zero by default, which draws nothing extra: the stream is what it was before the knob existed.
  public var hotKeyFraction: Double = 0
  /// The user that ``hotKeyFraction`` concentrates events on.
  public var hotUser: Int = 0

  /// 2026-01-01T00:00:00Z, the default ``start``.
  public static let defaultStart = EventTime.milliseconds(1_767_225_600_000)

  /// A configuration; every parameter has the default the benchmark uses.
  public init(
    seed: UInt64 = 42, events: Int = 1_000_000, users: Int = 100_000,
    maxDisorder: EventDuration = defaultMaxDisorder, geoPairs: Int = 300, velocityBursts: Int = 300,
    bruteForceCases: Int = 100, cardTestingCases: Int = 100,
    start: EventTime = PaymentStreamConfig.defaultStart, spacing: EventDuration = .milliseconds(10)
  ) {
    self.seed = seed
    self.events = events
    self.users = users
    self.maxDisorder = maxDisorder
    self.geoPairs = geoPairs
    self.velocityBursts = velocityBursts
    self.bruteForceCases = bruteForceCases
    self.cardTestingCases = cardTestingCases
    self.start = start
    self.spacing = spacing
  }

  /// The hot share in millionths, as the planner draws it.
  var hotKeyPartsPerMillion: Int { Int((min(1, max(0, hotKeyFraction)) * 1_000_000).rounded()) }

  /// The number of events the injected cases use; at most half of ``events`` is accepted.
  public var injectedEventCount: Int {
    geoPairs * 2 + velocityBursts * PaymentStream.velocityBurstSize
      + bruteForceCases * (PaymentStream.bruteForceMaxFailures + 1) + cardTestingCases * 4
  }
}

/// One pattern instance the generator planted on purpose: the ground truth for one rule.
///
/// The background is built so that none of the four rules can match it, so with the rules in
/// `rules/` every injected case gives exactly one alert and nothing else does.
public struct InjectedCase: Hashable, Sendable {
  /// Which rule an injected case is meant to trigger.
  public enum Kind: String, Hashable, Sendable, CaseIterable {
    /// Two purchases over 10000, cities at least 1500 km apart, 1–9 minutes apart
    /// (`geo_impossible_purchase`, key user).
    case geoImpossible
    /// Twelve purchases of one fresh card within 20 minutes (`card_velocity`, key card). The
    /// case lists all twelve; with `skip past_last_event` the alert binds the first ten.
    case velocityBurst
    /// Five to eight failed logins then a login, within 8 minutes (`brute_force_login`, key user).
    case bruteForce
    /// Three purchases under 2 then one over 500 on a fresh card, within 12 minutes
    /// (`card_testing`, key card).
    case cardTesting

    /// The name of the rule in `rules/` this case triggers.
    public var ruleName: String {
      switch self {
      case .geoImpossible: return "geo_impossible_purchase"
      case .velocityBurst: return "card_velocity"
      case .bruteForce: return "brute_force_login"
      case .cardTesting: return "card_testing"
      }
    }
  }

  /// The rule this case is for.
  public var kind: Kind
  /// The rule's key value: the user for geo and brute-force cases, the card otherwise.
  public var key: String
  /// The `id`s of the events of this case, in event-time order.
  public var eventIDs: [String]

  /// A case of `kind` for `key` made of the events `eventIDs`.
  public init(kind: Kind, key: String, eventIDs: [String]) {
    self.kind = kind
    self.key = key
    self.eventIDs = eventIDs
  }
}
