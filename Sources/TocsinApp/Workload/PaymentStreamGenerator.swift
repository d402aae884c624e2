import TocsinCore

/// A seeded, reproducible stream of payment-platform events with known fraud cases planted in it.
///
/// The stream mixes purchases, logins, failed logins, logouts and page views of `users` people,
/// each living in one of 31 real cities. Into that background it plants four kinds of cases
/// (``InjectedCase/Kind``), one per example rule in `rules/`, and returns them as ground truth.
///
/// ## How the background stays silent
///
/// The background is built so none of the example rules can fire on it:
/// - `geo_impossible_purchase` needs amounts over 10000: background amounts are 2…9000.
/// - `card_velocity` needs 10 purchases of a card: each regular card has at most 6 in the stream.
/// - `brute_force_login` needs 5 failed logins of a user: each user has at most 2, and the users
///   of brute-force cases have no background logins at all.
/// - `card_testing` needs purchases under 2: only card-testing cases have them.
/// Injected cases do not disturb one another: geo and brute-force cases use distinct users, and
/// velocity and card-testing cases use fresh cards (`cb…`, `ct…`) with amounts that only their
/// own rule cares about.
///
/// ## Time and arrival
///
/// Event `i` (0-based, in event-time order) is stamped `start + i·spacing + jitter`, with
/// `0 ≤ jitter < spacing`, so stamps are distinct and strictly increasing, and its `id` is
/// `e` followed by `i + 1` in at least seven digits. Lines are written in *arrival* order: sorted
/// by `ts + delay`, each delay uniform in `0…maxDisorder` and drawn from a generator seeded by
/// the arrival seed (ties keep event order). An event therefore never arrives more than
/// `maxDisorder` after a later-stamped one, and changing the arrival seed reorders the same lines.
///
/// Case durations are nominal (a geo pair is 1–9 minutes apart, and so on) but are capped at a
/// quarter of the stream's length, so short test streams still fit every case; the rules' windows
/// hold either way.
///
/// - Complexity: O(n log n) time for `n` events (the arrival sort), O(n + users) memory.
public enum PaymentStream {
  /// Purchases per injected velocity burst.
  public static let velocityBurstSize = 12
  /// The most failed logins an injected brute-force case has (it has at least 5).
  public static let bruteForceMaxFailures = 8
  /// The most purchases a regular card makes in the whole stream.
  public static let regularCardLimit = 6
  /// The most failed logins a user makes outside brute-force cases.
  public static let backgroundFailedLoginLimit = 2
  /// The largest background purchase amount; every large (> 10000) amount is injected.
  public static let backgroundAmountLimit = 9000

  /// Generates the stream, calling `line` once per event with one JSON object (no newline), in
  /// arrival order, and returns the injected cases ordered by their first event.
  ///
  /// - Parameters:
  ///   - config: What to generate.
  ///   - arrivalSeed: Seeds the arrival order only; `nil` uses `config.seed`.
  ///   - line: Receives each line.
  /// - Returns: The planted cases, the ground truth for the rules in `rules/`.
  /// - Precondition: `config.events > 0`, `config.users > 0`, `config.spacing` at least 1 ms,
  ///   at most half the events injected, and enough users for distinct geo and brute-force cases.
  @discardableResult
  public static func generate(
    _ config: PaymentStreamConfig, arrivalSeed: UInt64? = nil, line: (String) -> Void
  ) -> [InjectedCase] {
    var planner = StreamPlanner(config)
    let cases = planner.plan()
    let events = planner.events
    let order = arrivalOrder(
      of: events, maxDisorder: config.maxDisorder, seed: arrivalSeed ?? config.seed)
    var writer = LineWriter()
    for index in order {
      line(writer.render(events[index], index: index))
    }
    return cases
  }

  /// Event indices in arrival order: sorted by `time + delay` with `delay` uniform in
  /// `0…maxDisorder` (milliseconds), ties broken by index.
  static func arrivalOrder(of events: [PaymentEvent], maxDisorder: EventDuration, seed: UInt64)
    -> [Int]
  {
    guard let first = events.first, let last = events.last else { return [] }
    var rng = Xoshiro256StarStar(seed: seed, stream: 2)
    let bound = Int(max(0, maxDisorder.milliseconds))
    let arrivals: [UInt64] = events.map { event in
      UInt64(event.timeMs - first.timeMs) + UInt64(rng.below(bound + 1))
    }
    let count = UInt64(events.count)
    let latest = UInt64(last.timeMs - first.timeMs) + UInt64(bound)
    if !(latest + 1).multipliedReportingOverflow(by: count).overflow {
      // Fast path: pack (arrival, index) into one word so the sort compares plain integers.
      var packed = arrivals.enumerated().map { $0.element * count + UInt64($0.offset) }
      packed.sort()
      return packed.map { Int($0 % count) }
    }
    return arrivals.indices.sorted { (arrivals[$0], $0) < (arrivals[$1], $1) }
  }
}

// MARK: - Events

/// What happened, the `type` field of a line.
enum PaymentEventType: UInt8 {
  case purchase, login, loginFailed, logout, pageView
}

/// Which family of card numbers a purchase uses; each family prints with its own prefix.
enum CardSeries: UInt8 {
  /// A user's everyday card, `c` + user number; at most 6 purchases in the stream.
  case regular
  /// A card used only by one velocity burst, `cb` + burst number.
  case burst
  /// A card used only by one card-testing case, `ct` + case number.
  case testing
}

/// One event before rendering: fixed-size, so a million of them are one flat array.
struct PaymentEvent {
  var timeMs: Int64 = 0
  var type: PaymentEventType = .pageView
  var series: CardSeries = .regular
  var city: UInt8 = 0
  /// Purchases: merchant number. Page views: page number. Logins: unused.
  var detail: UInt16 = 0
  var user: Int32 = 0
  var card: Int32 = 0
  var amount: Int32 = 0
  var device: Int32 = 0
  /// IPv4 address of logins, big-endian octets.
  var ip: UInt32 = 0
}
