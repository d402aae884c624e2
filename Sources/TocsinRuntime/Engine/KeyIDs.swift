/// Key ids of the first four key spaces as plain data (no reference counting to copy it), for
/// ``KeyIDs`` and the reorder buffer's prefetch hints.
struct FourKeyIDs {
  /// The key spaces it holds: the first four.
  static let spaces = 4
  static let missing = UInt32.max
  /// The top bit of a half-word that holds no id: ``missing``, or a deferred key — one present
  /// in the event but not looked up on arrival (``Engine`` "Deferred keys"), whose low 30 bits
  /// are ``KeyPresence/bits(of:)`` of its hash, for the release to test before it looks the key
  /// up. Ids stay below it (``KeyID/limit``); the subscript reads both as `nil`.
  static let notAnID: UInt32 = 0x8000_0000
  /// Spaces 0 and 1 (low and high half), then spaces 2 and 3: two words, so that an id is
  /// picked by a conditional move and a shift. As a tuple, the subscript compiled to a jump
  /// table, an indirect branch per read whose target changed with each space of a loop over
  /// them (callgrind's branch model, W1: ~16 mispredicted indirect branches per event in the
  /// release loop and its lookahead).
  private var low = UInt64.max
  private var high = UInt64.max

  /// The id in `space`, `nil` when missing or when `space` is not one of the first four.
  /// Always inlined: with the release loop inlined into the engine, the optimiser stopped
  /// inlining it there (~100 instructions per W1 event in calls).
  @inline(__always)
  subscript(space: Int) -> KeyID? {
    get {
      guard UInt(bitPattern: space) < 4 else { return nil }
      let raw = half(space)
      return raw >= Self.notAnID ? nil : KeyID(Int(raw))
    }
    set { setRaw(newValue.map(\.rawValue) ?? Self.missing, space: space) }
  }

  /// The presence bits of `space`'s key (``KeyPresence/bits(of:)``) when it is deferred,
  /// else `nil` (an id, missing, or a space past the fourth).
  @inline(__always)
  func deferredBits(_ space: Int) -> UInt32? {
    guard UInt(bitPattern: space) < 4 else { return nil }
    let raw = half(space)
    return Self.isDeferred(raw) ? raw & ~Self.notAnID : nil
  }

  /// The spaces whose key is deferred, as bits (bit `s` for space `s`; zero when none is): the
  /// release visits only those (``Engine`` "Deferred keys"), where asking each of the four
  /// spaces for its bits cost W1 ~45 instructions per event.
  @inline(__always)
  var deferredSpaces: UInt64 {
    (Self.isDeferred(half(0)) ? 1 : 0) | (Self.isDeferred(half(1)) ? 2 : 0)
      | (Self.isDeferred(half(2)) ? 4 : 0) | (Self.isDeferred(half(3)) ? 8 : 0)
  }

  /// The presence bits of the deferred key of `space`, one of ``deferredSpaces``.
  @inline(__always)
  func presenceBits(ofDeferred space: Int) -> UInt32 {
    assert(deferredBits(space) != nil, "space \(space) holds no deferred key")
    return half(space) & ~Self.notAnID
  }

  /// The half-word of `space` (0–3; not checked) as stored: an id, ``missing``, or a deferred
  /// key's presence bits under ``notAnID``.
  @inline(__always)
  private func half(_ space: Int) -> UInt32 {
    let word = space < 2 ? low : high
    return UInt32(truncatingIfNeeded: word &>> UInt64(truncatingIfNeeded: (space & 1) &* 32))
  }

  /// Whether a half-word holds a deferred key: its top bit set, and not `missing` (all ones).
  @inline(__always)
  private static func isDeferred(_ half: UInt32) -> Bool { half &- notAnID < missing &- notAnID }

  /// Marks `space`'s key deferred, with its presence bits (30 bits).
  @inline(__always)
  mutating func markDeferred(space: Int, bits: UInt32) {
    assert(bits < 1 << 30, "presence bits are 30 bits")
    setRaw(Self.notAnID | bits, space: space)
  }

  @inline(__always)
  private mutating func setRaw(_ value: UInt32, space: Int) {
    precondition(UInt(bitPattern: space) < 4, "FourKeyIDs holds key spaces 0–3, not \(space)")
    let raw = UInt64(value)
    let shift = UInt64(truncatingIfNeeded: (space & 1) &* 32)
    let keep = ~(UInt64(UInt32.max) &<< shift)
    if space < 2 {
      low = low & keep | raw &<< shift
    } else {
      high = high & keep | raw &<< shift
    }
  }
}

/// An event's key ids in the first four key spaces (rule sets rarely partition by more than four
/// different field lists), as plain data: copying an event's record and dropping it touch no
/// reference count for its keys, and the reorder buffer's entry is a cache line. The keys of the
/// spaces past the fourth are not carried: the release looks them up
/// (``Engine`` `keyPastFour(_:space:)`). An array for them was a reference in every buffered
/// event (a release per event, ~14 instructions, W1) and 8 more bytes in its entry.
struct KeyIDs {
  /// The ids of the first four key spaces.
  private(set) var firstFour = FourKeyIDs()

  /// Every space missing.
  init() {}

  /// The id in `space`, one of the first four; `nil` when missing or deferred.
  @inline(__always)
  subscript(space: Int) -> KeyID? {
    get {
      assert(space < FourKeyIDs.spaces, "key space \(space) is looked up at release, not carried")
      return firstFour[space]
    }
    set { firstFour[space] = newValue }
  }

  /// The presence bits of `space`'s deferred key (``FourKeyIDs/deferredBits(_:)``); only the
  /// first four spaces defer.
  @inline(__always)
  func deferredBits(_ space: Int) -> UInt32? { firstFour.deferredBits(space) }

  /// Replaces `space`'s deferred key (one of the first four) with the id the space holds for it.
  @inline(__always)
  mutating func resolveDeferred(space: Int, to id: KeyID) { firstFour[space] = id }

  /// Marks key space `space` (one of the first four) as deferred, with its key's presence bits.
  @inline(__always)
  mutating func markDeferred(space: Int, bits: UInt32) { firstFour.markDeferred(space: space, bits: bits) }

  /// ``markDeferred(space:bits:)`` with the presence bits of the key's `probe` (not missing).
  @inline(__always)
  mutating func markDeferred(space: Int, probe: KeySpace.Probe) {
    assert(!probe.isMissing, "a missing key is not deferred")
    markDeferred(space: space, bits: KeyPresence.bits(of: probe.hash))
  }
}
