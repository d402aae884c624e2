/// Key ids of the first four key spaces as plain data (no reference counting to copy it), for
/// ``KeyIDs`` and the reorder buffer's prefetch hints.
struct FourKeyIDs {
  static let missing = UInt32.max
  private var ids: (UInt32, UInt32, UInt32, UInt32) = (missing, missing, missing, missing)

  /// The id in `space`, `nil` when missing or when `space` is not one of the first four.
  /// Always inlined: with the release loop inlined into the engine, the optimiser stopped
  /// inlining it there (~100 instructions per W1 event in calls).
  @inline(__always)
  subscript(space: Int) -> KeyID? {
    get {
      let raw: UInt32
      switch space {
      case 0: raw = ids.0
      case 1: raw = ids.1
      case 2: raw = ids.2
      case 3: raw = ids.3
      default: return nil
      }
      return raw == Self.missing ? nil : KeyID(Int(raw))
    }
    set {
      let raw = newValue.map(\.rawValue) ?? Self.missing
      switch space {
      case 0: ids.0 = raw
      case 1: ids.1 = raw
      case 2: ids.2 = raw
      case 3: ids.3 = raw
      default: preconditionFailure("FourKeyIDs holds key spaces 0–3, not \(space)")
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
