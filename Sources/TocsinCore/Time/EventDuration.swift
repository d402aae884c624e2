/// An interval of event time, in nanoseconds.
///
/// `EventDuration` is an *interval*; a point in event time is an ``EventTime``. Keeping the two
/// apart (as SwiftNIO does with `TimeAmount` and `NIODeadline`) makes `start + within` read right
/// and `time + time` fail to compile. Constructors saturate instead of trapping on overflow.
public struct EventDuration: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The length of the interval in nanoseconds.
  public var nanoseconds: Int64

  /// Creates an interval of `nanoseconds`.
  @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }

  /// The empty interval.
  @inlinable public static var zero: EventDuration { EventDuration(nanoseconds: 0) }

  /// An interval of `n` milliseconds, saturating at the bounds of `Int64` nanoseconds.
  public static func milliseconds(_ n: Int64) -> EventDuration { .scaled(n, by: 1_000_000) }
  /// An interval of `n` seconds, saturating.
  public static func seconds(_ n: Int64) -> EventDuration { .scaled(n, by: 1_000_000_000) }
  /// An interval of `n` minutes, saturating.
  public static func minutes(_ n: Int64) -> EventDuration { .scaled(n, by: 60_000_000_000) }
  /// An interval of `n` hours, saturating.
  public static func hours(_ n: Int64) -> EventDuration { .scaled(n, by: 3_600_000_000_000) }
  /// An interval of `n` days, saturating.
  public static func days(_ n: Int64) -> EventDuration { .scaled(n, by: 86_400_000_000_000) }

  private static func scaled(_ n: Int64, by unit: Int64) -> EventDuration {
    let (product, overflow) = n.multipliedReportingOverflow(by: unit)
    if overflow { return EventDuration(nanoseconds: n < 0 ? .min : .max) }
    return EventDuration(nanoseconds: product)
  }

  /// The interval in whole milliseconds, truncated towards zero.
  public var milliseconds: Int64 { nanoseconds / 1_000_000 }

  public static func < (lhs: EventDuration, rhs: EventDuration) -> Bool {
    lhs.nanoseconds < rhs.nanoseconds
  }

  /// The shortest exact spelling in the rule language's units (`ms s m h d`), e.g. `10m`, `90s`.
  public var description: String {
    let units: [(Int64, String)] = [
      (86_400_000_000_000, "d"), (3_600_000_000_000, "h"), (60_000_000_000, "m"),
      (1_000_000_000, "s"), (1_000_000, "ms"),
    ]
    if nanoseconds == 0 { return "0s" }
    for (size, suffix) in units where nanoseconds % size == 0 {
      return "\(nanoseconds / size)\(suffix)"
    }
    return "\(nanoseconds)ns"
  }
}
