import TocsinCore

// ASCII bytes used by the scanner.
private let minus: UInt8 = 0x2D
private let plus: UInt8 = 0x2B
private let dot: UInt8 = 0x2E
private let zero: UInt8 = 0x30
private let nine: UInt8 = 0x39

/// Exact powers of ten for the fast float path (Clinger): every `10^k` with `k <= 22` is a double.
private let exactPowersOfTen: [Double] = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
  1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

extension _JSONScanner {
  // MARK: - Numbers

  /// The extent of the number at `pos` per RFC 8259, and where its parts end.
  struct NumberShape {
    var integerEnd: Int
    var isFloat: Bool
  }

  @inline(__always)
  mutating func scanNumberShape() throws(ScanError) -> NumberShape {
    var i = pos
    if base[i] == minus { i += 1 }
    guard i < end && base[i] >= zero && base[i] <= nine else {
      throw .invalidJSON(offset: i, expected: .digit)
    }
    if base[i] == zero {
      i += 1
    } else {
      while i < end && base[i] >= zero && base[i] <= nine { i += 1 }
    }
    let integerEnd = i
    var isFloat = false
    if i < end && base[i] == dot {
      i += 1
      guard i < end && base[i] >= zero && base[i] <= nine else {
        throw .invalidJSON(offset: i, expected: .digit)
      }
      while i < end && base[i] >= zero && base[i] <= nine { i += 1 }
      isFloat = true
    }
    if i < end && (base[i] | 0x20) == UInt8(ascii: "e") {
      i += 1
      if i < end && (base[i] == plus || base[i] == minus) { i += 1 }
      guard i < end && base[i] >= zero && base[i] <= nine else {
        throw .invalidJSON(offset: i, expected: .digit)
      }
      while i < end && base[i] >= zero && base[i] <= nine { i += 1 }
      isFloat = true
    }
    pos = i
    return NumberShape(integerEnd: integerEnd, isFloat: isFloat)
  }

  mutating func skipNumber() throws(ScanError) {
    _ = try scanNumberShape()
  }

  /// Parses the number at `pos`: `.int` for integer literals that fit `Int64`, else `.float`.
  ///
  /// One pass for the common shapes — an integer of at most 18 digits, or a decimal fraction
  /// without exponent whose digits fit 2^53 with at most 22 fraction digits (exact by Clinger's
  /// argument: one correctly rounded division of two exact doubles). Everything else (exponents,
  /// long or malformed numbers) goes to ``scanNumberGeneral()``, which also reports the errors.
  @inline(__always)
  mutating func scanNumber() throws(ScanError) -> Value {
    var i = pos
    let negative = base[i] == minus
    if negative { i &+= 1 }
    let integerStart = i
    var significand: UInt64 = 0
    if i < end && base[i] == zero {
      i &+= 1
    } else {
      while i < end {
        let digit = base[i] &- zero
        if digit > 9 { break }
        significand = significand &* 10 &+ UInt64(digit)
        i &+= 1
      }
    }
    let integerDigits = i &- integerStart
    guard integerDigits > 0 && integerDigits <= 18 else { return try scanNumberGeneral() }
    if i == end || (base[i] != dot && base[i] | 0x20 != UInt8(ascii: "e")) {
      pos = i
      let magnitude = Int64(truncatingIfNeeded: significand)
      return .int(negative ? 0 &- magnitude : magnitude)
    }
    guard base[i] == dot else { return try scanNumberGeneral() }
    i &+= 1
    let fractionStart = i
    while i < end {
      let digit = base[i] &- zero
      if digit > 9 { break }
      significand = significand &* 10 &+ UInt64(digit)
      i &+= 1
    }
    let fractionDigits = i &- fractionStart
    // At most 19 digits in all cannot overflow a UInt64; 2^53 and 10^22 keep the division exact.
    guard fractionDigits > 0 && fractionDigits <= 22 && integerDigits &+ fractionDigits <= 19
      && significand <= 1 << 53 && (i == end || base[i] | 0x20 != UInt8(ascii: "e"))
    else { return try scanNumberGeneral() }
    pos = i
    let value = Double(significand) / exactPowersOfTen[fractionDigits]
    return .float(negative ? -value : value)
  }

  /// Parses any number at `pos` (the general path behind ``scanNumber()``).
  @inline(never)
  mutating func scanNumberGeneral() throws(ScanError) -> Value {
    let start = pos
    let shape = try scanNumberShape()
    let negative = base[start] == minus
    let digitsStart = negative ? start + 1 : start
    if !shape.isFloat {
      let digitCount = shape.integerEnd - digitsStart
      if digitCount <= 18 {  // cannot overflow
        var magnitude: Int64 = 0
        for i in digitsStart..<shape.integerEnd { magnitude = magnitude &* 10 &+ Int64(base[i] &- zero) }
        return .int(negative ? -magnitude : magnitude)
      }
      var magnitude: UInt64 = 0
      var overflow = false
      for i in digitsStart..<shape.integerEnd {
        let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
        let (s, o2) = m.addingReportingOverflow(UInt64(base[i] &- zero))
        magnitude = s
        if o1 || o2 {
          overflow = true
          break
        }
      }
      if !overflow {
        if !negative && magnitude <= UInt64(Int64.max) { return .int(Int64(magnitude)) }
        if negative && magnitude <= UInt64(Int64.max) + 1 {
          return .int(Int64(truncatingIfNeeded: 0 &- magnitude))
        }
      }
      return .float(slowDouble(from: start))
    }
    if let fast = fastDouble(from: start, shape: shape) { return .float(fast) }
    let slow = slowDouble(from: start)
    guard slow.isFinite else { throw .numberOutOfRange(offset: start) }
    return .float(slow)
  }

  /// Clinger's fast path: exact when the decimal significand fits in 2^53 and the power of ten
  /// is exactly representable (|e| ≤ 22), which covers typical amounts and coordinates.
  @inline(__always)
  func fastDouble(from start: Int, shape: NumberShape) -> Double? {
    var i = start
    let negative = base[i] == minus
    if negative { i += 1 }
    var significand: UInt64 = 0
    var digits = 0
    var exponent = 0
    while i < pos {
      let c = base[i]
      if c >= zero && c <= nine {
        if digits > 0 || c != zero {
          digits += 1
          if digits > 15 { return nil }
        }
        significand = significand &* 10 &+ UInt64(c &- zero)
        if i > shape.integerEnd { exponent -= 1 }  // a fraction digit
        i += 1
      } else if c == dot {
        i += 1
      } else {
        break  // e or E
      }
    }
    if i < pos {
      i += 1  // e
      var exponentNegative = false
      if base[i] == minus || base[i] == plus {
        exponentNegative = base[i] == minus
        i += 1
      }
      var e = 0
      while i < pos {
        e = e * 10 + Int(base[i] &- zero)
        if e > 400 { return nil }
        i += 1
      }
      exponent += exponentNegative ? -e : e
    }
    guard exponent >= -22 && exponent <= 22 else { return nil }
    var value = Double(significand)
    if exponent < 0 {
      value /= exactPowersOfTen[-exponent]
    } else {
      value *= exactPowersOfTen[exponent]
    }
    return negative ? -value : value
  }

  /// Correctly rounded conversion through the standard library (`strtod`); out-of-range
  /// magnitudes give `±inf` or `±0`.
  @inline(never)
  func slowDouble(from start: Int) -> Double {
    let text = String(decoding: UnsafeBufferPointer(start: base + start, count: pos - start), as: UTF8.self)
    return Double(text) ?? .nan
  }
}
