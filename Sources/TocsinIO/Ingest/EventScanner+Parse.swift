import TocsinCore

// ASCII bytes used by the scanner.
private let quote: UInt8 = 0x22  // "
private let backslash: UInt8 = 0x5C  // \
private let openBrace: UInt8 = 0x7B  // {
private let closeBrace: UInt8 = 0x7D  // }
private let openBracket: UInt8 = 0x5B  // [
private let closeBracket: UInt8 = 0x5D  // ]
private let comma: UInt8 = 0x2C
private let colon: UInt8 = 0x3A
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

/// The recursive-descent parser behind ``EventScanner``: one instance per line.
///
/// Two families of methods: `parse…` walk the projected part of the document and write slots,
/// `skip…` validate and step over everything else. Both share the string and number scanners.
/// Recursion depth is bounded by `maxDepth`.
struct _JSONScanner {
  let base: UnsafePointer<UInt8>
  let end: Int
  var pos = 0
  let trie: ProjectionTrie
  let maxDepth: Int
  var scratch: [UInt8]
  var slots: UnsafeMutablePointer<Value> = UnsafeMutablePointer(bitPattern: 8).unsafelyUnwrapped

  init(base: UnsafePointer<UInt8>, end: Int, trie: ProjectionTrie, maxDepth: Int, scratch: [UInt8]) {
    self.base = base
    self.end = end
    self.trie = trie
    self.maxDepth = maxDepth
    self.scratch = scratch
  }

  // MARK: - Entry point

  mutating func run(slots: UnsafeMutablePointer<Value>) throws(ScanError) {
    self.slots = slots
    skipWhitespace()
    guard pos < end else { throw .emptyLine }
    let first = base[pos]
    guard first == openBrace else {
      switch first {
      case openBracket, quote, minus, zero...nine, UInt8(ascii: "t"), UInt8(ascii: "f"),
        UInt8(ascii: "n"):
        throw .notAnObject(offset: pos)
      default:
        throw .invalidJSON(offset: pos, expected: .object)
      }
    }
    try parseObject(node: 0, depth: 1)
    skipWhitespace()
    if pos < end { throw .trailingCharacters(offset: pos) }
  }

  // MARK: - Projected objects

  /// Parses the object at `pos` whose keys are looked up in trie node `node`.
  mutating func parseObject(node: Int, depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1  // {
    skipWhitespace()
    if pos < end && base[pos] == closeBrace {
      pos += 1
      return
    }
    while true {
      guard pos < end && base[pos] == quote else { throw .invalidJSON(offset: pos, expected: .objectKey) }
      let entryIndex = try scanKey(node: node)
      skipWhitespace()
      guard pos < end && base[pos] == colon else { throw .invalidJSON(offset: pos, expected: .colon) }
      pos += 1
      skipWhitespace()
      if entryIndex < 0 {
        try skipValue(depth: depth)
      } else {
        let entry = trie.entries[entryIndex]
        if entry.child >= 0 {
          // Last key wins: forget whatever an earlier duplicate of this key set below it.
          var c = Int(entry.clearStart)
          while c < Int(entry.clearEnd) {
            slots[Int(trie.clearSlots[c])] = .null
            c += 1
          }
          if pos < end && base[pos] == openBrace {
            if entry.slot >= 0 { slots[Int(entry.slot)] = .null }
            try parseObject(node: Int(entry.child), depth: depth + 1)
          } else if entry.slot >= 0 {
            try parseValue(slot: Int(entry.slot), depth: depth)
          } else {
            try skipValue(depth: depth)
          }
        } else {
          try parseValue(slot: Int(entry.slot), depth: depth)
        }
      }
      skipWhitespace()
      guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrObjectEnd) }
      let c = base[pos]
      pos += 1
      if c == comma {
        skipWhitespace()
        continue
      }
      if c == closeBrace { return }
      throw .invalidJSON(offset: pos - 1, expected: .commaOrObjectEnd)
    }
  }

  /// Scans the key string at `pos` and returns its entry in `node`, or -1.
  @inline(__always)
  mutating func scanKey(node: Int) throws(ScanError) -> Int {
    let start = pos + 1
    let hasEscapes = try skipString()
    if !hasEscapes {
      return trie.lookup(node: node, base + start, count: pos - 1 - start, readable: end - start)
    }
    decodeEscapedString(from: start, to: pos - 1)
    let count = scratch.count
    return scratch.withUnsafeBufferPointer { decoded in
      // swift-format-ignore: NeverForceUnwrap
      // An escaped string decodes to at least one byte, so the buffer has a base address.
      trie.lookup(node: node, decoded.baseAddress.unsafelyUnwrapped, count: count, readable: count)
    }
  }

  /// Parses the value at `pos` into `slots[slot]`; objects and arrays are validated and stored
  /// as `.null`.
  mutating func parseValue(slot: Int, depth: Int) throws(ScanError) {
    guard pos < end else { throw .invalidJSON(offset: pos, expected: .value) }
    switch base[pos] {
    case quote:
      let start = pos + 1
      if try skipString() {
        decodeEscapedString(from: start, to: pos - 1)
        slots[slot] = .string(String(decoding: scratch, as: UTF8.self))
      } else {
        let bytes = UnsafeBufferPointer(start: base + start, count: pos - 1 - start)
        slots[slot] = .string(String(decoding: bytes, as: UTF8.self))
      }
    case minus, zero...nine:
      slots[slot] = try scanNumber()
    case UInt8(ascii: "t"):
      try expectLiteral(0x7472_7565, length: 4)  // true
      slots[slot] = .bool(true)
    case UInt8(ascii: "f"):
      try expectLiteral(0x6661_6c73_65, length: 5)  // false
      slots[slot] = .bool(false)
    case UInt8(ascii: "n"):
      try expectLiteral(0x6e75_6c6c, length: 4)  // null
      slots[slot] = .null
    case openBrace:
      try skipObject(depth: depth + 1)
      slots[slot] = .null
    case openBracket:
      try skipArray(depth: depth + 1)
      slots[slot] = .null
    default:
      throw .invalidJSON(offset: pos, expected: .value)
    }
  }

  // MARK: - Skipping

  /// Validates and steps over the value at `pos`; `depth` is that of the enclosing container.
  mutating func skipValue(depth: Int) throws(ScanError) {
    guard pos < end else { throw .invalidJSON(offset: pos, expected: .value) }
    switch base[pos] {
    case quote: _ = try skipString()
    case minus, zero...nine: try skipNumber()
    case openBrace: try skipObject(depth: depth + 1)
    case openBracket: try skipArray(depth: depth + 1)
    case UInt8(ascii: "t"): try expectLiteral(0x7472_7565, length: 4)
    case UInt8(ascii: "f"): try expectLiteral(0x6661_6c73_65, length: 5)
    case UInt8(ascii: "n"): try expectLiteral(0x6e75_6c6c, length: 4)
    default: throw .invalidJSON(offset: pos, expected: .value)
    }
  }

  mutating func skipObject(depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1
    skipWhitespace()
    if pos < end && base[pos] == closeBrace {
      pos += 1
      return
    }
    while true {
      guard pos < end && base[pos] == quote else { throw .invalidJSON(offset: pos, expected: .objectKey) }
      _ = try skipString()
      skipWhitespace()
      guard pos < end && base[pos] == colon else { throw .invalidJSON(offset: pos, expected: .colon) }
      pos += 1
      skipWhitespace()
      try skipValue(depth: depth)
      skipWhitespace()
      guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrObjectEnd) }
      let c = base[pos]
      pos += 1
      if c == comma {
        skipWhitespace()
        continue
      }
      if c == closeBrace { return }
      throw .invalidJSON(offset: pos - 1, expected: .commaOrObjectEnd)
    }
  }

  mutating func skipArray(depth: Int) throws(ScanError) {
    if depth > maxDepth { throw .nestingTooDeep(offset: pos, limit: maxDepth) }
    pos += 1
    skipWhitespace()
    if pos < end && base[pos] == closeBracket {
      pos += 1
      return
    }
    while true {
      try skipValue(depth: depth)
      skipWhitespace()
      guard pos < end else { throw .invalidJSON(offset: pos, expected: .commaOrArrayEnd) }
      let c = base[pos]
      pos += 1
      if c == comma {
        skipWhitespace()
        continue
      }
      if c == closeBracket { return }
      throw .invalidJSON(offset: pos - 1, expected: .commaOrArrayEnd)
    }
  }

  @inline(__always)
  mutating func skipWhitespace() {
    while pos < end {
      let c = base[pos]
      // JSON whitespace: space, tab, line feed, carriage return.
      guard c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D else { return }
      pos += 1
    }
  }

  /// Checks that the literal whose ASCII bytes are `word` (big-endian, `length` bytes) is at `pos`.
  @inline(__always)
  mutating func expectLiteral(_ word: UInt64, length: Int) throws(ScanError) {
    var i = 0
    while i < length {
      let expected = UInt8(truncatingIfNeeded: word >> UInt64(8 * (length - 1 - i)))
      guard pos + i < end && base[pos + i] == expected else {
        throw .invalidJSON(offset: pos + i, expected: .literal)
      }
      i += 1
    }
    pos += length
  }

  // MARK: - Strings

  /// Validates the string starting with the `"` at `pos` and moves past its closing quote.
  ///
  /// - Returns: whether the string contains escapes (then its bytes must be decoded).
  @inline(__always)
  mutating func skipString() throws(ScanError) -> Bool {
    var i = pos + 1
    var hasEscapes = false
    while true {
      // Fast path: eight bytes at a time while none is special (", \, < 0x20, >= 0x80).
      while i + 8 <= end {
        let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
        if _JSONScanner.hasSpecialByte(w) { break }
        i += 8
      }
      while i < end {
        let c = base[i]
        if c == quote || c == backslash || c < 0x20 || c >= 0x80 { break }
        i += 1
      }
      guard i < end else { throw .invalidJSON(offset: end, expected: .closingQuote) }
      let c = base[i]
      if c == quote {
        pos = i + 1
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

  /// Whether any byte of `w` is `"`, `\`, below 0x20 or at least 0x80 (SWAR, exact).
  @inline(__always)
  static func hasSpecialByte(_ w: UInt64) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    // A byte is "zero" in x iff it is zero; this form has no false positives.
    // (Swift's `&` binds tighter than `|` and `^`; every step is parenthesised.)
    @inline(__always) func hasZeroByte(_ x: UInt64) -> UInt64 {
      (((x & ~highs) &+ ~highs) | x) & highs ^ highs
    }
    let isQuote = hasZeroByte(w ^ (ones &* 0x22))
    let isBackslash = hasZeroByte(w ^ (ones &* 0x5C))
    // Bytes below 0x20 (exact for bytes < 0x80; bytes >= 0x80 are caught by `w & highs`).
    let isControl = (((w & ~highs) &+ (ones &* (0x80 - 0x20))) & highs) ^ highs
    return (isQuote | isBackslash | isControl | (w & highs)) != 0
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
  mutating func scanNumber() throws(ScanError) -> Value {
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
