/// A 64-bit FNV-1a hash that is the same in every process and on every machine.
///
/// Swift's `Hasher` is seeded per process, so it can never feed anything that is written out.
/// This one feeds alert ids and event ids derived from raw lines. Components are separated by a
/// 0xFF byte (which never occurs in UTF-8) so `("ab","c")` and `("a","bc")` differ.
public struct StableHash: Sendable {
  private var state: UInt64 = 0xcbf2_9ce4_8422_2325

  /// A fresh hash state.
  public init() {}

  /// Mixes the bytes of `bytes`.
  public mutating func combine<S: Sequence>(bytes: S) where S.Element == UInt8 {
    for byte in bytes { combine(byte: byte) }
  }

  /// Mixes one component: its UTF-8 bytes then a separator.
  public mutating func combine(_ component: String) {
    combine(utf8Of: component)
    combine(byte: 0xFF)
  }

  /// Mixes `text`'s UTF-8 bytes, without a separator (part of a component).
  public mutating func combine(utf8Of text: String) {
    // A native string's bytes in place: through the generic sequence path, a byte cost ~30
    // instructions (~400 per event identity in an alert id).
    if text.utf8.withContiguousStorageIfAvailable({ combine(bytes: $0) }) == nil {
      combine(bytes: text.utf8)
    }
  }

  /// Mixes one byte.
  @inline(__always)
  public mutating func combine(byte: UInt8) {
    state ^= UInt64(byte)
    state = state &* 0x0000_0100_0000_01b3
  }

  /// The final value, passed through a 64-bit finaliser (from splitmix64) to spread FNV's low bits.
  public var value: UInt64 {
    var z = state
    z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
    z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
    return z ^ (z >> 31)
  }

  /// The final value as 16 lower-case hex digits.
  public var hex: String { Self.hex(value) }

  /// `value` as 16 lower-case hex digits (zero-padded, so the texts sort as the numbers do).
  public static func hex(_ value: UInt64) -> String {
    // Written nibble by nibble into the string's storage (16 bytes: one allocation); the
    // `String(radix:)` + padding version cost ~1.5k instructions per alert id.
    String(unsafeUninitializedCapacity: 16) { out in
      writeHex(value, to: out.baseAddress.unsafelyUnwrapped)
      return 16
    }
  }

  /// Writes `value` as 16 lower-case hex digits at `out`.
  @inline(__always)
  public static func writeHex(_ value: UInt64, to out: UnsafeMutablePointer<UInt8>) {
    for i in 0..<16 {
      let nibble = UInt8(truncatingIfNeeded: value >> UInt64(60 - 4 * i)) & 0xF
      out[i] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble
    }
  }
}
