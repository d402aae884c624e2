import TocsinCore

/// A key value packed into 16 bytes, so that a ``KeyTable`` slot can hold it and a lookup can
/// compare it with two 64-bit compares instead of loading the stored `Value` (a second cache
/// miss per event on a table of 100k keys).
///
/// Single-field keys are packed, and two-field keys of two short strings (`key user,
/// geo.country`), only where the packed form is canonical, so that two packed keys are equal
/// exactly when the values are (`==` on ``Value``, with strings compared by their UTF-8 bytes as
/// the hash does). A key space's keys all have its number of fields, so the two kinds never
/// meet in one table:
///
/// | value | `low` | `high` |
/// |---|---|---|
/// | string of `n` ≤ 15 UTF-8 bytes | bytes 0–7, zero-padded | bytes 8–14; tag `0x10 + n` on top |
/// | `int`, `bool`, `time`, `duration` | the payload's 64 bits | tag `0x21`–`0x24` on top |
/// | two strings of `n` + `m` ≤ 14 bytes (a two-field key) | `m`, then the first's bytes, then the second's | the rest; tag `0x40 + n` on top |
///
/// Bytes are in load order (little-endian on every platform Tocsin builds for); the tag is the
/// top byte (bits 56–63) of `high`.
///
/// Strings Swift calls equal by canonical equivalence but spelled with different bytes (`"é"` and
/// `"e\u{301}"`) are different keys, as their different hashes already made them.
///
/// Everything else — longer strings, floats (`0.0 == -0.0`, NaN equals nothing), lists, other
/// keys of several fields — is *not inline* (`high == 0`) and is compared through the stored
/// values.
struct InlineKey {
  /// The first eight bytes of the packed form.
  var low: UInt64
  /// The last eight bytes: the tag in the top byte (`0` when not inline).
  var high: UInt64

  /// The marker of a key that is not packed.
  static let notInline = InlineKey(low: 0, high: 0)

  /// Whether the key is packed (and compares inline).
  @inline(__always)
  var isInline: Bool { high != 0 }

  /// Whether both packed forms are the same 16 bytes.
  @inline(__always)
  func isSame(as other: InlineKey) -> Bool { (low ^ other.low) | (high ^ other.high) == 0 }

  /// The tags of the top byte of ``high``.
  enum Tag: UInt64 {
    /// A string; its length is added to the tag.
    case string = 0x10
    case int = 0x21
    case bool = 0x22
    case time = 0x23
    case duration = 0x24
    /// Two strings; the first's length is added to the tag.
    case pair = 0x40
  }

  /// A packed scalar payload.
  @inline(__always)
  init(payload: UInt64, tag: Tag) {
    low = payload
    high = tag.rawValue << 56
  }

  /// A key of two strings whose UTF-8 bytes add up to at most ``maxPairBytes``, packed as the
  /// second's length, the first's bytes, then the second's, zero-padded, with the first's length
  /// in the tag (`0x40 + n`): canonical, so two packed pairs are equal exactly when both strings
  /// are. `nil` when they do not fit.
  @inline(__always)
  init?(firstOf first: UnsafeBufferPointer<UInt8>, second: UnsafeBufferPointer<UInt8>) {
    let (n, m) = (first.count, second.count)
    guard n + m <= Self.maxPairBytes else { return nil }
    var words: (UInt64, UInt64) = (0, 0)
    withUnsafeMutableBytes(of: &words) { bytes in
      bytes[0] = UInt8(truncatingIfNeeded: m)
      for i in 0..<n { bytes[1 + i] = first[i] }
      for i in 0..<m { bytes[1 + n + i] = second[i] }
    }
    low = UInt64(littleEndian: words.0)
    high = UInt64(littleEndian: words.1) | (Tag.pair.rawValue + UInt64(truncatingIfNeeded: n)) << 56
  }

  /// ``init(firstOf:second:)`` of two strings in the small form (``SmallString``) whose bits are
  /// `first` and `second`: their bytes are already zero-padded words, shifted into place.
  /// ``notInline`` when they do not fit.
  @inline(__always)
  init(smallPair first: (UInt64, UInt64), _ second: (UInt64, UInt64)) {
    let (a, b) = (SmallString.contents(first), SmallString.contents(second))
    guard a.count + b.count <= Self.maxPairBytes else {
      self = .notInline
      return
    }
    let x = UInt128(a.high) << 64 | UInt128(a.low)
    let y = UInt128(b.high) << 64 | UInt128(b.low)
    // The second's length, the first's bytes, then the second's (at most 15 bytes in all).
    let packed = UInt128(truncatingIfNeeded: b.count) | x << 8 | y << UInt128(truncatingIfNeeded: 8 &+ 8 &* a.count)
    low = UInt64(truncatingIfNeeded: packed)
    high = UInt64(truncatingIfNeeded: packed >> 64) | (Tag.pair.rawValue + UInt64(truncatingIfNeeded: a.count)) << 56
  }

  /// The most UTF-8 bytes two strings of a packed pair hold together (one byte of the 15 holds
  /// the second's length).
  static var maxPairBytes: Int { 14 }

  /// A packed string of `count` (≤ 15) bytes from ``KeyHash/pack(_:)``.
  @inline(__always)
  init(stringWords words: (low: UInt64, high: UInt64), count: Int) {
    low = words.low
    high = words.high | (Tag.string.rawValue + UInt64(truncatingIfNeeded: count)) << 56
  }

  @inline(__always)
  init(low: UInt64, high: UInt64) {
    self.low = low
    self.high = high
  }
}

/// The mixing steps of ``KeyTable``'s hash.
enum KeyHash {
  /// The longest string packed into an ``InlineKey``.
  static let maxInlineBytes = 15

  /// Folds `value` into `h` (a multiply-xorshift round; not cryptographic).
  @inline(__always)
  static func combine(_ h: UInt64, _ value: UInt64) -> UInt64 {
    mix((h ^ value) &* 0x9E37_79B9_7F4A_7C15)
  }

  /// A 64-bit finaliser (Stafford's variant 13 of MurmurHash3's `fmix64`).
  @inline(__always)
  static func mix(_ x: UInt64) -> UInt64 {
    var z = x
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// `bytes` (at most 15) as two little-endian words, zero-padded: bytes 0–7 in `low`, 8–14 in
  /// `high`. Overlapping loads, never a byte past the end, no loop.
  @inline(__always)
  static func pack(_ bytes: UnsafeRawBufferPointer) -> (low: UInt64, high: UInt64) {
    let n = bytes.count
    assert(n <= maxInlineBytes)
    if n >= 8 {
      // The last eight bytes, shifted so that byte 8 lands in bits 0–7 (for n == 8 the smart
      // shift by 64 yields 0).
      let tail = bytes.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
      return (bytes.loadUnaligned(as: UInt64.self), tail >> (UInt64(16 - n) * 8))
    }
    if n >= 4 {
      // Two four-byte loads overlapping in the middle: the shared bytes are equal, so `|` is exact.
      let head = UInt64(bytes.loadUnaligned(as: UInt32.self))
      let tail = UInt64(bytes.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
      return (head | tail << (UInt64(n - 4) * 8), 0)
    }
    if n > 0 {
      let mid = n / 2
      let low = UInt64(bytes[0]) | UInt64(bytes[mid]) << (UInt64(mid) * 8) | UInt64(bytes[n - 1]) << (UInt64(n - 1) * 8)
      return (low, 0)
    }
    return (0, 0)
  }

  /// ``string(_:seed:)`` of a string of at most ``maxInlineBytes`` bytes, given packed (`words`,
  /// as ``pack(_:)`` makes them).
  @inline(__always)
  static func inlineString(_ words: (low: UInt64, high: UInt64), count: Int, seed: UInt64) -> (
    hash: UInt64, inline: InlineKey
  ) {
    (combine(combine(seed ^ UInt64(truncatingIfNeeded: count), words.low), words.high), InlineKey(stringWords: words, count: count))
  }

  /// The hash of a string's UTF-8 `bytes` and, when they are short enough, their packed form;
  /// one pass over the bytes.
  @inline(__always)
  static func string(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> (hash: UInt64, inline: InlineKey) {
    let n = bytes.count
    if n <= maxInlineBytes { return inlineString(pack(bytes), count: n, seed: seed) }
    var h = seed ^ UInt64(n)
    var i = 0
    while i + 8 <= n {
      h = combine(h, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
      i += 8
    }
    if i < n { h = combine(h, pack(UnsafeRawBufferPointer(rebasing: bytes[i...])).low) }
    return (mix(h), .notInline)
  }
}

extension Value {
  /// A seeded hash consistent with `==` (equal values, same case and payload, hash equally),
  /// and the value's ``InlineKey`` form, computed in the same pass.
  @inline(__always)
  func keyHashAndInlineForm(seed: UInt64) -> (hash: UInt64, inline: InlineKey) {
    switch self {
    case .null: return (KeyHash.mix(seed ^ 1), .notInline)
    case .bool(let b): return (KeyHash.mix(seed ^ (b ? 2 : 3)), InlineKey(payload: b ? 1 : 0, tag: .bool))
    case .int(let i):
      let bits = UInt64(bitPattern: i)
      return (KeyHash.combine(seed ^ 4, bits), InlineKey(payload: bits, tag: .int))
    case .float(let d):
      // `==` on the payload: 0.0 == -0.0, so they must hash alike; NaN never equals itself and
      // hashes however it likes. Not inline: bit equality is not `==` here.
      return (KeyHash.combine(seed ^ 5, d == 0 ? 0 : d.bitPattern), .notInline)
    case .string(let s):
      // Read in place (`withUTF8` is mutating: it took a copy of the string).
      if let result = s.utf8.withContiguousStorageIfAvailable({ Self.stringKey($0, seed: seed) }) {
        return result
      }
      var copy = s
      return copy.withUTF8 { Self.stringKey($0, seed: seed) }
    case .time(let t):
      let bits = UInt64(bitPattern: t.nanosecondsSinceEpoch)
      return (KeyHash.combine(seed ^ 7, bits), InlineKey(payload: bits, tag: .time))
    case .duration(let d):
      let bits = UInt64(bitPattern: d.nanoseconds)
      return (KeyHash.combine(seed ^ 8, bits), InlineKey(payload: bits, tag: .duration))
    case .list(let values):
      let hash = values.reduce(KeyHash.mix(seed ^ 9)) { KeyHash.combine($0, $1.keyHash(seed: seed)) }
      return (hash, .notInline)
    }
  }

  /// The string case of ``keyHashAndInlineForm(seed:)``, over the string's UTF-8.
  @inline(__always)
  static func stringKey(_ utf8: UnsafeBufferPointer<UInt8>, seed: UInt64) -> (hash: UInt64, inline: InlineKey) {
    KeyHash.string(UnsafeRawBufferPointer(utf8), seed: stringSeed(seed))
  }

  /// ``keyHashAndInlineForm(seed:)`` of a string in the small form whose bits are `bits`
  /// (``SmallString``): its UTF-8 bytes, zero-padded, are the first word and the second but for
  /// its top byte, which holds the count. The same hash and form as ``stringKey(_:seed:)`` of
  /// those bytes.
  @inline(__always)
  static func smallStringKey(_ bits: (UInt64, UInt64), seed: UInt64) -> (hash: UInt64, inline: InlineKey) {
    let (low, high, count) = SmallString.contents(bits)
    return KeyHash.inlineString((low, high), count: count, seed: stringSeed(seed))
  }

  /// The seed a string is hashed with: the value's seed, tweaked by the case so that a string
  /// and another case with the same bytes hash apart.
  @inline(__always)
  static func stringSeed(_ seed: UInt64) -> UInt64 { seed ^ 6 }

  /// ``keyHashAndInlineForm(seed:)`` of the value at `value`, read in place: a string (most
  /// keys) is hashed where it lies; any other value is copied out, which for the scalar cases
  /// costs no reference counting.
  @inline(__always)
  static func keyHashAndInlineForm(at value: UnsafePointer<Value>, seed: UInt64) -> (hash: UInt64, inline: InlineKey) {
    if case .string(let s) = value.pointee,
      let result = s.utf8.withContiguousStorageIfAvailable({ stringKey($0, seed: seed) })
    {
      return result
    }
    return value.pointee.keyHashAndInlineForm(seed: seed)
  }

  /// A seeded hash consistent with `==`: equal values (same case, same payload) hash equally.
  @inline(__always)
  func keyHash(seed: UInt64) -> UInt64 { keyHashAndInlineForm(seed: seed).hash }

  /// ``keyHash(seed:)`` of the value at `value`, read in place (a field of a multi-field key:
  /// handed out of its slot, a string value is copied, a retain and a release).
  @inline(__always)
  static func keyHash(at value: UnsafePointer<Value>, seed: UInt64) -> UInt64 {
    keyHashAndInlineForm(at: value, seed: seed).hash
  }
}
