/// Key ids of the first four key spaces as plain data (no reference counting to copy it), for
/// ``KeyIDs`` and the reorder buffer's prefetch hints.
struct FourKeyIDs {
  static let missing = UInt32.max
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
      let word = space < 2 ? low : high
      let raw = UInt32(truncatingIfNeeded: word &>> UInt64(truncatingIfNeeded: (space & 1) &* 32))
      return raw == Self.missing ? nil : KeyID(Int(raw))
    }
    set {
      precondition(UInt(bitPattern: space) < 4, "FourKeyIDs holds key spaces 0–3, not \(space)")
      let raw = UInt64(newValue.map(\.rawValue) ?? Self.missing)
      let shift = UInt64(truncatingIfNeeded: (space & 1) &* 32)
      let keep = ~(UInt64(UInt32.max) &<< shift)
      if space < 2 {
        low = low & keep | raw &<< shift
      } else {
        high = high & keep | raw &<< shift
      }
    }
  }
}

/// An event's key in each key space, without a heap allocation for up to four key spaces
/// (rule sets rarely partition by more than four different field lists).
struct KeyIDs {
  /// The ids of the first four key spaces.
  private(set) var firstFour = FourKeyIDs()
  private var overflow: [UInt32]

  /// Room for `count` key spaces, all missing.
  init(count: Int) {
    overflow = count > 4 ? Array(repeating: FourKeyIDs.missing, count: count - 4) : []
  }

  subscript(space: Int) -> KeyID? {
    get {
      if space < 4 { return firstFour[space] }
      let raw = overflow[space - 4]
      return raw == FourKeyIDs.missing ? nil : KeyID(Int(raw))
    }
    set {
      if space < 4 {
        firstFour[space] = newValue
      } else {
        overflow[space - 4] = newValue.map(\.rawValue) ?? FourKeyIDs.missing
      }
    }
  }
}
