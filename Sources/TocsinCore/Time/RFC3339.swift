/// A byte-level RFC 3339 timestamp parser.
///
/// Accepts `YYYY-MM-DD`, a `T`, `t` or space, `hh:mm:ss`, an optional fraction of 1–9 digits,
/// and `Z`, `z` or a `±hh:mm` offset, e.g. `2026-11-28T03:31:59.120+01:00`. Rejects impossible
/// dates and times (month 13, February 30 outside leap years, hour 24, minute 60) and leap
/// seconds (`:60`, which Unix time cannot represent), and times outside `EventTime`'s range
/// (years 1678–2261; the two extreme nanosecond values are reserved for ±∞).
public enum RFC3339 {
  /// The time `text` denotes, or `nil` if it is not a valid RFC 3339 timestamp.
  public static func parse(_ text: String) -> EventTime? {
    var copy = text
    return copy.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
  }

  /// The time the bytes denote, or `nil` if they are not a valid RFC 3339 timestamp.
  public static func parse(_ bytes: UnsafeRawBufferPointer) -> EventTime? {
    if case .time(let time) = classify(bytes) { return time }
    return nil
  }

  /// What ``classify(_:)`` found.
  public enum Outcome: Sendable, Hashable {
    /// A valid timestamp.
    case time(EventTime)
    /// Not an RFC 3339 timestamp (syntax, or an impossible date or time of day).
    case invalid
    /// A well-formed timestamp outside `EventTime`'s range (before 1677-09-21 or after
    /// 2262-04-11).
    case outOfRange
  }

  /// Parses `text`, telling a malformed timestamp from one outside the representable range.
  public static func classify(_ text: String) -> Outcome {
    var copy = text
    return copy.withUTF8 { classify(UnsafeRawBufferPointer($0)) }
  }

  /// Parses the bytes, telling a malformed timestamp from one outside the representable range.
  @inline(__always)
  public static func classify(_ bytes: UnsafeRawBufferPointer) -> Outcome {
    let n = bytes.count
    guard n >= 20 else { return .invalid }  // YYYY-MM-DDThh:mm:ssZ

    // Reads `count` digits at `at` as a number; -1 if any is not a digit.
    func digits(_ at: Int, _ count: Int) -> Int64 {
      var value: Int64 = 0
      for i in at..<(at + count) {
        let d = bytes[i] &- 0x30
        guard d <= 9 else { return -1 }
        value = value * 10 + Int64(d)
      }
      return value
    }

    // 1) Date and time of day.
    guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: ":"),
      bytes[16] == UInt8(ascii: ":")
    else { return .invalid }
    let separator = bytes[10]
    guard separator == UInt8(ascii: "T") || separator == UInt8(ascii: "t") || separator == 0x20 else {
      return .invalid
    }
    let year = digits(0, 4)
    let month = digits(5, 2)
    let day = digits(8, 2)
    let hour = digits(11, 2)
    let minute = digits(14, 2)
    let second = digits(17, 2)
    guard year >= 0, month >= 1, month <= 12, day >= 1, day <= daysIn(month: month, year: year),
      hour >= 0, hour <= 23, minute >= 0, minute <= 59, second >= 0, second <= 59
    else { return .invalid }

    // 2) Optional fraction, scaled to nanoseconds.
    var i = 19
    var nanos: Int64 = 0
    if i < n && bytes[i] == UInt8(ascii: ".") {
      i += 1
      let fractionStart = i
      while i < n && bytes[i] &- 0x30 <= 9 { i += 1 }
      let count = i - fractionStart
      guard count >= 1 && count <= 9 else { return .invalid }
      nanos = digits(fractionStart, count)
      for _ in count..<9 { nanos *= 10 }
    }

    // 3) Zone: Z or ±hh:mm, and nothing after it.
    guard i < n else { return .invalid }
    var offsetSeconds: Int64 = 0
    switch bytes[i] {
    case UInt8(ascii: "Z"), UInt8(ascii: "z"):
      i += 1
    case UInt8(ascii: "+"), UInt8(ascii: "-"):
      guard i + 6 <= n, bytes[i + 3] == UInt8(ascii: ":") else { return .invalid }
      let offsetHours = digits(i + 1, 2)
      let offsetMinutes = digits(i + 4, 2)
      guard offsetHours >= 0, offsetHours <= 23, offsetMinutes >= 0, offsetMinutes <= 59 else { return .invalid }
      offsetSeconds = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[i] == UInt8(ascii: "-") ? -1 : 1)
      i += 6
    default:
      return .invalid
    }
    guard i == n else { return .invalid }

    // 4) Seconds since the epoch (small enough not to overflow), then nanoseconds, checked.
    let days = CivilDate.daysSinceEpoch(year: year, month: month, day: day)
    var seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
    if seconds < 0 && nanos > 0 {
      // Borrow a second so the product stays in range down to the earliest representable time.
      seconds += 1
      nanos -= 1_000_000_000
    }
    let (scaled, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    let (total, overflow2) = scaled.addingReportingOverflow(nanos)
    // The two extreme values are ±∞ sentinels of `EventTime`, not event times.
    guard !overflow1, !overflow2, total != .max, total != .min else { return .outOfRange }
    return .time(EventTime(nanosecondsSinceEpoch: total))
  }

  /// Days in `month` of `year` in the proleptic Gregorian calendar.
  static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2:
      let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
      return isLeap ? 29 : 28
    case 4, 6, 9, 11: return 30
    default: return 31
    }
  }
}
