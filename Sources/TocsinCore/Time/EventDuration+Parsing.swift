extension EventDuration {
  /// Parses the rule language's duration spelling: one or more `<digits><unit>` parts with units
  /// `ms s m h d` (`500ms`, `10s`, `1h30m`). Used for command-line flags; the rule lexer has its
  /// own diagnostics-producing version.
  /// - Returns: `nil` for anything else (empty text, a bare number, an unknown unit, overflow).
  public init?(parsing text: String) {
    var total = EventDuration.zero
    var bytes = Array(text.utf8)[...]
    guard !bytes.isEmpty else { return nil }
    while !bytes.isEmpty {
      var digits: Int64 = 0
      var sawDigit = false
      while let b = bytes.first, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
        let (m, o1) = digits.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(Int64(b - UInt8(ascii: "0")))
        if o1 || o2 { return nil }
        digits = s
        sawDigit = true
        bytes = bytes.dropFirst()
      }
      guard sawDigit else { return nil }
      var unit = ""
      while let b = bytes.first, b >= UInt8(ascii: "a"), b <= UInt8(ascii: "z") {
        unit.append(Character(Unicode.Scalar(b)))
        bytes = bytes.dropFirst()
      }
      let part: EventDuration
      switch unit {
      case "ms": part = .milliseconds(digits)
      case "s": part = .seconds(digits)
      case "m": part = .minutes(digits)
      case "h": part = .hours(digits)
      case "d": part = .days(digits)
      default: return nil
      }
      let (sum, overflow) = total.nanoseconds.addingReportingOverflow(part.nanoseconds)
      if overflow || part.nanoseconds == .max { return nil }
      total = EventDuration(nanoseconds: sum)
    }
    self = total
  }
}
