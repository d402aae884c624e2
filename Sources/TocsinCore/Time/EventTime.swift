/// A point in event time: nanoseconds since the Unix epoch (UTC).
///
/// Arithmetic with ``EventDuration`` saturates, so `EventTime.infinity + within` stays infinite
/// and a final watermark of +∞ can be compared with any deadline.
public struct EventTime: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// Nanoseconds since 1970-01-01T00:00:00Z.
  public var nanosecondsSinceEpoch: Int64

  /// Creates the point `nanosecondsSinceEpoch` after the epoch.
  @inlinable public init(nanosecondsSinceEpoch: Int64) {
    self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
  }

  /// The point `ms` milliseconds after the epoch, saturating.
  public static func milliseconds(_ ms: Int64) -> EventTime {
    EventTime(nanosecondsSinceEpoch: EventDuration.milliseconds(ms).nanoseconds)
  }

  /// Later than every real event: the final watermark at end of input.
  public static let infinity = EventTime(nanosecondsSinceEpoch: .max)
  /// Earlier than every real event: the watermark before any event arrived.
  public static let negativeInfinity = EventTime(nanosecondsSinceEpoch: .min)

  /// Milliseconds since the epoch, rounded towards negative infinity.
  public var millisecondsSinceEpoch: Int64 {
    let (q, r) = nanosecondsSinceEpoch.quotientAndRemainder(dividingBy: 1_000_000)
    return r < 0 ? q - 1 : q
  }

  public static func < (lhs: EventTime, rhs: EventTime) -> Bool {
    lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
  }

  /// `time + interval`, saturating at ±∞.
  public static func + (lhs: EventTime, rhs: EventDuration) -> EventTime {
    let (sum, overflow) = lhs.nanosecondsSinceEpoch.addingReportingOverflow(rhs.nanoseconds)
    if overflow { return rhs.nanoseconds < 0 ? .negativeInfinity : .infinity }
    return EventTime(nanosecondsSinceEpoch: sum)
  }

  /// `time - interval`, saturating at ±∞.
  public static func - (lhs: EventTime, rhs: EventDuration) -> EventTime {
    if rhs.nanoseconds == .min { return .infinity }
    return lhs + EventDuration(nanoseconds: -rhs.nanoseconds)
  }

  /// The interval from `rhs` to `lhs`, saturating.
  public static func - (lhs: EventTime, rhs: EventTime) -> EventDuration {
    let (diff, overflow) = lhs.nanosecondsSinceEpoch.subtractingReportingOverflow(
      rhs.nanosecondsSinceEpoch)
    if overflow { return EventDuration(nanoseconds: lhs > rhs ? .max : .min) }
    return EventDuration(nanoseconds: diff)
  }

  /// RFC 3339 in UTC with millisecond precision (`2026-11-28T03:31:59.120Z`); `+inf`/`-inf` for
  /// the sentinels.
  public var description: String { rfc3339 }

  /// RFC 3339 in UTC, milliseconds always shown, microseconds/nanoseconds when non-zero.
  public var rfc3339: String {
    if self == .infinity { return "+inf" }
    if self == .negativeInfinity { return "-inf" }
    let ns = nanosecondsSinceEpoch
    var seconds = ns / 1_000_000_000
    var fraction = ns % 1_000_000_000
    if fraction < 0 {
      fraction += 1_000_000_000
      seconds -= 1
    }
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    let (y, m, d) = CivilDate.fromDaysSinceEpoch(days)
    var out = ""
    out.reserveCapacity(30)
    out += Self.pad(y, 4) + "-" + Self.pad(m, 2) + "-" + Self.pad(d, 2) + "T"
    out += Self.pad(secondOfDay / 3600, 2) + ":" + Self.pad(secondOfDay / 60 % 60, 2) + ":"
    out += Self.pad(secondOfDay % 60, 2) + "."
    if fraction % 1_000_000 == 0 {
      out += Self.pad(fraction / 1_000_000, 3)
    } else if fraction % 1_000 == 0 {
      out += Self.pad(fraction / 1_000, 6)
    } else {
      out += Self.pad(fraction, 9)
    }
    return out + "Z"
  }

  private static func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value < 0 ? -value : value)
    let sign = value < 0 ? "-" : ""
    return sign + String(repeating: "0", count: max(0, width - digits.count)) + digits
  }
}

/// Proleptic Gregorian calendar arithmetic (Howard Hinnant's `days_from_civil` algorithms).
public enum CivilDate {
  /// Days since 1970-01-01 for a calendar date; `month` 1...12, `day` 1...31.
  public static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146_097 + doe - 719_468
  }

  /// The calendar date of a day count since 1970-01-01.
  public static func fromDaysSinceEpoch(_ days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }
}
