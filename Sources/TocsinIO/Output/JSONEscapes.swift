/// Finding the bytes a JSON string escapes eight at a time (``JSONWriter/Cursor/put(escaped:)``):
/// a quote, a backslash, or a control byte (below 0x20).
///
/// Each mask has the top bit of a byte set exactly where that byte matches, and no other bit:
/// the tests below never carry from one byte into the next (a byte's low seven bits plus 0x7F
/// stay within the byte), so a mask's lowest set bit is the first match and its population
/// count the number of matches. Words are read and written in little-endian byte order, so the
/// first byte of the text is the lowest of the word on every platform.
enum JSONEscapes {
  private static let low7: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
  private static let ones: UInt64 = 0x0101_0101_0101_0101

  /// The top bit of each byte of `word` that is zero.
  @inline(__always)
  static func zeroMask(_ word: UInt64) -> UInt64 {
    ~(((word & low7) &+ low7) | word | low7)
  }

  /// The top bit of each byte below 0x20 (its top three bits clear).
  @inline(__always)
  static func controlMask(_ word: UInt64) -> UInt64 {
    zeroMask(word & (0xE0 &* ones))
  }

  /// The top bit of each quote and each backslash.
  @inline(__always)
  static func quoteMask(_ word: UInt64) -> UInt64 {
    zeroMask(word ^ (0x22 &* ones)) | zeroMask(word ^ (0x5C &* ones))
  }

  /// The top bit of each byte that needs an escape.
  @inline(__always)
  static func mask(_ word: UInt64) -> UInt64 {
    controlMask(word) | quoteMask(word)
  }

  /// The top bit of each byte at or above 0x80 (outside ASCII).
  @inline(__always)
  static func nonASCIIMask(_ word: UInt64) -> UInt64 {
    word & ~low7
  }

  /// The eight bytes at `p` (any alignment), the first lowest.
  @inline(__always)
  static func load(_ p: UnsafePointer<UInt8>) -> UInt64 {
    UInt64(littleEndian: UnsafeRawPointer(p).loadUnaligned(as: UInt64.self))
  }

  /// Writes `word`'s eight bytes at `p` (any alignment), the lowest first.
  @inline(__always)
  static func store(_ word: UInt64, _ p: UnsafeMutablePointer<UInt8>) {
    UnsafeMutableRawPointer(p).storeBytes(of: word.littleEndian, as: UInt64.self)
  }

  /// Whether every byte of `bytes` is ASCII (below 0x80).
  static func isASCII(_ bytes: UnsafeRawBufferPointer) -> Bool {
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return true }
    return !anyMatch(base, bytes.count, nonASCIIMask)
  }

  /// Whether `mask` finds a byte among the `n` at `base`: a word at a time, the last word
  /// overlapping the one before it rather than a byte loop for the rest (an ASCII check of a
  /// 180-byte line: ~150 instructions).
  @inline(__always)
  private static func anyMatch(_ base: UnsafePointer<UInt8>, _ n: Int, _ mask: (UInt64) -> UInt64) -> Bool {
    guard n >= 8 else {
      // Under a word: its bytes, zero-padded (a zero byte is a control byte, so the padding
      // is masked off).
      var word: UInt64 = 0
      for i in 0..<n { word |= UInt64(base[i]) &<< UInt64(8 &* i) }
      let valid: UInt64 = n == 0 ? 0 : ~0 &>> UInt64(64 &- 8 &* n)
      return mask(word) & valid != 0
    }
    var found: UInt64 = 0
    var i = 0
    while i &+ 8 <= n {
      found |= mask(load(base + i))
      i &+= 8
    }
    if i < n { found |= mask(load(base + (n &- 8))) }
    return found != 0
  }
}
