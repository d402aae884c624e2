import TocsinCore

/// Holds the first events of a stream until their times agree on where the stream is, so that
/// one poisoned *first* event cannot set the time base.
///
/// The time-skew guard compares each event with the newest accepted event time. The very first
/// event has nothing to be compared with: stamped in 2099, it would be accepted, move the
/// watermark to 2099 and make every later event late. So the engine first collects events here,
/// in arrival order, without accepting any, until one of them has `confirmations` others within
/// `skew` of it — the same agreement that accepts a jump later on. The *time base* is then the
/// latest time in that cluster, and the engine replays the held events in arrival order through
/// its normal path, with the base standing in for "the newest accepted event time" until the
/// first event is accepted. An outlier among them becomes an ordinary suspect (and is
/// contradicted by the events after it); lateness among the rest is decided exactly as it would
/// have been without calibration.
///
/// With the defaults (1 h skew, 2 confirmations) a normal stream calibrates on its third event.
/// A stream whose first `limit` events never agree (events hours apart) ends calibration with
/// the lower median time as its base, so memory stays bounded.
///
/// Complexity: O(n) per event while calibrating, n ≤ `limit`.
public struct TimeCalibration<Item> {
  /// Events further apart than this do not confirm each other.
  public let skew: EventDuration
  /// How many other events must lie within `skew` of one for it to fix the base.
  public let confirmations: Int
  /// The most events held; calibration ends when this many arrived.
  public let limit: Int
  /// The held events, in arrival order.
  public private(set) var items: [Item] = []
  private var times: [EventTime] = []
  private var votes: [Int] = []

  /// An empty calibration.
  /// - Parameters:
  ///   - skew: the time-skew bound (`--max-time-skew`).
  ///   - confirmations: the agreement needed (`skewConfirmations`); 0 trusts the first event.
  ///   - limit: the most events to hold; at least 1.
  public init(skew: EventDuration, confirmations: Int, limit: Int) {
    self.skew = skew
    self.confirmations = max(0, confirmations)
    self.limit = max(1, limit)
  }

  /// Holds `item`, stamped `time`.
  ///
  /// - Returns: the time base once calibration is complete (take ``items`` then), else `nil`.
  public mutating func add(_ item: Item, at time: EventTime) -> EventTime? {
    var own = 0
    for i in times.indices where Self.distance(times[i], time) <= skew {
      votes[i] += 1
      own += 1
    }
    items.append(item)
    times.append(time)
    votes.append(own)
    if let anchor = votes.firstIndex(where: { $0 >= confirmations }) {
      let center = times[anchor]
      return times.filter { Self.distance($0, center) <= skew }.max() ?? center
    }
    return items.count >= limit ? fallbackBase : nil
  }

  /// The base when the held events never agreed: their lower median time (`-∞` when none).
  public var fallbackBase: EventTime {
    guard !times.isEmpty else { return .negativeInfinity }
    return times.sorted()[(times.count - 1) / 2]
  }

  private static func distance(_ a: EventTime, _ b: EventTime) -> EventDuration {
    a > b ? a - b : b - a
  }
}
