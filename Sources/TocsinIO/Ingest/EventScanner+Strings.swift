import TocsinCore

// ASCII bytes used by the scanner.
private let quote: UInt8 = 0x22  // "
private let backslash: UInt8 = 0x5C  // \
private let zero: UInt8 = 0x30
private let nine: UInt8 = 0x39

extension _JSONScanner {
  // MARK: - Strings

  /// Validates the string starting with the `"` at `pos` and moves past its closing quote.
  ///
  /// - Returns: whether the string contains escapes (then its bytes must be decoded).
  @inline(__always)
  mutating func skipString() throws(ScanError) -> Bool {
    var i = pos &+ 1
    var hasEscapes = false
    while true {
      i = nextSpecialByte(from: i)
      guard i < end else { throw .invalidJSON(offset: end, expected: .closingQuote) }
      let c = base[i]
      if c == quote {
        pos = i &+ 1
        return hasEscapes
      } else if c == backslash {
        hasEscapes = true
        i = try skipEscape(at: i)
      } else if c < 0x20 {
        throw .invalidJSON(offset: i, expected: .noControlCharacter)
      } else {
        i = try skipUTF8Sequence(at: i)
      }
    }
  }

  /// The index of the first byte at or after `i` that is `"`, `\`, below 0x20 or at least 0x80,
  /// or `end`: eight bytes at a time, the first special byte located by its bit position.
  @inline(__always)
  func nextSpecialByte(from start: Int) -> Int {
    var i = start
    while i &+ 8 <= end {
      let w = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
      let special = _JSONScanner.specialBytes(w)
      if special != 0 { return i &+ special.trailingZeroBitCount &>> 3 }
      i &+= 8
    }
    while i < end {
      let c = base[i]
      if c == quote || c == backslash || c < 0x20 || c >= 0x80 { return i }
      i &+= 1
    }
    return end
  }

  /// Whether any byte of `w` is `"`, `\`, below 0x20 or at least 0x80.
  @inline(__always)
  static func hasSpecialByte(_ w: UInt64) -> Bool {
    specialBytes(w) != 0
  }

  /// The high bit of every byte of `w` (little-endian) that is `"`, `\`, below 0x20 or at least
  /// 0x80, and no other bit (SWAR; exact per byte, as no step carries from one byte into the
  /// next — so the lowest set bit marks the first special byte).
  @inline(__always)
  static func specialBytes(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    // The high bit of each byte of x that is zero: (b & 0x7F) + 0x7F reaches 0x80 unless the
    // low seven bits are zero; or-ing b adds its own high bit.
    // (Swift's `&` binds tighter than `|` and `^`; every step is parenthesised.)
    @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 {
      ~(((x & ~highs) &+ ~highs) | x) & highs
    }
    let isQuote = zeroBytes(w ^ (ones &* 0x22))
    let isBackslash = zeroBytes(w ^ (ones &* 0x5C))
    // Bytes below 0x20: (b & 0x7F) + 0x60 stays below 0x80 exactly then (bytes >= 0x80 are
    // caught by `w & highs`).
    let isControl = ~((w & ~highs) &+ (ones &* 0x60)) & highs
    return isQuote | isBackslash | isControl | (w & highs)
  }

  /// Validates the escape whose `\` is at `i`; returns the index after it.
  @inline(never)
  func skipEscape(at i: Int) throws(ScanError) -> Int {
    guard i + 1 < end else { throw .invalidJSON(offset: i + 1, expected: .escapeCharacter) }
    switch base[i + 1] {
    case quote, backslash, UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
      UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
      return i + 2
    case UInt8(ascii: "u"):
      let unit = try hex4(at: i + 2)
      if unit >= 0xDC00 && unit <= 0xDFFF {
        throw .invalidJSON(offset: i, expected: .lowSurrogate)  // lone low surrogate
      }
      if unit >= 0xD800 && unit <= 0xDBFF {
        guard i + 7 < end && base[i + 6] == backslash && base[i + 7] == UInt8(ascii: "u") else {
          throw .invalidJSON(offset: i + 6, expected: .lowSurrogate)
        }
        let low = try hex4(at: i + 8)
        guard low >= 0xDC00 && low <= 0xDFFF else {
          throw .invalidJSON(offset: i + 6, expected: .lowSurrogate)
        }
        return i + 12
      }
      return i + 6
    default:
      throw .invalidJSON(offset: i + 1, expected: .escapeCharacter)
    }
  }

  /// The value of the four hex digits at `i`.
  func hex4(at i: Int) throws(ScanError) -> UInt32 {
    var value: UInt32 = 0
    for k in 0..<4 {
      guard i + k < end else { throw .invalidJSON(offset: i + k, expected: .hexDigit) }
      let c = base[i + k]
      let digit: UInt8
      switch c {
      case zero...nine: digit = c - zero
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
      default: throw .invalidJSON(offset: i + k, expected: .hexDigit)
      }
      value = value << 4 | UInt32(digit)
    }
    return value
  }

  /// Validates the multi-byte UTF-8 sequence starting at `i` (Unicode Table 3-7: no overlong
  /// forms, no surrogates, nothing above U+10FFFF); returns the index after it.
  @inline(never)
  func skipUTF8Sequence(at i: Int) throws(ScanError) -> Int {
    let b0 = base[i]
    @inline(__always) func byte(_ k: Int, in range: ClosedRange<UInt8>) -> Bool {
      i + k < end && range.contains(base[i + k])
    }
    switch b0 {
    case 0xC2...0xDF:
      if byte(1, in: 0x80...0xBF) { return i + 2 }
    case 0xE0:
      if byte(1, in: 0xA0...0xBF) && byte(2, in: 0x80...0xBF) { return i + 3 }
    case 0xE1...0xEC, 0xEE...0xEF:
      if byte(1, in: 0x80...0xBF) && byte(2, in: 0x80...0xBF) { return i + 3 }
    case 0xED:
      if byte(1, in: 0x80...0x9F) && byte(2, in: 0x80...0xBF) { return i + 3 }
    case 0xF0:
      if byte(1, in: 0x90...0xBF) && byte(2, in: 0x80...0xBF) && byte(3, in: 0x80...0xBF) {
        return i + 4
      }
    case 0xF1...0xF3:
      if byte(1, in: 0x80...0xBF) && byte(2, in: 0x80...0xBF) && byte(3, in: 0x80...0xBF) {
        return i + 4
      }
    case 0xF4:
      if byte(1, in: 0x80...0x8F) && byte(2, in: 0x80...0xBF) && byte(3, in: 0x80...0xBF) {
        return i + 4
      }
    default:
      break
    }
    throw .invalidUTF8(offset: i)
  }

  /// Decodes the already validated string body `base[from..<to]` into `scratch`.
  @inline(never)
  mutating func decodeEscapedString(from start: Int, to stop: Int) {
    scratch.removeAll(keepingCapacity: true)
    var i = start
    while i < stop {
      let c = base[i]
      if c != backslash {
        scratch.append(c)
        i += 1
        continue
      }
      let e = base[i + 1]
      switch e {
      case UInt8(ascii: "b"): scratch.append(0x08)
      case UInt8(ascii: "f"): scratch.append(0x0C)
      case UInt8(ascii: "n"): scratch.append(0x0A)
      case UInt8(ascii: "r"): scratch.append(0x0D)
      case UInt8(ascii: "t"): scratch.append(0x09)
      case UInt8(ascii: "u"):
        // Validated by `skipEscape`, so `hex4` cannot fail here.
        var scalar = (try? hex4(at: i + 2)) ?? 0xFFFD
        if scalar >= 0xD800 && scalar <= 0xDBFF {
          let low = (try? hex4(at: i + 8)) ?? 0xDC00
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          i += 6
        }
        appendUTF8(scalar)
        i += 6
        continue
      default: scratch.append(e)  // " \ /
      }
      i += 2
    }
  }

  mutating func appendUTF8(_ scalar: UInt32) {
    switch scalar {
    case 0..<0x80:
      scratch.append(UInt8(scalar))
    case 0x80..<0x800:
      scratch.append(UInt8(0xC0 | scalar >> 6))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    case 0x800..<0x10000:
      scratch.append(UInt8(0xE0 | scalar >> 12))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    default:
      scratch.append(UInt8(0xF0 | scalar >> 18))
      scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
      scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
      scratch.append(UInt8(0x80 | scalar & 0x3F))
    }
  }
}
