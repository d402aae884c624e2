import TocsinCore

/// Times and durations: arithmetic, the calendar functions and `speed_kmh`.
///
/// Both are `Int64` nanoseconds underneath (``EventTime``, ``EventDuration``), so nothing here
/// allocates except the text of `date(…)`, which fits Swift's inline small-string storage.
extension Operations {
  // MARK: - Arithmetic

  /// `lhs op rhs` when either side is a time or a duration:
  ///
  /// | left | op | right | result |
  /// |---|---|---|---|
  /// | time | `-` | time | duration |
  /// | time | `+ -` | duration | time |
  /// | duration | `+` | time | time |
  /// | duration | `+ -` | duration | duration |
  /// | duration | `*` | number (either side) | duration (rounded to the nanosecond) |
  /// | duration | `/` | number | duration |
  /// | duration | `/` | duration | float (the ratio) |
  ///
  /// Overflow and division by zero are arithmetic errors; any other pairing is a type error.
  public static func temporalArithmetic(_ op: BinaryOperator, _ lhs: Value, _ rhs: Value)
    -> ArithmeticResult
  {
    func nanos(_ r: (partialValue: Int64, overflow: Bool)) -> Int64? { r.overflow ? nil : r.partialValue }
    switch (lhs, op, rhs) {
    case (.time(let a), .subtract, .time(let b)):
      guard let d = nanos(a.nanosecondsSinceEpoch.subtractingReportingOverflow(b.nanosecondsSinceEpoch))
      else { return .arithmeticError }
      return .value(.duration(EventDuration(nanoseconds: d)))
    case (.time(let t), .add, .duration(let d)), (.duration(let d), .add, .time(let t)):
      guard let n = nanos(t.nanosecondsSinceEpoch.addingReportingOverflow(d.nanoseconds)) else {
        return .arithmeticError
      }
      return .value(.time(EventTime(nanosecondsSinceEpoch: n)))
    case (.time(let t), .subtract, .duration(let d)):
      guard let n = nanos(t.nanosecondsSinceEpoch.subtractingReportingOverflow(d.nanoseconds)) else {
        return .arithmeticError
      }
      return .value(.time(EventTime(nanosecondsSinceEpoch: n)))
    case (.duration(let a), .add, .duration(let b)):
      guard let n = nanos(a.nanoseconds.addingReportingOverflow(b.nanoseconds)) else { return .arithmeticError }
      return .value(.duration(EventDuration(nanoseconds: n)))
    case (.duration(let a), .subtract, .duration(let b)):
      guard let n = nanos(a.nanoseconds.subtractingReportingOverflow(b.nanoseconds)) else {
        return .arithmeticError
      }
      return .value(.duration(EventDuration(nanoseconds: n)))
    case (.duration(let a), .divide, .duration(let b)):
      guard b.nanoseconds != 0 else { return .arithmeticError }
      return .value(.float(Double(a.nanoseconds) / Double(b.nanoseconds)))
    case (.duration(let d), .multiply, .int(let k)), (.int(let k), .multiply, .duration(let d)):
      guard let n = nanos(d.nanoseconds.multipliedReportingOverflow(by: k)) else { return .arithmeticError }
      return .value(.duration(EventDuration(nanoseconds: n)))
    case (.duration(let d), .multiply, .float(let x)), (.float(let x), .multiply, .duration(let d)):
      return scaled(d, Double(d.nanoseconds) * x)
    case (.duration(let d), .divide, .int(let k)):
      guard k != 0 else { return .arithmeticError }
      guard let n = nanos(d.nanoseconds.dividedReportingOverflow(by: k)) else { return .arithmeticError }
      return .value(.duration(EventDuration(nanoseconds: n)))
    case (.duration(let d), .divide, .float(let x)):
      guard x != 0 else { return .arithmeticError }
      return scaled(d, Double(d.nanoseconds) / x)
    default:
      return .typeError
    }
  }

  /// A duration of `nanoseconds` rounded, or an arithmetic error when it is not finite or does
  /// not fit.
  private static func scaled(_ d: EventDuration, _ nanoseconds: Double) -> ArithmeticResult {
    let r = nanoseconds.rounded()
    guard r.isFinite, r > -9.2e18, r < 9.2e18 else { return .arithmeticError }
    return .value(.duration(EventDuration(nanoseconds: Int64(r))))
  }

  // MARK: - Calendar

  /// The instant a value stands for: a time, epoch milliseconds (an int, or a float rounded
  /// down) or an RFC 3339 string with any offset. `nil` for anything else.
  public static func instant(_ value: Value) -> EventTime? {
    switch value {
    case .time(let t): return t
    case .int(let ms):
      let (ns, overflow) = ms.multipliedReportingOverflow(by: 1_000_000)
      return overflow ? nil : EventTime(nanosecondsSinceEpoch: ns)
    case .float(let d):
      guard d.isFinite, abs(d) < 9.2e12, let ms = Int64(exactly: d.rounded(.down)) else { return nil }
      return EventTime(nanosecondsSinceEpoch: ms * 1_000_000)
    case .string(let s):
      return RFC3339.parse(s)
    default:
      return nil
    }
  }

  /// `hour_of_day`, `day_of_week` or `date` of `time` in `zone`.
  public static func calendar(_ function: Builtin, _ time: EventTime, in zone: TimeZoneRules) -> Value {
    let ns = time.nanosecondsSinceEpoch
    let utcSeconds = ns >= 0 ? ns / 1_000_000_000 : (ns - 999_999_999) / 1_000_000_000
    let local = utcSeconds + zone.offset(atSecondsSinceEpoch: utcSeconds)
    let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
    switch function {
    case .hourOfDay:
      return .int((local - days * 86_400) / 3600)
    case .dayOfWeek:
      // 1970-01-01 was a Thursday (ISO weekday 4).
      return .int(((days + 3) % 7 + 7) % 7 + 1)
    default:
      let (y, m, d) = CivilDate.fromDaysSinceEpoch(days)
      return .string(pad(y, 4) + "-" + pad(m, 2) + "-" + pad(d, 2))
    }
  }

  private static func pad(_ value: Int64, _ width: Int) -> String {
    let digits = String(value.magnitude)
    let zeros = String(repeating: "0", count: Swift.max(0, width - digits.count))
    return (value < 0 ? "-" : "") + zeros + digits
  }

  // MARK: - Speed

  /// Ground speed in km/h between two positions (degrees) at two instants; `nil` when the
  /// instants are equal (no finite speed) or the result is not finite.
  public static func speedKmh(
    lat1: Double, lon1: Double, at t1: EventTime, lat2: Double, lon2: Double, at t2: EventTime
  ) -> Double? {
    let dt = t1 < t2 ? t2 - t1 : t1 - t2
    guard dt.nanoseconds > 0 else { return nil }
    let km = distanceKm(lat1: lat1, lon1: lon1, lat2: lat2, lon2: lon2)
    let speed = km / (Double(dt.nanoseconds) / 3.6e12)
    return speed.isFinite ? speed : nil
  }

  // MARK: - Lists

  /// `s` split at every occurrence of `separator`, keeping empty parts (`"a,,b"` → `a`, ``, `b`).
  /// An empty separator does not split: the list holds `s` alone.
  public static func split(_ s: String, separator: String) -> [Value] {
    guard !separator.isEmpty else { return [.string(s)] }
    return s.split(separator: separator, omittingEmptySubsequences: false).map { .string(String($0)) }
  }

  /// Whether `list` holds a value equal to `element` (`==` semantics: 1 equals 1.0, values of
  /// other types are simply not equal).
  public static func listContains(_ list: [Value], _ element: Value) -> Bool {
    list.contains { compare(.equal, $0, element) == true }
  }
}
