/// Short strings in the standard library's small (inline) form: built from their bytes' words,
/// and recognised from their bits.
///
/// A Swift `String` of at most 15 UTF-8 bytes is stored inline in its two words: on 64-bit
/// platforms, the bytes in order from the low byte of the first word, zero bytes after them,
/// and in the top byte of the second word the discriminator (immortal `0x80`, small `0x20`, and
/// for ASCII content `0x40`) or-ed with the count. The form is canonical: the standard library
/// keeps every string that fits inline, so two equal short strings have equal bits.
///
/// Uses on the hot path:
/// - the decoder makes two or three short strings per event that no cache can serve (an event
///   id, a user, a card); `String(unsafeUninitializedCapacity:initializingUTF8With:)` costs ~100
///   instructions, where the scanner already holds the bytes as words (``make(word0:word1:count:)``);
/// - the start guards compare an event's field with their constants by these bits
///   (``Value/smallStringBits(at:)``), without copying the value, hashing it as a key and
///   comparing strings; the key probes hash a key from them;
/// - a slot buffer being reset or freed skips its short strings, which hold no reference.
///
/// That layout is the standard library's, not a public API, so it is never assumed: ``probe()``
/// reads the bits of strings the standard library made (reading a value's bits is always safe),
/// and callers use the form only when every one matches. Where it does not (another platform,
/// another runtime), strings are built and compared the public way. `SmallStringTests` checks
/// both paths agree; debug builds compare every string made.
public enum SmallString {
  /// The longest string the inline form holds.
  public static let maxBytes = 15

  /// ``probe()``, computed once. A read costs a `swift_once` check: callers on the hot path
  /// keep a copy (a cache, a table, a hasher takes one when made).
  public static let isAvailable = probe()

  /// Whether this runtime lays out short strings, and ``Value``'s string case, as described
  /// above: every probe string the standard library made has exactly the bits the description
  /// gives it, in a `String` and in a ``Value``. Read ``isAvailable`` rather than probing again.
  public static func probe() -> Bool {
    guard MemoryLayout<String>.size == 16, MemoryLayout<(UInt64, UInt64)>.size == 16 else { return false }
    let samples = ["", "a", "u089695", "e0000006", "cb000217", "abcdefghijklmno", "0123456789:;<=>", "é", "Zürich"]
    for sample in samples {
      let bytes = Array(sample.utf8)
      // Made at run time from bytes, as the decoder's strings are (a literal is made by the
      // compiler and could differ in its flags).
      let made = String(decoding: bytes, as: UTF8.self)
      let (word0, word1) = words(bytes)
      // Compared as bits: no string is made from bits before the layout is confirmed.
      let expected = smallBits(word0: word0, word1: word1, count: bytes.count, isASCII: bytes.allSatisfy { $0 < 0x80 })
      guard bits(of: made) == expected else { return false }
      var value = Value.string(made)
      guard withUnsafePointer(to: &value, { Value.rawStringBits(at: $0) }) == expected else { return false }
    }
    return true
  }

  /// The little-endian words of `bytes` (at most 15), zero-padded.
  public static func words(_ bytes: [UInt8]) -> (UInt64, UInt64) {
    var word0: UInt64 = 0
    var word1: UInt64 = 0
    for (i, byte) in bytes.enumerated() {
      if i < 8 { word0 |= UInt64(byte) << UInt64(8 * i) } else { word1 |= UInt64(byte) << UInt64(8 * (i - 8)) }
    }
    return (word0, word1)
  }

  /// The raw bits of `string`.
  @inlinable
  public static func bits(of string: String) -> (UInt64, UInt64) {
    unsafeBitCast(string, to: (UInt64, UInt64).self)
  }

  /// Whether `bits` (of a string) are the small form's.
  @inlinable
  public static func isSmall(_ bits: (UInt64, UInt64)) -> Bool {
    bits.1 >> 56 & 0xA0 == 0xA0
  }

  /// Whether `string` is in the small form: it holds no reference, so copying or dropping it
  /// needs no reference count. Only where ``probe()`` returned `true`.
  @inlinable
  public static func isSmall(_ string: String) -> Bool { isSmall(bits(of: string)) }

  /// Whether `bits` (of a string in the small form) are an ASCII string's.
  @inlinable
  public static func isASCII(_ bits: (UInt64, UInt64)) -> Bool {
    bits.1 >> 56 & 0x40 != 0
  }
  /// The bits of the short string of `count` (0...15) UTF-8 bytes held in `word0` (bytes 0..<8)
  /// and `word1` (bytes 8..<15), little-endian and zero past `count`.
  @inlinable
  public static func smallBits(word0: UInt64, word1: UInt64, count: Int, isASCII: Bool) -> (UInt64, UInt64) {
    let discriminator: UInt64 = isASCII ? 0xE0 : 0xA0
    return (word0, word1 | (discriminator | UInt64(truncatingIfNeeded: count)) &<< 56)
  }

  /// The UTF-8 bytes of the small string whose bits are `bits`, as ``smallBits(word0:word1:count:isASCII:)``
  /// took them: two little-endian words, zero past `count`.
  @inlinable
  public static func contents(_ bits: (UInt64, UInt64)) -> (low: UInt64, high: UInt64, count: Int) {
    (bits.0, bits.1 & 0x00FF_FFFF_FFFF_FFFF, Int(truncatingIfNeeded: bits.1 &>> 56 & 0x0F))
  }

  /// The string whose bits are `bits`, which are those of a short string the standard library
  /// made (``bits(of:)`` of a string for which ``isSmall(_:)`` held). Only where ``probe()``
  /// returned `true`.
  @inlinable
  public static func string(bits: (UInt64, UInt64)) -> String {
    // Moved out of memory that holds the bits, not `unsafeBitCast`: a cast from plain words
    // gives a borrowed string that the caller's store then copies (a
    // `swift_bridgeObjectRetain` call per string, which a small string does not need).
    withUnsafeTemporaryAllocation(of: String.self, capacity: 1) { buffer in
      // swift-format-ignore: NeverForceUnwrap
      // A temporary allocation of one element has a base address.
      let slot = buffer.baseAddress!
      UnsafeMutableRawPointer(slot).storeBytes(of: bits, as: (UInt64, UInt64).self)
      return slot.move()
    }
  }

  /// The string of the ASCII bytes held in `word0` and `word1` (see
  /// ``smallBits(word0:word1:count:isASCII:)``), built in place. Only where ``probe()`` returned
  /// `true`; debug builds compare it with the string built the public way.
  @inlinable
  public static func make(word0: UInt64, word1: UInt64, count: Int) -> String {
    let string = self.string(bits: smallBits(word0: word0, word1: word1, count: count, isASCII: true))
    #if DEBUG
      var bytes: [UInt8] = []
      for i in 0..<count { bytes.append(UInt8(truncatingIfNeeded: (i < 8 ? word0 : word1) >> UInt64(8 * (i % 8)))) }
      assert(string == String(decoding: bytes, as: UTF8.self) && string.utf8.count == count, "small string form")
    #endif
    return string
  }
}

extension Value {
  /// The bits of the string at `value` when it is a string in the small form (see
  /// ``SmallString``), else `nil`; read in place, without copying the string. Only where
  /// ``SmallString/probe()`` returned `true`.
  @inlinable
  public static func smallStringBits(at value: UnsafePointer<Value>) -> (UInt64, UInt64)? {
    guard case .string = value.pointee else { return nil }
    let bits = rawStringBits(at: value)
    return SmallString.isSmall(bits) ? bits : nil
  }

  /// Whether the value at `value` holds no reference: every case but a list and a string not
  /// in the small form. Such a value is its bits: copying them copies it, and it needs no
  /// deinitialisation. `smallStrings`: ``SmallString/isAvailable``, read once by the caller
  /// (without it every string counts as holding a reference).
  @inlinable @inline(__always)
  public static func holdsNoReference(at value: UnsafePointer<Value>, smallStrings: Bool) -> Bool {
    switch value.pointee {
    case .null, .bool, .int, .float, .time, .duration: return true
    case .string: return smallStrings && SmallString.isSmall(rawStringBits(at: value))
    case .list: return false
    }
  }

  /// Initialises `target` with a copy of the value at `source`. A value that holds no reference
  /// (``holdsNoReference(at:smallStrings:)``) is copied as its 17 bytes; the value witness's
  /// copy took a call, a switch and, for a string, two runtime calls that retain nothing for a
  /// small one (~25 instructions).
  @inlinable @inline(__always)
  public static func initialize(
    _ target: UnsafeMutablePointer<Value>, copying source: UnsafePointer<Value>, smallStrings: Bool
  ) {
    if holdsNoReference(at: source, smallStrings: smallStrings) {
      copyBits(to: target, from: source)
    } else {
      target.initialize(to: source.pointee)
    }
  }

  /// A copy of the value at `source`, made from its bits when it holds no reference
  /// (``initialize(_:copying:smallStrings:)``).
  @inlinable @inline(__always)
  public static func copy(at source: UnsafePointer<Value>, smallStrings: Bool) -> Value {
    guard holdsNoReference(at: source, smallStrings: smallStrings) else { return source.pointee }
    // `.null` holds nothing, so its bits may be written over.
    var copy = Value.null
    withUnsafeMutablePointer(to: &copy) { copyBits(to: $0, from: source) }
    return copy
  }

  /// Writes the 17 bytes of the value at `source` to `target` (a value that holds no
  /// reference, see ``holdsNoReference(at:smallStrings:)``).
  @inlinable @inline(__always)
  static func copyBits(to target: UnsafeMutablePointer<Value>, from source: UnsafePointer<Value>) {
    let raw = UnsafeRawPointer(source)
    let words = raw.loadUnaligned(as: (UInt64, UInt64).self)
    let tag = raw.load(fromByteOffset: 16, as: UInt8.self)
    let out = UnsafeMutableRawPointer(target)
    out.storeBytes(of: words, as: (UInt64, UInt64).self)
    out.storeBytes(of: tag, toByteOffset: 16, as: UInt8.self)
  }

  /// Deinitialises the `count` values at `values`, skipping those that hold no reference (the
  /// value witness's destroy took a call and, for a string, two runtime calls apiece).
  @inlinable @inline(__always)
  public static func deinitialize(_ values: UnsafeMutablePointer<Value>, count: Int, smallStrings: Bool) {
    for i in 0..<count where !holdsNoReference(at: values + i, smallStrings: smallStrings) {
      (values + i).deinitialize(count: 1)
    }
  }

  /// The first 16 bytes of the value at `value`: a string's bits when it is one (the probe
  /// confirms the payload lies there).
  @inlinable
  static func rawStringBits(at value: UnsafePointer<Value>) -> (UInt64, UInt64) {
    UnsafeRawPointer(value).loadUnaligned(as: (UInt64, UInt64).self)
  }
}
