/// A point in event time: nanoseconds since the Unix epoch (UTC).
///
/// Arithmetic with ``EventDuration`` saturates, so `EventTime.infinity + within` stays infinite
/// and a final watermark of +∞ can be compared with any deadline.
public struct EventTime: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// Nanoseconds since 1970-01-01T00:00:00Z.
  public var nanosecondsSinceEpoch: Int64

  /// The time as an unsigned number with the same order (the sign bit flipped), for radix
  /// structures and branch-free comparisons (``TimerQueue``, ``ReorderBuffer``).
  @inlinable public var unsignedOrder: UInt64 {
    UInt64(bitPattern: nanosecondsSinceEpoch) ^ (1 << 63)
  }

  /// Creates the point `nanosecondsSinceEpoch` after the epoch.
  @inlinable public init(nanosecondsSinceEpoch: Int64) {
    self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
  }

  /// The point `ms` milliseconds after the epoch, saturating.
  public static func milliseconds(_ ms: Int64) -> EventTime {
    EventTime(nanosecondsSinceEpoch: EventDuration.milliseconds(ms).nanoseconds)
  }

  // The bounds are computed, not stored: a stored `static let` of another module is read through
  // its addressor, a call per use (~860k per 300k W1 events, in the arrival path and the key
  // table's growth).

  /// Later than every real event: the final watermark at end of input.
  @inlinable public static var infinity: EventTime { EventTime(nanosecondsSinceEpoch: .max) }
  /// Earlier than every real event: the watermark before any event arrived.
  @inlinable public static var negativeInfinity: EventTime { EventTime(nanosecondsSinceEpoch: .min) }

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
  ///
  /// Written digit by digit into the string's own storage (one allocation): every alert and
  /// `state_limit` dead letter formats one or two times, so this is on the output path.
  public var rfc3339: String {
    String(unsafeUninitializedCapacity: Self.rfc3339MaxBytes) { writeRFC3339(into: $0.baseAddress.unsafelyUnwrapped) }
  }

  /// The longest ``rfc3339`` text: 30 bytes (nanoseconds shown).
  public static let rfc3339MaxBytes = 30

  /// Writes ``rfc3339`` into `out` (room for ``rfc3339MaxBytes``) and returns its length: for
  /// writers that append it to a byte buffer without making a `String` first.
  public func writeRFC3339(into out: UnsafeMutablePointer<UInt8>) -> Int {
    var days = RFC3339Days()
    return days.write(self, into: out)
  }
}

/// Writes ``EventTime/rfc3339`` texts, keeping the last date's text (`YYYY-MM-DDT`) for the
/// next time on the same day: an alert writes two times, and a stream's alerts mostly fall on
/// one day, so the calendar arithmetic is done about once a day rather than twice an alert.
public struct RFC3339Days {
  /// The day (since the epoch) whose text ``date`` holds; `Int64.min` for none.
  private var day = Int64.min
  /// `YYYY-MM-DDT` of ``day``.
  private var date: (UInt64, UInt16, UInt8) = (0, 0, 0)

  /// Nothing kept yet.
  public init() {}

  /// Writes `time`'s ``EventTime/rfc3339`` into `out` (room for
  /// ``EventTime/rfc3339MaxBytes``) and returns its length.
  public mutating func write(_ time: EventTime, into out: UnsafeMutablePointer<UInt8>) -> Int {
    func sentinel(_ text: StaticString) -> Int {
      text.withUTF8Buffer { out.update(from: $0.baseAddress.unsafelyUnwrapped, count: $0.count) }
      return text.utf8CodeUnitCount
    }
    if time == .infinity { return sentinel("+inf") }
    if time == .negativeInfinity { return sentinel("-inf") }
    let ns = time.nanosecondsSinceEpoch
    var seconds = ns / 1_000_000_000
    var fraction = ns % 1_000_000_000
    if fraction < 0 {
      fraction += 1_000_000_000
      seconds -= 1
    }
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    if days == day {
      withUnsafeBytes(of: date) { out.update(from: $0.baseAddress.unsafelyUnwrapped.assumingMemoryBound(to: UInt8.self), count: 11) }
    } else {
      // "YYYY-MM-DDT" is 11 bytes; the Int64 nanosecond range keeps years in 1677...2262.
      let (y, m, d) = CivilDate.fromDaysSinceEpoch(days)
      DecimalDigits.write(UInt64(y), width: 4, to: out)
      out[4] = UInt8(ascii: "-")
      DecimalDigits.write(UInt64(m), width: 2, to: out + 5)
      out[7] = UInt8(ascii: "-")
      DecimalDigits.write(UInt64(d), width: 2, to: out + 8)
      out[10] = UInt8(ascii: "T")
      withUnsafeMutableBytes(of: &date) { $0.baseAddress.unsafelyUnwrapped.copyMemory(from: out, byteCount: 11) }
      day = days
    }
    let (fractionValue, fractionWidth): (Int64, Int) =
      fraction % 1_000_000 == 0
      ? (fraction / 1_000_000, 3) : fraction % 1_000 == 0 ? (fraction / 1_000, 6) : (fraction, 9)
    // "HH:MM:SS." follows the date: 20 bytes so far.
    DecimalDigits.write(UInt64(secondOfDay / 3600), width: 2, to: out + 11)
    out[13] = UInt8(ascii: ":")
    DecimalDigits.write(UInt64(secondOfDay / 60 % 60), width: 2, to: out + 14)
    out[16] = UInt8(ascii: ":")
    DecimalDigits.write(UInt64(secondOfDay % 60), width: 2, to: out + 17)
    out[19] = UInt8(ascii: ".")
    DecimalDigits.write(UInt64(fractionValue), width: fractionWidth, to: out + 20)
    out[20 + fractionWidth] = UInt8(ascii: "Z")
    return 21 + fractionWidth
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

/// Decimal digits written straight into memory (RFC 3339 times, JSON numbers).
public enum DecimalDigits {
  /// Writes the last `width` decimal digits of `value` to `out[0..<width]`, zero-padded on the
  /// left. A plain countdown: the `stride(from:through:by:)` loop it replaced in the RFC 3339
  /// writer was not turned into one, and cost ~550 instructions per time.
  @inlinable
  public static func write(_ value: UInt64, width: Int, to out: UnsafeMutablePointer<UInt8>) {
    var v = value
    var k = width
    while k > 0 {
      k -= 1
      out[k] = UInt8(truncatingIfNeeded: 0x30 + v % 10)
      v /= 10
    }
  }

  /// How many decimal digits `value` has (1 for 0).
  @inlinable
  public static func count(_ value: UInt64) -> Int {
    var v = value
    var n = 1
    while v >= 10 {
      v /= 10
      n += 1
    }
    return n
  }
}
