/// An event's key in each key space, without a heap allocation for up to four key spaces
/// (rule sets rarely partition by more than four different field lists).
struct KeyIDs {
  private static let missing = UInt32.max
  private var inline: (UInt32, UInt32, UInt32, UInt32) = (missing, missing, missing, missing)
  private var overflow: [UInt32]

  /// Room for `count` key spaces, all missing.
  init(count: Int) {
    overflow = count > 4 ? Array(repeating: Self.missing, count: count - 4) : []
  }

  /// The raw ids of the first four key spaces (`UInt32.max` when missing), for cache hints.
  var firstFour: (UInt32, UInt32, UInt32, UInt32) { inline }

  subscript(space: Int) -> KeyID? {
    get {
      let raw: UInt32
      switch space {
      case 0: raw = inline.0
      case 1: raw = inline.1
      case 2: raw = inline.2
      case 3: raw = inline.3
      default: raw = overflow[space - 4]
      }
      return raw == Self.missing ? nil : KeyID(Int(raw))
    }
    set {
      let raw = newValue.map(\.rawValue) ?? Self.missing
      switch space {
      case 0: inline.0 = raw
      case 1: inline.1 = raw
      case 2: inline.2 = raw
      case 3: inline.3 = raw
      default: overflow[space - 4] = raw
      }
    }
  }
}
