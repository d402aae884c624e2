import TocsinCore

/// Recently decoded string values, per projection slot, so a value that repeats (an event type,
/// a currency, a city) is handed out again instead of being rebuilt and re-validated.
///
/// Each slot owns a small direct-mapped table of ``bucketsPerSlot`` buckets. A bucket remembers
/// one string's raw bytes (at most ``maxBytes``, held as two little-endian words plus the
/// length) and the `String` made from them. A lookup hashes the bytes, and the bucket answers
/// only when length and both words are equal — a full comparison of the bytes, never just the
/// hash — so a hit returns exactly the string `String(decoding:as:)` would build.
///
/// Only raw string bodies without escapes are cached (the scanner has validated their UTF-8, so
/// equal bytes mean an equal string); escaped strings and longer ones bypass the cache. So do
/// ASCII values of at most 15 bytes where the runtime's small-string layout is the expected one
/// (``SmallString``): built from the words the lookup would hash, they cost less than the lookup
/// (and the reference count of a cached copy), so the table serves 16-byte and non-ASCII values.
/// Misses replace the bucket. A slot whose values rarely repeat (an event id, a user id) stops
/// using its table for a while: every ``windowProbes`` lookups the slot's hits are counted, and
/// below one in ``minimumHitShare`` the slot bypasses the table for ``bypassLookups`` values,
/// then tries again. The cache is invisible in results: with or without it the scanner
/// produces the same values.
///
/// Owned by one ``EventScanner``; the scanner copies it before mutating when it is shared
/// (copy-on-write), so copies of a scanner never share a mutable cache across threads.
final class StringValueCache: @unchecked Sendable {
  /// One remembered value.
  struct Bucket {
    /// The first (up to) eight bytes, little-endian, zero-padded.
    var word0: UInt64 = 0
    /// Bytes 8..<16, little-endian, zero-padded.
    var word1: UInt64 = 0
    /// The byte length, or -1 for an empty bucket.
    var length: Int = -1
    /// The string the bytes decode to.
    var value: String = ""
  }

  /// The longest raw string body (in bytes) the cache keeps.
  static let maxBytes = 16
  /// Buckets per slot (a power of two).
  static let bucketsPerSlot = 64
  static let bucketBits = 6
  /// Lookups per measuring window.
  static let windowProbes: Int32 = 256
  /// A window with fewer than `windowProbes / minimumHitShare` hits starts a bypass.
  static let minimumHitShare: Int32 = 8
  /// Values a bypassing slot builds without the table before measuring again.
  static let bypassLookups: Int32 = 4096

  /// A slot's hit-rate bookkeeping.
  struct SlotState {
    /// Lookups left in the current window (or bypass).
    var remaining: Int32 = StringValueCache.windowProbes
    /// Hits in the current window.
    var hits: Int32 = 0
    /// Whether the slot is bypassing its table.
    var bypassing = false
  }

  /// The number of slots served.
  let slotCount: Int
  /// Whether short ASCII values are built in the standard library's inline form
  /// (``SmallString/isAvailable``).
  let buildsSmallStrings: Bool
  private let buckets: UnsafeMutablePointer<Bucket>
  private let states: UnsafeMutablePointer<SlotState>
  /// Set when a string handed out may hold a reference (``View/mayReference``).
  private let mayReference: UnsafeMutablePointer<Bool>

  /// A cache with empty buckets for `slotCount` slots.
  init(slotCount: Int) {
    self.slotCount = max(0, slotCount)
    buildsSmallStrings = SmallString.isAvailable
    let capacity = max(1, self.slotCount * StringValueCache.bucketsPerSlot)
    buckets = .allocate(capacity: capacity)
    buckets.initialize(repeating: Bucket(), count: capacity)
    states = .allocate(capacity: max(1, self.slotCount))
    states.initialize(repeating: SlotState(), count: max(1, self.slotCount))
    mayReference = .allocate(capacity: 1)
    mayReference.initialize(to: false)
  }

  deinit {
    buckets.deinitialize(count: max(1, slotCount * StringValueCache.bucketsPerSlot))
    buckets.deallocate()
    states.deinitialize(count: max(1, slotCount))
    states.deallocate()
    mayReference.deallocate()
  }

  /// A cache for the same slots with every bucket empty (what a copy needs: the cache only ever
  /// saves work, so starting over is always correct).
  func emptyCopy() -> StringValueCache {
    StringValueCache(slotCount: slotCount)
  }

  /// The string `bytes[0..<count]` decodes to (see ``View/string(slot:_:count:readable:)``).
  func string(slot: Int, _ bytes: UnsafePointer<UInt8>, count: Int, readable: Int) -> String {
    view.string(slot: slot, bytes, count: count, readable: readable)
  }

  /// The cache's tables as plain pointers, for the scanner's inner loop: no reference counting.
  /// Valid while the cache lives.
  var view: View {
    View(
      slotCount: slotCount, buckets: buckets, states: states, buildsSmallStrings: buildsSmallStrings,
      mayReference: mayReference)
  }

  /// See ``view``.
  struct View {
    let slotCount: Int
    let buckets: UnsafeMutablePointer<Bucket>
    let states: UnsafeMutablePointer<SlotState>
    let buildsSmallStrings: Bool
    /// Set to `true` by ``string(slot:_:count:readable:)`` when the string it hands out is not
    /// certainly in the small form (built in place: a short ASCII value), so it may hold a
    /// reference (``Value/holdsNoReference(at:smallStrings:)``); never cleared here. The scanner
    /// clears it before a line and reads it after (``EventScanner/scan(_:intoNulled:)``). A flag
    /// in the cache's memory, written on the slow paths only: passed `inout` through the
    /// scanner's state, it cost the member loop ~40 instructions per W1 event.
    let mayReference: UnsafeMutablePointer<Bool>

    /// The string `bytes[0..<count]` decodes to, from the cache or newly made (and remembered).
    ///
    /// - Parameters:
    ///   - slot: the projection slot the value is for (`0..<slotCount`).
    ///   - bytes: the raw string body: no escapes, valid UTF-8.
    ///   - count: its length.
    ///   - readable: how many bytes may be read at `bytes` (at least `count`); 16 or more lets the
    ///     words be loaded whole.
    @inline(__always)
    func string(slot: Int, _ bytes: UnsafePointer<UInt8>, count: Int, readable: Int) -> String {
      if count > StringValueCache.maxBytes || slot >= slotCount {
        mayReference.pointee = true
        return StringValueCache.makeString(bytes, count: count)
      }
      let word0: UInt64
      let word1: UInt64
      if readable >= 16 {
        let raw = UnsafeRawPointer(bytes)
        let low = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        let high = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        word0 = count >= 8 ? low : low & StringValueCache.mask(count)
        word1 = count >= 16 ? high : (count <= 8 ? 0 : high & StringValueCache.mask(count &- 8))
      } else {
        word0 = ProjectionTrie.prefixWord(bytes, count: count, readable: 0)
        word1 = count > 8 ? ProjectionTrie.prefixWord(bytes + 8, count: count &- 8, readable: 0) : 0
      }
      // A short ASCII value is built from its words for less than a lookup costs.
      if buildsSmallStrings && count <= SmallString.maxBytes && (word0 | word1) & 0x8080_8080_8080_8080 == 0 {
        return SmallString.make(word0: word0, word1: word1, count: count)
      }
      mayReference.pointee = true
      let state = states + slot
      state.pointee.remaining &-= 1
      if state.pointee.remaining <= 0 { StringValueCache.endWindow(state) }
      if state.pointee.bypassing {
        return StringValueCache.makeString(bytes, count: count)
      }
      let h = StringValueCache.hash(word0, word1, count: count)
      let bucket = buckets + (slot &<< StringValueCache.bucketBits | h)
      if bucket.pointee.length == count && bucket.pointee.word0 == word0 && bucket.pointee.word1 == word1 {
        state.pointee.hits &+= 1
        return bucket.pointee.value
      }
      let value = StringValueCache.makeString(bytes, count: count)
      bucket.pointee = Bucket(word0: word0, word1: word1, length: count, value: value)
      return value
    }
  }

  /// The string of the valid UTF-8 `bytes[0..<count]`.
  ///
  /// Same result as `String(decoding:as:)`, but a short ASCII string is built in place and
  /// checked with one mask test instead of a validation pass over its bytes (the standard
  /// library repairs — here: validates — anything else as `String(decoding:as:)` does).
  @inline(__always)
  static func makeString(_ bytes: UnsafePointer<UInt8>, count: Int) -> String {
    String(unsafeUninitializedCapacity: count) { target in
      // swift-format-ignore: NeverForceUnwrap
      // `count` > 0 here, so the buffer has a base address; a zero count copies nothing.
      if count > 0 { target.baseAddress.unsafelyUnwrapped.initialize(from: bytes, count: count) }
      return count
    }
  }

  /// Closes a slot's window or bypass: a poor window starts a bypass, a bypass ends in a new
  /// window.
  @inline(never)
  static func endWindow(_ state: UnsafeMutablePointer<SlotState>) {
    if !state.pointee.bypassing && state.pointee.hits &* minimumHitShare < windowProbes {
      state.pointee = SlotState(remaining: bypassLookups, hits: 0, bypassing: true)
    } else {
      state.pointee = SlotState()
    }
  }

  /// The low `count` bytes of a word set (`count` in 0..<8).
  @inline(__always)
  static func mask(_ count: Int) -> UInt64 {
    (1 &<< UInt64(truncatingIfNeeded: count &* 8)) &- 1
  }

  /// The bucket index (in a slot's table) of a value with words `word0`, `word1` and length
  /// `count`.
  @inline(__always)
  static func hash(_ word0: UInt64, _ word1: UInt64, count: Int) -> Int {
    let mixed = (word0 ^ (word1 &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(truncatingIfNeeded: count)) &* 0x9E37_79B9_7F4A_7C15
    return Int(truncatingIfNeeded: mixed &>> UInt64(64 - bucketBits))
  }
}
