/// Short ASCII strings built directly in the standard library's small-string form.
///
/// A Swift `String` of at most 15 UTF-8 bytes is stored inline in its two words: on 64-bit
/// platforms, the bytes in order from the low byte of the first word, zero bytes after them,
/// and in the top byte of the second word the discriminator (immortal, small, and for ASCII
/// content the ASCII flag: `0xE0`) or-ed with the count. The decoder makes two or three such
/// strings per event that no cache can serve (an event id, a user, a card), and building one
/// through `String(unsafeUninitializedCapacity:initializingUTF8With:)` costs ~100 instructions,
/// where the scanner already holds the bytes as words and needs only the discriminator.
///
/// That layout is the standard library's, not a public API, so it is never assumed: ``probe()``
/// reads the bits of strings the standard library made (reading a value's bits is always
/// safe) and the form is used only when every one matches. Where it does not (another
/// platform, another runtime), `isAvailable` is `false` and strings are built the public way;
/// `SmallASCIITests` checks both paths give equal strings.
enum SmallASCII {
  /// The longest string the inline form holds.
  static let maxBytes = 15

  /// Whether this runtime lays out small ASCII strings as described above: every probe string
  /// the standard library made has exactly the bits ``make(word0:word1:count:)`` would give it.
  /// Computed once per caller that keeps it (a `static let` is read through `swift_once`).
  static func probe() -> Bool {
    guard MemoryLayout<String>.size == 16, MemoryLayout<(UInt64, UInt64)>.size == 16 else { return false }
    let samples = ["", "a", "u089695", "e0000006", "cb000217", "abcdefghijklmno", "0123456789:;<=>"]
    for sample in samples {
      let bytes = Array(sample.utf8)
      // Made at run time from bytes, as the decoder's strings are (a literal is made by the
      // compiler and could differ in its flags).
      let made = String(decoding: bytes, as: UTF8.self)
      let (word0, word1) = words(bytes)
      // Compared as bits: no string is made from bits before the layout is confirmed.
      guard bits(of: made) == rawBits(word0: word0, word1: word1, count: bytes.count) else { return false }
    }
    return true
  }

  /// The little-endian words of `bytes` (at most 15), zero-padded.
  static func words(_ bytes: [UInt8]) -> (UInt64, UInt64) {
    var word0: UInt64 = 0
    var word1: UInt64 = 0
    for (i, byte) in bytes.enumerated() {
      if i < 8 { word0 |= UInt64(byte) << UInt64(8 * i) } else { word1 |= UInt64(byte) << UInt64(8 * (i - 8)) }
    }
    return (word0, word1)
  }

  /// The raw bits of `string`.
  static func bits(of string: String) -> (UInt64, UInt64) {
    unsafeBitCast(string, to: (UInt64, UInt64).self)
  }

  /// The bits of the small ASCII string of `count` (0...15) bytes held in `word0` (bytes 0..<8)
  /// and `word1` (bytes 8..<15), little-endian and zero past `count`.
  @inline(__always)
  static func rawBits(word0: UInt64, word1: UInt64, count: Int) -> (UInt64, UInt64) {
    (word0, word1 | (0xE0 | UInt64(truncatingIfNeeded: count)) &<< 56)
  }

  /// The string of the ASCII bytes held in `word0` and `word1` (see ``rawBits(word0:word1:count:)``),
  /// built in place. Only where ``probe()`` returned `true`; debug builds compare it with the
  /// string built the public way.
  @inline(__always)
  static func make(word0: UInt64, word1: UInt64, count: Int) -> String {
    let string = unsafeBitCast(rawBits(word0: word0, word1: word1, count: count), to: String.self)
    #if DEBUG
      var bytes: [UInt8] = []
      for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: (i < 8 ? word0 : word1) >> UInt64(8 * (i % 8)))) }
      assert(string == String(decoding: bytes, as: UTF8.self) && string.utf8.count == count, "small string form")
    #endif
    return string
  }
}
